"""Mailing lists: an mbox archive (RFC 4155), as list servers (Mailman, Pipermail, Google
Groups' takeout) let anyone download them.

Messages are read with :class:`mailbox.mbox`. A person is their address (``From``, lower
case). A message replies to the one its ``In-Reply-To`` names, else the last of its
``References`` (RFC 5322 §3.6.4); its thread is the first of ``References``. The list
(``List-Id``, RFC 2919) is the community. A reply whose own words (quoted lines left out)
thank the message it answers is that message's acknowledgement by the reply's author.
"""

from __future__ import annotations

import hashlib
import mailbox
import re
from datetime import UTC
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from issuer.core.activity.model import (
    Archive,
    ArchiveUnreadable,
    Interaction,
    ItemError,
    Limits,
    content_sha256,
    link_replies,
)
from issuer.core.activity.rules import says_thanks

__all__ = ["PLATFORM", "read_mbox"]

PLATFORM = "mbox"
_IDS = re.compile(r"<([^<>\s]+)>")
_LIST_ID = re.compile(r"<([^<>\s]+)>")
_CHUNK = 1024 * 1024


def _file_sha256(path: Path, limits: Limits) -> str:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        head = stream.read(5)
        if head and head != b"From ":
            raise ArchiveUnreadable("this is not an mbox file: it does not begin with 'From '")
        digest.update(head)
        size = len(head)
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise ArchiveUnreadable(f"the archive is larger than {limits.max_bytes} bytes")
            digest.update(chunk)
    return digest.hexdigest()


def _text(message: Message) -> str:
    """The first plain-text part, decoded as its charset says (replacing what it cannot)."""
    for part in message.walk():
        if part.get_content_maintype() == "multipart" or part.get_content_type() != "text/plain":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            charset = part.get_content_charset() or "utf-8"
            try:
                return payload.decode(charset, errors="replace")
            except LookupError:
                return payload.decode("utf-8", errors="replace")
    return ""


def read_mbox(path: Path, *, limits: Limits | None = None) -> Archive:
    """The messages of the mbox at ``path``."""
    limits = limits or Limits()
    archive = Archive(PLATFORM, _file_sha256(path, limits))
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            if archive.past_limit(number, limits):
                break
            try:
                # Parsing happens here: a "From " line that is not ASCII is this item's error.
                message = box[key]
                archive.interactions.append(_message(message, archive.source_sha256))
            except (ValueError, LookupError, TypeError) as exc:
                archive.errors.append(ItemError(number, str(exc)))
    finally:
        box.close()
    archive.interactions = link_replies(archive.interactions)
    return archive


def _message(message: Message, digest: str) -> Interaction:
    ids = _IDS.findall(str(message.get("Message-ID", "")))
    if not ids:
        raise ValueError("a message without a Message-ID")
    _, address = parseaddr(str(message.get("From", "")))
    if "@" not in address:
        raise ValueError(f"message {ids[0]} has no sender address")
    date = message.get("Date")
    created = parsedate_to_datetime(str(date)) if date else None
    if created is not None and created.tzinfo is None:
        raise ValueError(f"message {ids[0]} has a Date without a time zone")
    created = created.astimezone(UTC) if created is not None else None
    references = _IDS.findall(str(message.get("References", "")))
    replied = _IDS.findall(str(message.get("In-Reply-To", "")))
    parent = replied[0] if replied else (references[-1] if references else None)
    listed = _LIST_ID.findall(str(message.get("List-Id", "")))
    text = _text(message)
    return Interaction(
        platform=PLATFORM, post_id=ids[0], author=address.lower(), created=created,
        thread=references[0] if references else (parent or ids[0]),
        community=listed[0] if listed else PLATFORM,
        reply_to_post=parent, content_sha256=content_sha256(text), source_sha256=digest,
        opens_thread=parent is None, says_thanks=parent is not None and says_thanks(text))
