"""Awards suggested from a community's export: who meets an achievement's measure policy.

A community manager (staff of the issuer) uploads an export in one of the formats of
:mod:`issuer.core.activity` and picks an achievement. Everybody who answered someone else in
it is measured (:func:`issuer.core.activity.measures.measure_everyone`) against the
achievement's thresholds (:mod:`issuer.services.measures`); transfer is left out of that
comparison, since peers attest to it on the claim, before approval.

"Suggest" makes no award: it opens a submitted claim for each person chosen, in the issuer's
review queue like any other, so a reviewer still decides and the claim policy (attestations,
thresholds) still applies. The person is the learner with the address the archive gives (a
mailing list's) or the manager types, told by mail once the suggestion is committed who
suggested which badge and on which counts, with a link to the claim. The claim carries the
person's traces (:mod:`issuer.storage.traces`: their posts, the posts they answered and the
replies to theirs, never anyone's words) and one public evidence item (OB 3.0 §B.1.9
Evidence) whose id is the export's SHA-256 and whose narrative gives the counts, the rules
and the records counted, so the credential says which records were counted and how.

The upload is bounded in bytes (``trace_upload_max_bytes``) and in items (:data:`MAX_ITEMS`),
which bounds the time it takes; items that cannot be read are listed by number and left out;
a file that cannot be read at all is refused as a whole (422), and a person who cannot be
suggested is one row error, never a failure of the others.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.activity.measures import (
    RULES_TEXT,
    Measures,
    Thresholds,
    measure_everyone,
    narrative,
    shortfalls,
)
from issuer.core.activity.model import (
    ACKNOWLEDGING_KINDS,
    Archive,
    ArchiveUnreadable,
    Interaction,
    ItemError,
    Limits,
)
from issuer.services import audit
from issuer.services.claims import STATUS_WORDS, active_claim
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid, NotFound
from issuer.services.learners import ensure_learner, find_learner, normalize_email
from issuer.services.mail import render_mail, send_mail
from issuer.services.measures import thresholds_for
from issuer.storage.learning import Claim, EvidenceRecord, Learner
from issuer.storage.measure_policies import SuggestionUpload
from issuer.storage.models import Achievement, Issuer, User
from issuer.storage.traces import TraceImport, TraceItem

__all__ = [
    "KINDS",
    "MAX_ITEMS",
    "Candidate",
    "Outcome",
    "Scan",
    "create_upload",
    "get_upload",
    "recent_uploads",
    "scan",
    "suggest",
]

#: The exports a community manager can upload: kind → (format, what the page calls it).
#: A Discourse ``user_archive.csv`` is one person's posts, without whom they answered, so it
#: shows nobody's help and is not offered.
KINDS: dict[str, tuple[str, str]] = {
    "posts_xml": ("stackexchange", "Stack Exchange data dump: Posts.xml"),
    "api_json": ("stackexchange", "Stack Exchange API: answers JSON"),
    "topic_json": ("discourse", "Discourse: a topic's JSON"),
    "outbox_json": ("mastodon", "Mastodon: outbox.json"),
    "mbox": ("mbox", "Mailing list or Google Group: mbox"),
}
MAX_ITEMS = 100_000
#: People listed on one results page, those who meet the policy first.
MAX_CANDIDATES = 500
MAX_SITE = 253
TITLE = "Help acknowledged in a community"
#: The message telling the person suggested (``templates/mail/claim_suggested.txt``).
MAIL_KIND = "claim_suggested"


@dataclass(frozen=True)
class Candidate:
    """One person of the export; ``number`` is their row on the results page."""

    number: int
    handle: str
    #: The address the archive gives (a mailing list's), else None.
    email: str | None
    measures: Measures
    missing: list[str]

    @property
    def meets(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Scan:
    """An export measured against an achievement's thresholds."""

    upload: SuggestionUpload
    achievement: Achievement
    thresholds: Thresholds
    items: int
    errors: list[ItemError]
    truncated: bool
    candidates: list[Candidate]
    archive: Archive = field(repr=False)

    @property
    def meeting(self) -> list[Candidate]:
        return [c for c in self.candidates if c.meets]


@dataclass
class Outcome:
    """What "Suggest" did: the claims opened, and the rows that could not be suggested."""

    created: list[tuple[Candidate, Claim]] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)


# --- uploading and reading ------------------------------------------------------------------


def _limits(ctx: ServiceContext) -> Limits:
    size = ctx.settings.trace_upload_max_bytes
    return Limits(max_bytes=size, max_items=MAX_ITEMS, max_document_bytes=size)


def _read(kind: str, data: bytes, site: str | None, limits: Limits) -> Archive:
    from issuer.core.activity import discourse, mastodon, mbox, stackexchange

    folder = Path(tempfile.mkdtemp(prefix="issuer-export-"))
    try:
        path = folder / "export"
        path.write_bytes(data)
        if kind == "mbox":
            return mbox.read_mbox(path, limits=limits)
        with path.open("rb") as stream:
            if kind == "posts_xml":
                return stackexchange.read_posts_xml(stream, site=site, limits=limits)
            if kind == "api_json":
                return stackexchange.read_api_json(stream, limits=limits)
            if kind == "topic_json":
                return discourse.read_topic_json(stream, forum=site, limits=limits)
            return mastodon.read_outbox_json(stream, limits=limits)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _archive(ctx: ServiceContext, kind: str, data: bytes, site: str | None,
             users: bytes | None = None) -> Archive:
    try:
        archive = _read(kind, data, site, _limits(ctx))
    except ArchiveUnreadable as exc:
        raise Invalid(f"The file could not be read as {KINDS[kind][1]}: {exc.message}",
                      {"file": exc.message}) from None
    except (OSError, ValueError, UnicodeError) as exc:
        raise Invalid(f"The file could not be read as {KINDS[kind][1]}: {exc}",
                      {"file": "unreadable"}) from None
    if users:
        archive.accounts_created.update(_accounts(ctx, users))
    return archive


def _accounts(ctx: ServiceContext, users: bytes) -> dict[str, datetime]:
    """When each account of a Stack Exchange dump was made (its ``Users.xml``)."""
    from issuer.core.activity.stackexchange import read_users_xml

    try:
        return read_users_xml(io.BytesIO(users), limits=_limits(ctx)).accounts_created
    except ArchiveUnreadable as exc:
        raise Invalid(f"Users.xml could not be read: {exc.message}",
                      {"users_file": exc.message}) from None
    except (ValueError, UnicodeError) as exc:
        raise Invalid(f"Users.xml could not be read: {exc}",
                      {"users_file": "unreadable"}) from None


def create_upload(session: Session, ctx: ServiceContext, issuer: Issuer,
                  achievement: Achievement, *, kind: str, data: bytes,
                  file_name: str | None, site: str | None, actor: str,
                  users: bytes | None = None) -> SuggestionUpload:
    """Keep an export to measure for ``achievement``, once it is known to be readable;
    ``users``: a Stack Exchange dump's ``Users.xml``, which tells the accounts' ages."""
    errors: dict[str, str] = {}
    if achievement.issuer_id != issuer.id:
        raise NotFound("There is no such badge.")
    if kind not in KINDS:
        errors["kind"] = "choose the kind of export"
    site = (site or "").strip().lower() or None
    if site is not None and (len(site) > MAX_SITE or "." not in site or any(
            not (c.isalnum() or c in ".-") for c in site)):
        errors["site"] = "give the site's host name, such as cooking.stackexchange.com"
    limit = ctx.settings.trace_upload_max_bytes
    if not data:
        errors["file"] = "choose the export file to upload"
    elif len(data) > limit:
        errors["file"] = f"the file is larger than {limit:,} bytes; upload a smaller export"
    if users and kind != "posts_xml":
        errors["users_file"] = "Users.xml goes with a Stack Exchange dump's Posts.xml only"
    elif users and len(users) > limit:
        errors["users_file"] = f"Users.xml is larger than {limit:,} bytes"
    if errors:
        raise Invalid("Please check the upload: " + "; ".join(errors.values()), errors)
    _archive(ctx, kind, data, site, users or None)
    row = SuggestionUpload(
        issuer_id=issuer.id, achievement_id=achievement.id, kind=kind,
        site=site, file_name=(file_name or "")[:255] or None,
        source_sha256=hashlib.sha256(data).hexdigest(), source=data, users_source=users or None,
        created_by=actor[:320], created_at=ctx.now())
    session.add(row)
    session.flush()
    audit.record(session, ctx, actor=actor, action="suggestions.uploaded", issuer_id=issuer.id,
                 detail={"upload": row.id, "achievement": achievement.slug, "kind": kind,
                         "sha256": row.source_sha256, "bytes": len(data)})
    return row


def get_upload(session: Session, issuer: Issuer, upload_id: int) -> SuggestionUpload:
    row = session.get(SuggestionUpload, upload_id)
    if row is None or row.issuer_id != issuer.id:
        raise NotFound("There is no such upload.")
    return row


def recent_uploads(session: Session, issuer: Issuer, limit: int = 20) -> list[SuggestionUpload]:
    return list(session.scalars(
        select(SuggestionUpload).where(SuggestionUpload.issuer_id == issuer.id)
        .order_by(SuggestionUpload.id.desc()).limit(limit)))


def scan(session: Session, ctx: ServiceContext, upload: SuggestionUpload) -> Scan:
    """Everybody who answered someone else in the export, measured against the thresholds
    of the upload's achievement: those who meet them first, most acknowledged first."""
    achievement = session.get(Achievement, upload.achievement_id)
    if achievement is None:  # pragma: no cover - the foreign key cascades
        raise NotFound("There is no such badge.")
    archive = _archive(ctx, upload.kind, upload.source, upload.site, upload.users_source)
    thresholds = thresholds_for(session, achievement)
    # Peers attest to transfer on the claim itself, after the suggestion.
    asked = replace(thresholds, min_transfer=0)
    everyone = measure_everyone(archive.interactions, archive.accounts_created)
    found = []
    for handle, measures in everyone.items():
        if not measures.answers:
            continue
        missing = shortfalls(measures, asked) if asked.any else [
            "the badge's policy sets no thresholds of measured help"]
        found.append((handle, measures, missing))
    found.sort(key=lambda f: (bool(f[2]), -f[1].counted_acknowledgements,
                              -f[1].people_acknowledging, f[0]))
    candidates = [Candidate(number, handle, _email_of(upload.kind, handle), measures, missing)
                  for number, (handle, measures, missing)
                  in enumerate(found[:MAX_CANDIDATES], start=1)]
    return Scan(upload, achievement, thresholds, len(archive.interactions), archive.errors,
                archive.truncated, candidates, archive)


def _email_of(kind: str, handle: str) -> str | None:
    if kind != "mbox":
        return None
    try:
        return normalize_email(handle)
    except Invalid:
        return None


# --- suggesting -----------------------------------------------------------------------------


def _kept(handle: str, posts: list[Interaction]) -> list[Interaction]:
    """The person's posts, the posts they answered and the replies to theirs: what their
    measures need, reciprocity included."""
    own = {p.post_id for p in posts if p.author == handle}
    parents = {p.reply_to_post for p in posts if p.author == handle and p.reply_to_post}
    return [p for p in posts if p.author == handle or p.post_id in parents
            or p.reply_to_post in own or p.reply_to_person == handle]


def _permalink(post: Interaction) -> str | None:
    if post.permalink or post.platform != "mbox":
        return post.permalink
    # RFC 2392: a message is named by its Message-ID wherever it is archived, as the
    # learner's own imports name it.
    return "mid:" + quote(post.post_id, safe="@!$&'()*+,;=.-_~")


def _item(post: Interaction, handle: str, learner: Learner) -> TraceItem:
    own = post.author == handle
    return TraceItem(
        learner_id=learner.id, platform=post.platform, post_id=post.post_id[:500],
        permalink=(_permalink(post) or "")[:1000] or None, author=post.author,
        created=post.created, thread=post.thread[:500], community=post.community[:300],
        reply_to_post=post.reply_to_post[:500] if post.reply_to_post else None,
        reply_to_person=post.reply_to_person,
        acknowledgements=[{"kind": m.kind, "by": m.by,
                           "at": m.at.isoformat() if m.at else None}
                          for m in post.acknowledgements],
        content_sha256=post.content_sha256, source_sha256=post.source_sha256,
        opens_thread=post.opens_thread, says_thanks=post.says_thanks, own=own,
        answers_other=own and post.reply_to_person not in (None, handle),
        acknowledged=own and any(m.kind in ACKNOWLEDGING_KINDS and m.by is not None
                                 and m.by == post.reply_to_person
                                 for m in post.acknowledgements))


def _traces(ctx: ServiceContext, found: Scan, candidate: Candidate, learner: Learner,
            claim: Claim) -> TraceImport:
    upload, archive = found.upload, found.archive
    kept = _kept(candidate.handle, archive.interactions)
    people = {p.author for p in kept if p.author} | {p.reply_to_person for p in kept
                                                     if p.reply_to_person}
    row = TraceImport(
        learner_id=learner.id, claim_id=claim.id, format=KINDS[upload.kind][0],
        source_kind=upload.kind, platform=archive.platform, handle=candidate.handle[:320],
        file_name=upload.file_name, source_sha256=upload.source_sha256,
        source_bytes=len(upload.source), items_read=len(archive.interactions),
        errors=[{"item": e.item, "message": e.message[:500]} for e in archive.errors[:1000]],
        truncated=archive.truncated,
        accounts_created={p: t.isoformat() for p, t in archive.accounts_created.items()
                          if p in people},
        created_at=ctx.now())
    row.items = [_item(p, candidate.handle, learner) for p in kept]
    return row


def _evidence(found: Scan, candidate: Candidate, claim: Claim, ctx: ServiceContext
              ) -> EvidenceRecord:
    upload = found.upload
    m = candidate.measures
    days = [r.at.date() for r in m.records if r.at is not None]
    return EvidenceRecord(
        claim=claim, url=f"urn:sha256:{upload.source_sha256}",
        title=f"{TITLE}: {m.counted_acknowledgements:g} acknowledgements counted from "
              f"{m.people_acknowledging} people"[:300],
        narrative=narrative(m, platform=found.archive.platform,
                            source_name=upload.file_name or "the uploaded export",
                            source_sha256=upload.source_sha256),
        activity_date=min(days) if days else None,
        activity_end_date=max(days) if len(set(days)) > 1 else None,
        public=True, created_at=ctx.now())


def _refusal(session: Session, found: Scan, candidate: Candidate | None,
             email: str | None) -> tuple[str | None, str | None]:
    """(the address to use, None) or (None, why this row cannot be suggested)."""
    if candidate is None:
        return None, "there is no such person in this export"
    if not candidate.meets:
        return None, "does not meet the badge's policy: " + "; ".join(candidate.missing)
    try:
        address = normalize_email(email or candidate.email)
    except Invalid:
        return None, "give the person's email address, such as name@example.org"
    learner = find_learner(session, address)
    if learner is not None:
        existing = active_claim(session, learner, found.achievement)
        if existing is not None:
            return None, ("already has a claim for this badge ("
                          f"{STATUS_WORDS.get(existing.status, existing.status).lower()})")
    return address, None


def suggest(session: Session, ctx: ServiceContext, found: Scan,
            picks: list[tuple[int, str | None]], *, actor: str) -> Outcome:
    """Open a submitted claim for each picked row (its number and, unless the archive gives
    one, an email address); a row that cannot be suggested is listed and skipped."""
    if not picks:
        raise Invalid("Tick at least one person to suggest.", {"pick": "tick at least one"})
    by_number = {c.number: c for c in found.candidates}
    outcome = Outcome()
    done: set[int] = set()
    for number, email in picks:
        candidate = by_number.get(number)
        if number in done:
            continue
        done.add(number)
        address, refusal = _refusal(session, found, candidate, email)
        if refusal is not None or address is None or candidate is None:
            outcome.errors.append((number, candidate.handle if candidate else "?",
                                   refusal or "cannot be suggested"))
            continue
        outcome.created.append((candidate, _open_claim(session, ctx, found, candidate,
                                                       address, actor)))
    return outcome


def _open_claim(session: Session, ctx: ServiceContext, found: Scan, candidate: Candidate,
                address: str, actor: str) -> Claim:
    learner = ensure_learner(session, ctx, address)
    achievement = found.achievement
    now = ctx.now()
    claim = Claim(public_id=str(uuid.uuid4()), learner_id=learner.id,
                  issuer_id=achievement.issuer_id, achievement_id=achievement.id,
                  status="submitted", created_at=now, submitted_at=now,
                  statement=f"Suggested by the community's staff from an export in which "
                            f"{candidate.handle} meets this badge's policy of measured help.")
    session.add(claim)
    session.flush()
    session.add(_evidence(found, candidate, claim, ctx))
    session.add(_traces(ctx, found, candidate, learner, claim))
    session.flush()
    detail: dict[str, Any] = {
        "upload": found.upload.id, "handle": candidate.handle,
        "sha256": found.upload.source_sha256,
        "measures": {k: v for k, v in candidate.measures.as_json().items() if k != "records"}}
    audit.record(session, ctx, actor=actor, action="claim.suggested",
                 issuer_id=claim.issuer_id, claim_id=claim.id, detail=detail)
    _mail_suggested(session, ctx, found, candidate, claim, learner, actor)
    return claim


def _suggested_by(session: Session, actor: str, issuer_name: str) -> str:
    """The staff member's name as the person suggested reads it; the issuer's name when
    the actor is no staff member (a command run on the server)."""
    role, _, email = actor.partition(":")
    user = session.scalar(select(User).where(User.email == email)) if role == "staff" else None
    return user.name.strip() if user is not None and user.name.strip() else issuer_name


def _mail_suggested(session: Session, ctx: ServiceContext, found: Scan, candidate: Candidate,
                    claim: Claim, learner: Learner, actor: str) -> None:
    """Tell the person a claim waits in their name, who suggested it and on which counts.

    Queued in the caller's transaction (:mod:`issuer.services.mail`): it goes out only once
    the suggestion is committed. Counts only: the people they helped are never named.
    """
    issuer_name = found.achievement.issuer.name
    m = candidate.measures
    subject, body = render_mail(
        MAIL_KIND, suggested_by=_suggested_by(session, actor, issuer_name),
        issuer_name=issuer_name, achievement_name=found.achievement.name,
        handle=candidate.handle, export_kind=KINDS[found.upload.kind][1],
        answers=m.answers, people_helped=m.people_helped, acknowledged=m.acknowledged,
        counted=f"{m.counted_acknowledgements:g}", people=m.people_acknowledging,
        communities=m.communities, months=m.months_active, rules=RULES_TEXT,
        link=f"{ctx.base}/learn/claims/{claim.public_id}")
    send_mail(session, ctx, to=learner.email, subject=subject, body=body, kind=MAIL_KIND)
