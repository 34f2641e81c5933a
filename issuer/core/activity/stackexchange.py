"""Stack Exchange: the data dump's ``Posts.xml`` (and ``Users.xml``) and the API's JSON.

The dump (https://archive.org/details/stackexchange; one ``row`` element per post) is read
as a stream with :func:`xml.etree.ElementTree.iterparse`, each row cleared once read, so a
site's whole history fits in memory as compact records. ``PostTypeId`` 1 is a question, 2 an
answer (``ParentId`` its question); a question's ``AcceptedAnswerId`` is the answer its asker
accepted, so the acceptance is by the question's ``OwnerUserId``. Other post types (tag
wikis, moderator notes) are not interactions between people and are skipped.

The XML is refused if it declares a document type or entities: nothing in a dump needs them,
and they are how XML bombs and external entities get in. The bytes are checked as they are
read, before the parser sees them.

The API's JSON (``/questions/{ids}`` and ``/questions/{ids}/answers``, a wrapper with
``items``) gives answers (``answer_id``, ``question_id``, ``is_accepted``, ``owner.user_id``,
``link``, ``creation_date`` in Unix seconds) and, when included, their questions.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, BinaryIO
from xml.etree import ElementTree

from issuer.core.activity.model import (
    ACCEPTED,
    Acknowledgement,
    Archive,
    ArchiveUnreadable,
    Interaction,
    ItemError,
    Limits,
    content_sha256,
    link_replies,
    parse_time,
    read_json_document,
)

__all__ = ["PLATFORM", "read_api_json", "read_posts_xml", "read_users_xml"]

PLATFORM = "stackexchange"
_CHUNK = 64 * 1024
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")
#: Encodings in which the forbidden declarations are seen in the raw bytes.
_ASCII_COMPATIBLE = frozenset({"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1",
                               "latin1"})
_DECLARED = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class _GuardedStream:
    """A file as :func:`iterparse` reads it, checked on the way: the size limit, the
    SHA-256 of every byte, and no DTD, entity declaration or encoding that could hide one."""

    def __init__(self, stream: BinaryIO, limits: Limits) -> None:
        self._stream = stream
        self._limit = limits.max_bytes
        self._tail = b""
        self._first = True
        self.size = 0
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(_CHUNK if size is None or size < 0 else min(size, _CHUNK))
        self.size += len(chunk)
        if self.size > self._limit:
            raise ArchiveUnreadable(f"the archive is larger than {self._limit} bytes")
        self.digest.update(chunk)
        if self._first and chunk:
            self._first = False
            self._check_encoding(chunk)
        window = self._tail + chunk
        if b"\x00" in chunk or any(marker in window for marker in _FORBIDDEN):
            raise ArchiveUnreadable(
                "the XML declares a document type or entities (or is not UTF-8), which a "
                "Stack Exchange dump never does; it is refused")
        self._tail = window[-(len(_FORBIDDEN[0]) - 1):]
        return chunk

    def drain(self) -> str:
        """Read what the parser left (after the item limit or a break) so that the hash is
        the whole file's, within the size limit; the hex SHA-256."""
        while chunk := self._stream.read(_CHUNK):
            self.size += len(chunk)
            if self.size > self._limit:
                raise ArchiveUnreadable(f"the archive is larger than {self._limit} bytes")
            self.digest.update(chunk)
        return self.digest.hexdigest()

    @staticmethod
    def _check_encoding(chunk: bytes) -> None:
        body = chunk.removeprefix(b"\xef\xbb\xbf")
        declared = _DECLARED.match(body)
        if declared and declared.group(1).decode("ascii").lower() not in _ASCII_COMPATIBLE:
            raise ArchiveUnreadable("the XML is not in UTF-8, as a Stack Exchange dump is")


def _rows(stream: BinaryIO, limits: Limits, archive: Archive,
          root: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Each ``row`` element's attributes, in order, with its item number; the whole file's
    hash goes to ``archive.source_sha256`` once the rows have been read."""
    guarded = _GuardedStream(stream, limits)
    count = 0
    top: ElementTree.Element | None = None
    try:
        # The guarded stream refuses DTDs and entities before expat sees a byte of them.
        events = ElementTree.iterparse(guarded, events=("start", "end"))  # noqa: S314
        for event, element in events:
            if top is None:
                if element.tag != root:
                    raise ArchiveUnreadable(f"this is not a Stack Exchange {root}.xml file "
                                            f"(its root is <{element.tag}>)")
                top = element
            if event == "start" or element.tag != "row":
                continue
            count += 1
            if archive.past_limit(count, limits):
                break
            attributes = dict(element.attrib)
            # Rows already read are dropped from the tree, so memory does not grow with it.
            top.clear()
            yield count, attributes
    except ElementTree.ParseError as exc:
        if top is None:
            raise ArchiveUnreadable(f"the file is not XML: {exc}") from None
        archive.errors.append(ItemError(count + 1, f"the XML breaks off after item {count} "
                                                   f"({exc}); the items before were read"))
    archive.source_sha256 = guarded.drain()


def _number(attributes: dict[str, str], name: str) -> str | None:
    value = attributes.get(name)
    if value is None or value == "":
        return None
    if not value.lstrip("-").isdigit():
        raise ValueError(f"{name} {value!r} is not a number")
    return str(int(value))


def _post(row: dict[str, str], site: str | None) -> tuple[Interaction, str | None] | None:
    """A row as an interaction, with the answer it accepted if it is a question; None for
    the post types that are not interactions. Raises ValueError for a broken row."""
    post_id = _number(row, "Id")
    kind = _number(row, "PostTypeId")
    if post_id is None or kind is None:
        raise ValueError("a row without Id or PostTypeId")
    if kind not in ("1", "2"):
        return None
    author = _number(row, "OwnerUserId")
    created = parse_time(row.get("CreationDate"))
    parent = _number(row, "ParentId")
    if kind == "2" and parent is None:
        raise ValueError(f"answer {post_id} has no ParentId")
    _number(row, "Score")  # a score is never a criterion, but it must be a number
    accepted = _number(row, "AcceptedAnswerId") if kind == "1" else None
    path = "q" if kind == "1" else "a"
    return Interaction(
        platform=PLATFORM, post_id=post_id, author=author, created=created,
        thread=post_id if kind == "1" else str(parent), community=site or PLATFORM,
        permalink=f"https://{site}/{path}/{post_id}" if site else None,
        reply_to_post=parent if kind == "2" else None,
        content_sha256=content_sha256(row.get("Body")),
        opens_thread=kind == "1"), accepted


def read_posts_xml(stream: BinaryIO, *, site: str | None = None, handle: str | None = None,
                   limits: Limits | None = None) -> Archive:
    """The interactions of a dump's ``Posts.xml``; ``site`` (e.g. ``cooking.stackexchange.com``)
    names the community and makes permalinks.

    With ``handle`` (an ``OwnerUserId``) only what a summary of that person needs is kept, in
    two passes over a seekable stream: first their own posts, then the questions they
    answered and the answers to their questions. Memory then follows that person's activity,
    not the size of the site, and :func:`issuer.core.activity.rules.summarise` gives the same
    numbers for them as from the whole file.
    """
    limits = limits or Limits()
    archive = Archive(PLATFORM, "")
    accepted: dict[str, str | None] = {}  # answer id → the asker who accepted it
    wanted: set[str] = set()  # posts of others a summary of ``handle`` needs
    questions: set[str] = set()  # ``handle``'s questions, whose answers it needs
    for number, row in _rows(stream, limits, archive, "posts"):
        try:
            read = _post(row, site)
        except ValueError as exc:
            archive.errors.append(ItemError(number, str(exc)))
            continue
        if read is None or (handle is not None and read[0].author != handle):
            continue
        post, answer = read
        archive.interactions.append(post)
        if answer is not None:
            accepted[answer] = post.author
        if handle is not None:
            if post.opens_thread:
                questions.add(post.post_id)
            if post.reply_to_post is not None:
                wanted.add(post.reply_to_post)
            if answer is not None:
                wanted.add(answer)
    if handle is not None and (wanted or questions):
        stream.seek(0)
        again = Archive(PLATFORM, "")
        for _, row in _rows(stream, limits, again, "posts"):
            try:
                read = _post(row, site)
            except ValueError:
                continue  # already listed from the first pass
            if read is None or read[0].author == handle or not (
                    read[0].post_id in wanted or read[0].reply_to_post in questions):
                continue
            post, answer = read
            archive.interactions.append(post)
            if answer is not None:
                accepted[answer] = post.author
    posts = link_replies(archive.interactions)
    archive.interactions = [_finished(p, accepted, archive.source_sha256) for p in posts]
    return archive


def _finished(post: Interaction, accepted: dict[str, str | None], digest: str) -> Interaction:
    if post.opens_thread or post.post_id not in accepted:
        return replace(post, source_sha256=digest)
    # The dump does not say when the answer was accepted: not before it was written.
    mark = Acknowledgement(ACCEPTED, accepted[post.post_id], post.created)
    return replace(post, source_sha256=digest, acknowledgements=(*post.acknowledgements, mark))


def read_users_xml(stream: BinaryIO, *, limits: Limits | None = None) -> Archive:
    """A dump's ``Users.xml``: when each account was created (``Id`` → ``CreationDate``)."""
    limits = limits or Limits()
    archive = Archive(PLATFORM, "")
    for number, row in _rows(stream, limits, archive, "users"):
        try:
            user = _number(row, "Id")
            created = parse_time(row.get("CreationDate"))
        except ValueError as exc:
            archive.errors.append(ItemError(number, str(exc)))
            continue
        if user is not None and created is not None:
            archive.accounts_created[user] = created
    return archive


def read_api_json(stream: BinaryIO, *, limits: Limits | None = None) -> Archive:
    """Answers (and questions) from the Stack Exchange API's ``items`` wrapper."""
    limits = limits or Limits()
    archive, document = read_json_document(stream, limits, PLATFORM)
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ArchiveUnreadable("this is not a Stack Exchange API answer: no 'items' list")
    accepted: dict[str, str | None] = {}
    askers: dict[str, str | None] = {}
    answers: list[tuple[Interaction, bool]] = []
    for number, item in enumerate(items, start=1):
        if archive.past_limit(number, limits):
            break
        try:
            post, is_accepted = _api_item(item, archive.source_sha256)
        except (ValueError, TypeError, OverflowError) as exc:
            archive.errors.append(ItemError(number, str(exc)))
            continue
        if post.opens_thread:
            askers[post.post_id] = post.author
            if isinstance(item.get("accepted_answer_id"), int):
                accepted[str(item["accepted_answer_id"])] = post.author
            archive.interactions.append(post)
        else:
            answers.append((post, is_accepted))
    for post, is_accepted in answers:
        asker = askers.get(post.thread)
        marks = post.acknowledgements
        if is_accepted or post.post_id in accepted:
            # Only the asker can accept an answer; who that is, the answer alone does not say.
            marks = (Acknowledgement(ACCEPTED, asker, post.created),)
        archive.interactions.append(replace(post, reply_to_person=asker, acknowledgements=marks))
    return archive


def _api_item(item: Any, digest: str) -> tuple[Interaction, bool]:
    if not isinstance(item, dict):
        raise ValueError("an item that is not an object")
    question = item.get("question_id")
    if not isinstance(question, int) or isinstance(question, bool):
        raise ValueError("an item without a numeric question_id")
    answer = item.get("answer_id")
    if answer is not None and (not isinstance(answer, int) or isinstance(answer, bool)):
        raise ValueError("answer_id is not a number")
    owner = item.get("owner")
    user = owner.get("user_id") if isinstance(owner, dict) else None
    if user is not None and (not isinstance(user, int) or isinstance(user, bool)):
        raise ValueError("owner.user_id is not a number")
    link = item.get("link")
    accepted = item.get("is_accepted", False)
    if not isinstance(accepted, bool):
        raise ValueError("is_accepted is not true or false")
    post = Interaction(
        platform=PLATFORM, post_id=str(answer if answer is not None else question),
        author=None if user is None else str(user),
        created=parse_time(item.get("creation_date")), thread=str(question),
        community=PLATFORM, permalink=link if isinstance(link, str) else None,
        reply_to_post=str(question) if answer is not None else None,
        content_sha256=content_sha256(item.get("body") if isinstance(item.get("body"), str)
                                      else None),
        source_sha256=digest, opens_thread=answer is None)
    return post, accepted
