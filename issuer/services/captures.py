"""Traces that survive deletion: a cited page captured into a WARC record (ISO 28500:2017,
WARC 1.1) with its SHA-256 and the time it was taken.

The page is fetched through the guarded fetcher's rules (:mod:`issuer.net`: https only,
http and private addresses only for hosts the operator allows, every redirect checked like
the first URL, the body and the time bounded by ``verify_max_bytes`` and
``verify_timeout``). The WARC holds one ``warcinfo`` and one ``response`` record; the
``WARC-Payload-Digest`` is the body's SHA-256 (WARC 1.1 §5.9, ``sha256:`` and base32), the
same digest kept in hex beside it.

Other people's words: a captured page may quote the people the learner answered. The capture
is kept for the learner and the issuer's reviewers only (its download checks who asks, like
an evidence file), is never on a public page, and a credential carries only its SHA-256 and
time, never the page.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urldefrag

from sqlalchemy.orm import Session
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from issuer.net.fetcher import Fetcher, FetchError, fetcher_for
from issuer.net.sending import send
from issuer.services import audit
from issuer.services import claims as claim_service
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.trace_provenance import captures_of
from issuer.storage.learning import Claim, Learner
from issuer.storage.models import User
from issuer.storage.traces import TraceCapture

__all__ = [
    "MAX_CAPTURES",
    "Captured",
    "capture_evidence",
    "capture_for",
    "capture_page",
    "warc_of",
]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: The body is stored as received, decoded: headers that described another framing of it
#: would make the record unreadable.
_FRAMING = frozenset({"content-encoding", "transfer-encoding", "content-length",
                      "connection", "keep-alive"})
_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
#: Captures one claim may hold (each is a page of at most ``verify_max_bytes``).
MAX_CAPTURES = 40
SOFTWARE = "Open Badges issuer (warcio)"


@dataclass(frozen=True)
class Captured:
    """A page as fetched: where the redirects ended, the answer, and the WARC that holds it."""

    url: str
    final_url: str
    status: int
    media_type: str
    captured_at: datetime
    payload_sha256: str
    payload_bytes: int
    warc: bytes

    @property
    def warc_sha256(self) -> str:
        return hashlib.sha256(self.warc).hexdigest()


def _sha256_label(digest: bytes) -> str:
    # Padded base32, as warcio writes and checks it (the grammar's "token" would exclude "=",
    # a known erratum of WARC 1.1; readers accept the padded form).
    return "sha256:" + base64.b32encode(digest).decode("ascii")


def warc_of(url: str, status: int, headers: dict[str, str], body: bytes,
            at: datetime) -> bytes:
    """A gzipped WARC 1.1 file: a ``warcinfo`` record, then the ``response`` for ``url``."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    date = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    info = writer.create_warcinfo_record(
        "capture.warc.gz", {"software": SOFTWARE, "format": "WARC File Format 1.1",
                            "description": "A page a learner cited as evidence"})
    info.rec_headers.replace_header("WARC-Date", date)
    writer.write_record(info)
    kept = [(name, value) for name, value in headers.items()
            if name.lower() not in _FRAMING]
    kept.append(("Content-Length", str(len(body))))
    http = StatusAndHeaders(f"{status}", kept, protocol="HTTP/1.1")
    record = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
        warc_headers_dict={"WARC-Date": date,
                           "WARC-Payload-Digest": _sha256_label(hashlib.sha256(body).digest())})
    writer.write_record(record)
    return out.getvalue()


def capture_page(fetcher: Fetcher, url: str, *, now: datetime) -> Captured:
    """``url`` fetched under the fetcher's rules (redirects followed by hand, each checked)
    and written as a WARC; FetchError when it may not be reached or does not answer 200."""
    # A fragment is never sent: the record names what was fetched.
    current = urldefrag(url).url
    for _hop in range(fetcher.limits.max_redirects + 1):
        answer = send(fetcher, "GET", current, headers={"Accept": _ACCEPT})
        location = {k.lower(): v for k, v in answer.headers.items()}.get("location")
        if answer.status in _REDIRECTS and location:
            current = urldefrag(str(fetcher._checked(current).url.join(location))).url
            continue
        if answer.status != 200:
            raise FetchError(f"{current} answered HTTP {answer.status}")
        return Captured(url=url, final_url=current, status=answer.status,
                        media_type=answer.media_type, captured_at=now,
                        payload_sha256=hashlib.sha256(answer.body).hexdigest(),
                        payload_bytes=len(answer.body),
                        warc=warc_of(current, answer.status, dict(answer.headers),
                                     answer.body, now))
    raise FetchError(f"{url} redirects more than {fetcher.limits.max_redirects} times")


def capture_evidence(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim,
                     evidence_id: int, *, fetcher: Fetcher | None = None) -> TraceCapture:
    """Capture the page an evidence item of the learner's open claim cites."""
    if claim.learner_id != learner.id:
        raise NotFound("There is no such claim among yours.")
    if claim.status not in claim_service.OPEN:
        raise Conflict("This claim is decided; its evidence can no longer be captured.")
    record = claim_service.evidence_item(session, claim, evidence_id)
    if not record.url or not record.url.startswith(("https://", "http://")):
        raise Invalid("Only a web page (an https link) can be captured.",
                      {"url": "not a web page"})
    if len(captures_of(session, claim)) >= MAX_CAPTURES:
        raise Conflict(f"This claim already holds {MAX_CAPTURES} captures.")
    client = fetcher or fetcher_for(ctx.settings)
    if client is None:
        raise Conflict("This service does not reach the web (it runs offline), so pages "
                       "cannot be captured.")
    try:
        captured = capture_page(client, record.url, now=ctx.now())
    except FetchError as exc:
        raise Invalid(f"The page was not captured: {exc.message}", {"url": exc.message}) \
            from None
    row = TraceCapture(
        claim_id=claim.id, evidence_record_id=record.id, learner_id=learner.id,
        url=captured.url[:1000], final_url=captured.final_url[:1000],
        http_status=captured.status, media_type=captured.media_type[:100] or None,
        captured_at=captured.captured_at, payload_sha256=captured.payload_sha256,
        payload_bytes=captured.payload_bytes, warc_sha256=captured.warc_sha256,
        warc_data=captured.warc)
    session.add(row)
    session.flush()
    audit.record(session, ctx, actor=audit.learner_actor(learner.email),
                 action="evidence.captured", issuer_id=claim.issuer_id, claim_id=claim.id,
                 detail={"evidence_id": record.id, "capture": row.id,
                         "payload_sha256": row.payload_sha256,
                         "warc_sha256": row.warc_sha256})
    return row


def capture_for(session: Session, claim: Claim, capture_id: int, *,
                learner: Learner | None, user: User | None) -> TraceCapture:
    """A capture for the claim's learner or the issuer's reviewers; nobody else (404)."""
    if not ((learner is not None and learner.id == claim.learner_id)
            or claim_service.is_reviewer(session, user, claim)):
        raise NotFound("There is no such capture.")
    row = session.get(TraceCapture, capture_id)
    if row is None or row.claim_id != claim.id:
        raise NotFound("There is no such capture.")
    return row
