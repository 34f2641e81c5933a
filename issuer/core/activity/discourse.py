"""Discourse: a topic as the API returns it (``/t/{id}.json``) and a user's ``user_archive.csv``.

A topic's ``post_stream.posts`` carry ``username``, ``post_number``, ``reply_to_post_number``
(and ``reply_to_user.username``), ``created_at`` and ``cooked`` HTML. A post with no
``reply_to_post_number`` after the first replies to the topic, that is to its author. The
solved plugin marks the solution with ``accepted_answer: true`` on the post and, on the topic,
``accepted_answer`` with ``post_number`` and (in recent versions) ``accepter_username``; when
the accepter is not named it is taken to be the topic's author, who normally marks it.

The API pages a long topic (20 posts a page); ``/t/{id}.json?print=true`` returns up to
1,000 posts in one file. Only the posts the file holds are read.

Likes (``actions_summary`` entry with ``id`` 2) are anonymous counts: recorded as one
``reaction`` on the post, never counted as help.

``user_archive.csv`` (Preferences → Download my posts) lists one person's posts only, with
``url``, ``created_at`` and ``post_raw``, but not whom they replied to: it shows activity,
never help to someone.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from issuer.core.activity.model import (
    REACTION,
    SOLVED,
    Acknowledgement,
    Archive,
    ArchiveUnreadable,
    Interaction,
    ItemError,
    Limits,
    content_sha256,
    link_replies,
    parse_time,
    read_bounded,
    read_json_document,
)
from issuer.core.activity.rules import says_thanks

__all__ = ["PLATFORM", "read_topic_json", "read_user_archive_csv"]

PLATFORM = "discourse"
_LIKE = 2
_CSV_COLUMNS = frozenset({"url", "created_at"})


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} is not text")
    return value


def _int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} is not a number")
    return value


def read_topic_json(stream: BinaryIO, *, forum: str | None = None,
                    limits: Limits | None = None) -> Archive:
    """The posts of one topic; ``forum`` (a host such as ``forum.example.org``) names the
    community and makes permalinks."""
    limits = limits or Limits()
    archive, topic = read_json_document(stream, limits, PLATFORM)
    posts = (topic.get("post_stream") or {}).get("posts") if isinstance(topic, dict) else None
    if not isinstance(posts, list) or not isinstance(topic.get("id"), int):
        raise ArchiveUnreadable("this is not a Discourse topic: no id or post_stream.posts")
    topic_id = topic["id"]
    slug = topic.get("slug") if isinstance(topic.get("slug"), str) else "-"
    category = topic.get("category_id")
    community = forum or (f"{PLATFORM}:category:{category}" if isinstance(category, int)
                          else PLATFORM)
    solution = topic.get("accepted_answer") if isinstance(topic.get("accepted_answer"),
                                                          dict) else {}
    accepter = solution.get("accepter_username")
    numbers: dict[int, str] = {}
    sources: list[dict[str, Any]] = []
    for number, post in enumerate(posts, start=1):
        if archive.past_limit(number, limits):
            break
        try:
            read = _post(post, topic_id, slug, community, forum, archive.source_sha256, numbers)
        except (ValueError, TypeError, OverflowError) as exc:
            archive.errors.append(ItemError(number, str(exc)))
            continue
        archive.interactions.append(read)
        sources.append(post)
    opener = numbers.get(1)
    archive.interactions = link_replies(archive.interactions)
    solved_number = solution.get("post_number")
    marked = []
    for post, source in zip(archive.interactions, sources, strict=True):
        marks = list(post.acknowledgements)
        if not post.opens_thread and (source.get("accepted_answer") is True or (
                solved_number is not None and post.post_id == f"{topic_id}/{solved_number}")):
            by = accepter if isinstance(accepter, str) else opener
            marks.append(Acknowledgement(SOLVED, by, None))
        if _liked(source):
            marks.append(Acknowledgement(REACTION, None, None))
        marked.append(replace(post, acknowledgements=tuple(marks)))
    archive.interactions = marked
    return archive


def _liked(source: dict[str, Any]) -> bool:
    actions = source.get("actions_summary")
    if not isinstance(actions, list):
        return False
    return any(isinstance(a, dict) and a.get("id") == _LIKE and isinstance(a.get("count"), int)
               and a["count"] > 0 for a in actions)


def _post(post: Any, topic_id: int, slug: str, community: str, forum: str | None,
          digest: str, numbers: dict[int, str]) -> Interaction:
    if not isinstance(post, dict):
        raise ValueError("a post that is not an object")
    number = _int(post.get("post_number"), "post_number")
    if number is None or number < 1:
        raise ValueError("a post without a post_number")
    username = _text(post.get("username"), "username")
    reply_number = _int(post.get("reply_to_post_number"), "reply_to_post_number")
    reply_user = post.get("reply_to_user")
    reply_person = _text(reply_user.get("username"), "reply_to_user.username") if isinstance(
        reply_user, dict) else None
    if reply_number is None and number > 1:
        reply_number = 1  # a reply to the topic itself
    created = parse_time(_text(post.get("created_at"), "created_at"))
    text = _text(post.get("cooked"), "cooked") or _text(post.get("raw"), "raw")
    if reply_person is None and reply_number == 1 and 1 in numbers:
        reply_person = numbers[1]
    if username is not None:
        numbers[number] = username
    return Interaction(
        platform=PLATFORM, post_id=f"{topic_id}/{number}", author=username, created=created,
        thread=str(topic_id), community=community,
        permalink=f"https://{forum}/t/{slug}/{topic_id}/{number}" if forum else None,
        reply_to_post=f"{topic_id}/{reply_number}" if reply_number is not None else None,
        reply_to_person=reply_person, content_sha256=content_sha256(text),
        source_sha256=digest, opens_thread=number == 1, says_thanks=says_thanks(text))


def read_user_archive_csv(stream: BinaryIO, *, owner: str,
                          limits: Limits | None = None) -> Archive:
    """``owner``'s posts from their ``user_archive.csv`` (the file does not name its owner)."""
    limits = limits or Limits()
    data, digest = read_bounded(stream, limits)
    archive = Archive(PLATFORM, digest)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ArchiveUnreadable("the file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or not _CSV_COLUMNS <= set(reader.fieldnames):
        raise ArchiveUnreadable("this is not a Discourse user_archive.csv: it needs the "
                                "columns url and created_at")
    try:
        for number, row in enumerate(reader, start=1):
            if archive.past_limit(number, limits):
                break
            try:
                archive.interactions.append(_csv_post(row, owner, digest))
            except ValueError as exc:
                archive.errors.append(ItemError(number, str(exc)))
    except csv.Error as exc:
        archive.errors.append(ItemError(reader.line_num, f"the CSV breaks off: {exc}"))
    return archive


def _csv_post(row: dict[str, str | None], owner: str, digest: str) -> Interaction:
    url = (row.get("url") or "").strip()
    parts = urlsplit(url)
    path = [p for p in parts.path.split("/") if p]
    # https://forum.example.org/t/{slug}/{topic id}/{post number}
    if parts.scheme != "https" or len(path) < 3 or path[0] != "t" or not path[-1].isdigit():
        raise ValueError(f"url {url!r} is not a Discourse post link")
    topic, number = (path[-2], path[-1]) if len(path) >= 4 else (path[-1], "1")
    if not topic.isdigit():
        raise ValueError(f"url {url!r} is not a Discourse post link")
    return Interaction(
        platform=PLATFORM, post_id=f"{topic}/{number}", author=owner,
        created=parse_time(row.get("created_at")), thread=topic,
        community=parts.hostname or PLATFORM, permalink=url,
        content_sha256=content_sha256(row.get("post_raw")), source_sha256=digest,
        opens_thread=number == "1")
