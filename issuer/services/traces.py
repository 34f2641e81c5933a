"""From community traces to a claim: a learner imports an archive they downloaded, reviews
what was found, and picks the acts of help that become evidence.

An upload is spooled to a temporary file within ``trace_upload_max_bytes`` (the request
itself is cut off there too) and read by :mod:`issuer.core.activity` within
:data:`MAX_ITEMS` items, so both its size and its reading time are bounded; an item that
cannot be read is listed with its number and left out, and a file that cannot be read at all
is one 422 answer. Only what the counting rules need is kept of other people (their handle,
post ids, times, acknowledgements and the SHA-256 of their words, never the words).

Each picked act of help becomes an evidence item whose ``url`` is the post's permalink; its
``genre`` (from :data:`GENRES`), ``audience`` and provenance (platform, post id, time,
acknowledgement and by whom, content and archive SHA-256) stay on the trace item linked to it,
and :func:`provenance_of` gives them to the credential (OB 3.0 §B.1.9 Evidence).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.activity.model import (
    ACKNOWLEDGING_KINDS,
    Acknowledgement,
    Archive,
    ArchiveUnreadable,
    Interaction,
    Limits,
)
from issuer.core.activity.rules import Summary, summarise
from issuer.services import audit
from issuer.services import claims as claim_service
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.trace_provenance import (
    PLATFORM_WORDS,
    Provenance,
    captures_of,
    linked_items,
    provenance_of,
)
from issuer.storage.learning import Claim, EvidenceRecord, Learner
from issuer.storage.traces import TraceImport, TraceItem

#: The files a learner can upload: kind → (format, what the page calls it).
SOURCES: dict[str, tuple[str, str]] = {
    "posts_xml": ("stackexchange", "Stack Exchange data dump: Posts.xml"),
    "api_json": ("stackexchange", "Stack Exchange API: answers JSON"),
    "topic_json": ("discourse", "Discourse: a topic's JSON"),
    "user_archive_csv": ("discourse", "Discourse: user_archive.csv"),
    "outbox_json": ("mastodon", "Mastodon: outbox.json of the account archive"),
    "mbox": ("mbox", "Mailing list or Google Group: mbox"),
}
#: OB 3.0 §B.1.9 ``genre``: the kinds of help evidence this service names.
GENRES = ("Forum answer", "Mailing-list reply", "Chat thread reply", "Social post",
          "Code review comment")
DEFAULT_GENRE = {"stackexchange": "Forum answer", "discourse": "Forum answer",
                 "mastodon": "Social post", "mbox": "Mailing-list reply"}
#: Posts or messages read from one upload at most: with the size limit, what bounds the time
#: an import takes.
MAX_ITEMS = 100_000
MAX_HANDLE = 320
MAX_AUDIENCE = 300
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+",
                   re.IGNORECASE)
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Pick:
    """One act of help the learner chose, with the words they give it."""

    item_id: int
    genre: str
    audience: str | None = None
    narrative: str | None = None
    #: The post's web address, for an archive that does not give one (a mail message in the
    #: list's web archive, a dump read without its site's name).
    url: str | None = None


@dataclass(frozen=True)
class Helped:
    """A person an act of help in the claim answered, to suggest for an attestation."""

    handle: str
    platform: str
    #: A mail address when the archive shows one (mbox); otherwise the learner gives it.
    email: str | None
    permalinks: tuple[str, ...]


# --- importing ------------------------------------------------------------------------------


def normal_handle(fmt: str, handle: str) -> str:
    """The handle written the way the archive writes its people."""
    from issuer.core.activity.mastodon import account_name

    handle = handle.strip()
    if fmt == "mastodon":
        return account_name(handle) or handle.lower()
    if fmt == "mbox":
        return handle.lower()
    if fmt == "stackexchange" and handle.isdigit():
        return str(int(handle))
    return handle


def _spool(stream: BinaryIO, folder: Path, max_bytes: int) -> tuple[Path, int]:
    path = folder / "archive"
    size = 0
    with path.open("wb") as out:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise Invalid(f"The archive is larger than {max_bytes:,} bytes; upload a "
                              "smaller export (one site, topic or list).",
                              {"file": "too large"})
            out.write(chunk)
    if size == 0:
        raise Invalid("Choose the archive file to upload.", {"file": "choose a file"})
    return path, size


def _read(kind: str, path: Path, handle: str, site: str | None, limits: Limits) -> Archive:
    from issuer.core.activity import discourse, mastodon, mbox, stackexchange

    if kind == "mbox":
        return mbox.read_mbox(path, limits=limits)
    with path.open("rb") as stream:
        if kind == "posts_xml":
            return stackexchange.read_posts_xml(stream, site=site, handle=handle,
                                                limits=limits)
        if kind == "api_json":
            return stackexchange.read_api_json(stream, limits=limits)
        if kind == "topic_json":
            return discourse.read_topic_json(stream, forum=site, limits=limits)
        if kind == "user_archive_csv":
            return discourse.read_user_archive_csv(stream, owner=handle, limits=limits)
        return mastodon.read_outbox_json(stream, limits=limits)


def _kept(handle: str, posts: Sequence[Interaction]) -> list[Interaction]:
    """The learner's posts, the posts they replied to and the replies to theirs: what a
    summary of their help needs, reciprocity included."""
    own = {p.post_id for p in posts if p.author == handle}
    parents = {p.reply_to_post for p in posts if p.author == handle and p.reply_to_post}
    return [p for p in posts if p.author == handle or p.post_id in parents
            or p.reply_to_post in own or p.reply_to_person == handle]


def _acknowledged(post: Interaction) -> bool:
    return any(mark.kind in ACKNOWLEDGING_KINDS and mark.by is not None
               and mark.by == post.reply_to_person for mark in post.acknowledgements)


def _row(post: Interaction, handle: str, learner: Learner) -> TraceItem:
    own = post.author == handle
    return TraceItem(
        learner_id=learner.id, platform=post.platform, post_id=post.post_id[:500],
        permalink=(post.permalink or "")[:1000] or None, author=post.author,
        created=post.created, thread=post.thread[:500], community=post.community[:300],
        reply_to_post=post.reply_to_post[:500] if post.reply_to_post else None,
        reply_to_person=post.reply_to_person,
        acknowledgements=[{"kind": m.kind, "by": m.by,
                           "at": m.at.isoformat() if m.at else None}
                          for m in post.acknowledgements],
        content_sha256=post.content_sha256, source_sha256=post.source_sha256,
        opens_thread=post.opens_thread, says_thanks=post.says_thanks, own=own,
        answers_other=own and post.reply_to_person is not None
        and post.reply_to_person != handle,
        acknowledged=own and _acknowledged(post))


def import_archive(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim, *,
                   kind: str, handle: str, stream: BinaryIO, file_name: str | None,
                   site: str | None = None) -> TraceImport:
    """Read an uploaded archive for ``handle`` and keep what was found, with the items that
    could not be read (row-level errors); Invalid when the file cannot be read at all."""
    claim_service.own_claim(session, learner, claim.public_id)
    errors: dict[str, str] = {}
    if kind not in SOURCES:
        errors["kind"] = "choose the kind of archive"
    handle = (handle or "").strip()
    if not handle or len(handle) > MAX_HANDLE:
        errors["handle"] = "give your name in the archive (user id, username, account, " \
                           "or mail address)"
    site = (site or "").strip().lower() or None
    if site is not None and (len(site) > 253 or not _HOST.fullmatch(site)):
        errors["site"] = "give the site's host name, such as cooking.stackexchange.com"
    if errors:
        raise Invalid("Please check the upload: " + "; ".join(errors.values()), errors)
    fmt = SOURCES[kind][0]
    person = normal_handle(fmt, handle)
    max_bytes = ctx.settings.trace_upload_max_bytes
    limits = Limits(max_bytes=max_bytes, max_items=MAX_ITEMS, max_document_bytes=max_bytes)
    folder = Path(tempfile.mkdtemp(prefix="issuer-trace-"))
    try:
        path, size = _spool(stream, folder, max_bytes)
        try:
            archive = _read(kind, path, person, site, limits)
        except ArchiveUnreadable as exc:
            raise Invalid(f"The file could not be read as {SOURCES[kind][1]}: {exc.message}",
                          {"file": exc.message}) from None
        except (OSError, ValueError, UnicodeError) as exc:
            raise Invalid(f"The file could not be read as {SOURCES[kind][1]}: {exc}",
                          {"file": "unreadable"}) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    kept = _kept(person, archive.interactions)
    people = {p.author for p in kept if p.author} | {p.reply_to_person for p in kept
                                                     if p.reply_to_person}
    row = TraceImport(
        learner_id=learner.id, claim_id=claim.id, format=fmt, source_kind=kind,
        platform=archive.platform, handle=person[:MAX_HANDLE],
        file_name=(file_name or "")[:255] or None, source_sha256=archive.source_sha256,
        source_bytes=size, items_read=len(archive.interactions),
        errors=[{"item": e.item, "message": e.message[:500]} for e in archive.errors[:1000]],
        truncated=archive.truncated,
        accounts_created={p: t.isoformat() for p, t in archive.accounts_created.items()
                          if p in people},
        created_at=ctx.now())
    row.items = [_row(p, person, learner) for p in kept]
    session.add(row)
    session.flush()
    audit.record(session, ctx, actor=audit.learner_actor(learner.email),
                 action="traces.imported", issuer_id=claim.issuer_id, claim_id=claim.id,
                 detail={"import": row.id, "format": fmt, "kind": kind,
                         "sha256": row.source_sha256, "items": row.items_read,
                         "errors": len(archive.errors)})
    return row


# --- reading --------------------------------------------------------------------------------


def own_import(session: Session, learner: Learner, import_id: int) -> TraceImport:
    row = session.get(TraceImport, import_id)
    if row is None or row.learner_id != learner.id:
        raise NotFound("There is no such import among yours.")
    return row


def imports_of(session: Session, learner: Learner, claim: Claim) -> list[TraceImport]:
    return list(session.scalars(
        select(TraceImport).where(TraceImport.learner_id == learner.id,
                                  TraceImport.claim_id == claim.id)
        .order_by(TraceImport.id.desc())))


def interaction_of(item: TraceItem) -> Interaction:
    """A stored item as the counting rules read it."""
    marks = tuple(Acknowledgement(m.get("kind", ""), m.get("by"),
                                  datetime.fromisoformat(m["at"]) if m.get("at") else None)
                  for m in item.acknowledgements or [])
    return Interaction(
        platform=item.platform, post_id=item.post_id, author=item.author,
        created=item.created, thread=item.thread, community=item.community,
        permalink=item.permalink, reply_to_post=item.reply_to_post,
        reply_to_person=item.reply_to_person, acknowledgements=marks,
        content_sha256=item.content_sha256, source_sha256=item.source_sha256,
        opens_thread=item.opens_thread, says_thanks=item.says_thanks)


def summary_of(row: TraceImport) -> Summary:
    """The import's handle's activity under the counting rules."""
    created = {p: datetime.fromisoformat(t).astimezone(UTC)
               for p, t in (row.accounts_created or {}).items()}
    return summarise(row.handle, [interaction_of(i) for i in row.items], created)


def own_posts(row: TraceImport) -> list[TraceItem]:
    """The learner's posts, acts of help first (acknowledged ones at the top)."""
    mine = [i for i in row.items if i.own]
    return sorted(mine, key=lambda i: (not i.answers_other, not i.acknowledged,
                                       i.created or datetime.min.replace(tzinfo=UTC)))


# --- picking --------------------------------------------------------------------------------


def _title(item: TraceItem, genre: str) -> str:
    whom = f" to {item.reply_to_person}" if item.reply_to_person and item.platform != "mbox" \
        else ""
    return f"{genre}{whom} in {item.community}"[:300]


def pick(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim,
         row: TraceImport, picks: Sequence[Pick], *, public: bool) -> list[EvidenceRecord]:
    """Each picked post of the learner becomes one evidence item of ``claim`` (its permalink,
    a title, the learner's narrative, the day written), in one piece or not at all."""
    if row.learner_id != learner.id:
        raise NotFound("There is no such import among yours.")
    if not picks:
        raise Invalid("Tick at least one post to add.", {"items": "tick at least one"})
    items = {i.id: i for i in row.items}
    errors: dict[str, str] = {}
    for choice in picks:
        item = items.get(choice.item_id)
        if item is None or not item.own:
            raise NotFound("There is no such post of yours in this import.")
        if not (item.permalink or choice.url):
            errors[f"url-{item.id}"] = "the archive gives no link to this post: give its " \
                                       "web address (in the list's web archive, or the site)"
        elif item.evidence_record_id is not None:
            errors[f"item-{item.id}"] = "already evidence of a claim"
        if choice.genre not in GENRES:
            errors[f"genre-{item.id}"] = "choose one of the kinds listed"
        if choice.audience and len(choice.audience) > MAX_AUDIENCE:
            errors[f"audience-{item.id}"] = f"at most {MAX_AUDIENCE} characters"
    if errors:
        raise Invalid("Please check the posts: " + "; ".join(sorted(set(errors.values()))),
                      errors)
    records = []
    for choice in picks:
        item = items[choice.item_id]
        record = claim_service.add_evidence(session, ctx, learner, claim,
                                            claim_service.EvidenceInput(
            url=item.permalink or choice.url, title=_title(item, choice.genre),
            narrative=choice.narrative, public=public,
            activity_date=item.created.date() if item.created else None))
        item.evidence_record_id = record.id
        item.genre = choice.genre
        item.audience = (choice.audience or "").strip() or None
        records.append(record)
    session.flush()
    audit.record(session, ctx, actor=audit.learner_actor(learner.email),
                 action="traces.picked", issuer_id=claim.issuer_id, claim_id=claim.id,
                 detail={"import": row.id, "evidence": [r.id for r in records]})
    return records


# --- what the claim and the credential read -------------------------------------------------


def helped_people(session: Session, claim: Claim) -> list[Helped]:
    """The people the claim's acts of help answered, where the archive names them: the
    learner may ask them to attest (nothing is sent until the learner does)."""
    found: dict[tuple[str, str], list[str]] = {}
    learner_email = claim.learner.email.lower()
    for item in linked_items(session, (e.id for e in claim.evidence)):
        person = item.reply_to_person
        if not person or person == item.author or person.lower() == learner_email:
            continue
        found.setdefault((item.platform, person), []).append(item.permalink or item.post_id)
    return [Helped(handle=person, platform=platform,
                   email=person if platform == "mbox" and "@" in person else None,
                   permalinks=tuple(links))
            for (platform, person), links in sorted(found.items())]


def require_editable(claim: Claim, learner: Learner) -> None:
    if claim.learner_id != learner.id:
        raise NotFound("There is no such claim among yours.")
    if claim.status not in claim_service.EDITABLE:
        raise Conflict("You cannot add evidence now: the claim is "
                       f"{claim_service.STATUS_WORDS.get(claim.status, claim.status).lower()}.")


__all__ = ["DEFAULT_GENRE", "GENRES", "MAX_ITEMS", "PLATFORM_WORDS", "SOURCES", "Helped",
           "Pick", "Provenance",
           "captures_of", "helped_people", "import_archive", "imports_of", "interaction_of",
           "normal_handle", "own_import", "own_posts", "pick", "provenance_of",
           "require_editable", "summary_of"]
