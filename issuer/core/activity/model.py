"""Normalized interactions read from a community archive, and the bounds of reading one.

Every importer produces the same records, whatever the platform: who wrote which post, when,
in reply to which post and person, and who acknowledged it (an accepted answer, a solved
mark, a reaction, a reply that thanks). Content is kept only as its SHA-256, so the evidence
can be matched to the archive later without holding anyone's words. Reading is bounded
(:class:`Limits`); a broken item becomes an :class:`ItemError`, never a crash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, BinaryIO

from issuer.core.errors import EXIT_UNREADABLE, InputError

__all__ = [
    "ACCEPTED",
    "ACKNOWLEDGING_KINDS",
    "REACTION",
    "SOLVED",
    "THANKS",
    "Acknowledgement",
    "Archive",
    "ArchiveUnreadable",
    "Interaction",
    "ItemError",
    "Limits",
    "content_sha256",
    "link_replies",
    "parse_time",
    "read_bounded",
]

#: The asker marked the answer as the one that solved their question (Stack Exchange).
ACCEPTED = "accepted"
#: The topic's answer was marked as the solution (Discourse solved plugin).
SOLVED = "solved"
#: A like or similar reaction: recorded, never counted (popularity is not help).
REACTION = "reaction"
#: A later reply by the person helped that thanks the author.
THANKS = "thanks"
#: The kinds that acknowledge help; a reaction is not among them.
ACKNOWLEDGING_KINDS = frozenset({ACCEPTED, SOLVED, THANKS})


class ArchiveUnreadable(InputError):
    """The archive as a whole cannot be read: too big, not the format named, or unsafe XML."""

    exit_code = EXIT_UNREADABLE


@dataclass(frozen=True)
class Limits:
    """How much of an archive is read: bytes of the file and items (posts, messages).

    Streamed formats (XML dumps, mbox) are held to ``max_bytes``; formats parsed as one
    document (JSON, CSV) to the smaller of it and ``max_document_bytes``, since parsing one
    takes several times its size in memory.
    """

    max_bytes: int = 1024 * 1024 * 1024
    max_items: int = 500_000
    max_document_bytes: int = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """``kind`` one of :data:`ACCEPTED`, :data:`SOLVED`, :data:`REACTION`, :data:`THANKS`;
    ``by`` the person who acknowledged, when the archive says; ``at`` when, if it says."""

    kind: str
    by: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Interaction:
    """One post, answer, reply or message as the archive records it."""

    platform: str
    post_id: str
    author: str | None
    created: datetime | None
    thread: str
    community: str
    permalink: str | None = None
    reply_to_post: str | None = None
    reply_to_person: str | None = None
    acknowledgements: tuple[Acknowledgement, ...] = ()
    content_sha256: str | None = None
    source_sha256: str = ""
    #: The post opens a thread (a question, a topic, a first message).
    opens_thread: bool = False
    #: The post's own text thanks the post it replies to.
    says_thanks: bool = False


@dataclass(frozen=True)
class ItemError:
    """An item left out, and why; ``item`` counts items from 1 in the archive's order."""

    item: int
    message: str


@dataclass
class Archive:
    """What one file gave: its interactions, the items left out, and what it says of
    accounts (when each was created, where the archive tells)."""

    platform: str
    source_sha256: str
    interactions: list[Interaction] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    accounts_created: dict[str, datetime] = field(default_factory=dict)
    #: Reading stopped at :attr:`Limits.max_items`.
    truncated: bool = False

    def past_limit(self, number: int, limits: Limits) -> bool:
        """Whether item ``number`` is past :attr:`Limits.max_items`; if so, reading stops
        here and the archive says so (truncated, with an error naming the item)."""
        if number <= limits.max_items:
            return False
        self.truncated = True
        self.errors.append(ItemError(number, f"reading stopped after {limits.max_items} items"))
        return True


def content_sha256(text: str | bytes | None) -> str | None:
    """The hex SHA-256 of a post's content (UTF-8), or None when there is none."""
    if text is None:
        return None
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def read_bounded(stream: BinaryIO, limits: Limits) -> tuple[bytes, str]:
    """The whole stream and its SHA-256, refused when larger than the limit for documents."""
    limit = min(limits.max_bytes, limits.max_document_bytes)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ArchiveUnreadable(f"the archive is larger than {limit} bytes")
    return data, hashlib.sha256(data).hexdigest()


def read_json_document(stream: BinaryIO, limits: Limits, platform: str) -> tuple[Archive, Any]:
    """An empty :class:`Archive` of ``platform`` for a JSON file, and the file's JSON value.

    The whole file is read within the limit for documents and hashed; a file that is not
    JSON is unreadable as a whole, not item by item.
    """
    data, digest = read_bounded(stream, limits)
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveUnreadable(f"the file is not JSON: {exc}") from None
    return Archive(platform, digest), value


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 date-time (``Z``, `` UTC`` or an offset; none means UTC, as Stack Exchange
    dumps write it) or a Unix time in seconds, as an aware UTC datetime; None when absent.

    Raises ValueError for a value that is neither.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a time")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError) as exc:
            raise ValueError(f"{value!r} is not a time") from exc
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time")
    text = value.strip()
    # Discourse's CSV export writes "2024-05-01 09:00:00 UTC".
    text = text.removesuffix(" UTC") + "+00:00" if text.endswith(" UTC") else text
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def link_replies(interactions: Iterable[Interaction]) -> list[Interaction]:
    """Fill in whom each reply answers (the author of the post it replies to, where the
    archive did not say) and turn a reply that thanks into an acknowledgement of its parent.

    A thank-you counts only from the person the parent post was helping (the author of the
    post the parent replied to), and never from the parent's own author: a third person's
    thanks, or thanking oneself, says nothing about help given.
    """
    posts = list(interactions)
    authors = {p.post_id: p.author for p in posts}
    posts = [
        replace(p, reply_to_person=authors.get(p.reply_to_post))
        if p.reply_to_person is None and p.reply_to_post in authors else p
        for p in posts
    ]
    index = {p.post_id: i for i, p in enumerate(posts)}
    for reply in posts:
        if not reply.says_thanks or reply.reply_to_post not in index:
            continue
        at = index[reply.reply_to_post]
        parent = posts[at]
        if (reply.author is None or reply.author == parent.author
                or parent.reply_to_person != reply.author):
            continue
        thanks = Acknowledgement(THANKS, reply.author, reply.created)
        posts[at] = replace(parent, acknowledgements=(*parent.acknowledgements, thanks))
    return posts
