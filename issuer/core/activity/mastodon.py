"""Mastodon and other ActivityPub servers: the account archive's ``outbox.json``.

The outbox is an ActivityStreams 2.0 ``OrderedCollection`` whose ``orderedItems`` are the
account's own activities; a ``Create`` of a ``Note`` is a post, with ``published``, ``url``,
``inReplyTo`` (the id of the post answered) and ``tag`` entries of type ``Mention`` (``name``
``@user@host``). Boosts (``Announce``) are not the person's words and are skipped.

Whom a reply answers: the author of ``inReplyTo`` is not in the archive, so it is the
account the reply mentions whose profile the replied-to id sits under
(``https://host/users/name/...``), else the first mention. People are written ``name@host``.
The archive holds only the owner's posts, so it can show whom they answered and whom they
thanked, not the thanks they received.
"""

from __future__ import annotations

from typing import Any, BinaryIO
from urllib.parse import urlsplit

from issuer.core.activity.model import (
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
from issuer.core.activity.rules import says_thanks

__all__ = ["PLATFORM", "account_name", "read_outbox_json"]

PLATFORM = "mastodon"


def account_name(value: str) -> str | None:
    """``name@host`` for an actor URL (``https://host/users/name``, ``https://host/@name``)
    or a mention (``@name@host``); None when it is neither."""
    value = value.strip()
    if value.startswith("@") or ("@" in value and "/" not in value):
        parts = value.lstrip("@").split("@")
        return f"{parts[0]}@{parts[1]}".lower() if len(parts) == 2 and all(parts) else None
    url = urlsplit(value)
    path = [p for p in url.path.split("/") if p]
    if url.scheme not in ("https", "http") or not url.hostname or not path:
        return None
    if path[0].startswith("@"):
        return f"{path[0][1:]}@{url.hostname}".lower()
    if path[0] == "users" and len(path) >= 2:
        return f"{path[1]}@{url.hostname}".lower()
    return None


def read_outbox_json(stream: BinaryIO, *, limits: Limits | None = None) -> Archive:
    """The posts of an account archive's ``outbox.json``."""
    limits = limits or Limits()
    archive, outbox = read_json_document(stream, limits, PLATFORM)
    items = outbox.get("orderedItems") if isinstance(outbox, dict) else None
    if not isinstance(items, list):
        raise ArchiveUnreadable("this is not an ActivityPub outbox: no orderedItems list")
    for number, activity in enumerate(items, start=1):
        if archive.past_limit(number, limits):
            break
        try:
            post = _note(activity, archive.source_sha256)
        except (ValueError, TypeError, OverflowError) as exc:
            archive.errors.append(ItemError(number, str(exc)))
            continue
        if post is not None:
            archive.interactions.append(post)
    archive.interactions = link_replies(archive.interactions)
    return archive


def _note(activity: Any, digest: str) -> Interaction | None:
    if not isinstance(activity, dict):
        raise ValueError("an item that is not an object")
    if activity.get("type") != "Create":
        return None
    note = activity.get("object")
    if not isinstance(note, dict) or note.get("type") != "Note":
        return None
    post_id = note.get("id")
    actor = activity.get("actor") or note.get("attributedTo")
    if not isinstance(post_id, str) or not isinstance(actor, str):
        raise ValueError("a Note without an id or an actor")
    author = account_name(actor)
    if author is None:
        raise ValueError(f"actor {actor!r} is not an account address")
    replied = note.get("inReplyTo")
    if replied is not None and not isinstance(replied, str):
        raise ValueError("inReplyTo is not a link")
    content = note.get("content")
    if content is not None and not isinstance(content, str):
        raise ValueError("content is not text")
    url = note.get("url")
    conversation = note.get("conversation")
    return Interaction(
        platform=PLATFORM, post_id=post_id, author=author,
        created=parse_time(note.get("published") or activity.get("published")),
        thread=conversation if isinstance(conversation, str) else (replied or post_id),
        community=(urlsplit(replied).hostname or PLATFORM) if replied
        else (urlsplit(post_id).hostname or PLATFORM),
        permalink=url if isinstance(url, str) else post_id,
        reply_to_post=replied, reply_to_person=_answered(replied, _mentions(note)),
        content_sha256=content_sha256(content), source_sha256=digest,
        opens_thread=replied is None, says_thanks=says_thanks(content))


def _mentions(note: dict[str, Any]) -> list[str]:
    tags = note.get("tag")
    if not isinstance(tags, list):
        return []
    found = []
    for tag in tags:
        if isinstance(tag, dict) and tag.get("type") == "Mention":
            name = tag.get("href") if isinstance(tag.get("href"), str) else tag.get("name")
            person = account_name(name) if isinstance(name, str) else None
            if person is not None:
                found.append(person)
    return found


def _answered(replied: str | None, mentioned: list[str]) -> str | None:
    if replied is None:
        return None
    owner = account_name(replied)
    if owner is not None and (owner in mentioned or not mentioned):
        return owner
    return mentioned[0] if mentioned else None
