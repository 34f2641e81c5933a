"""The employer's verify form: what was submitted, and the report in plain words.

A credential hosted by this service is read from the database when its address is given. An
address on any other host (typed, or the text a phone's QR scanner gives) is fetched only
through the guarded fetcher (:mod:`issuer.net.fetcher`: https, public addresses, size and time
limits), so the form cannot be used to reach this service's private network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from issuer.core.credentials import normalize_email
from issuer.core.errors import InputError
from issuer.core.identity import RecipientMatch, is_web_address, recipient_match
from issuer.core.status_list import status_list_url
from issuer.core.verify import CHECK_TITLES, MAX_INPUT_BYTES, Outcome, VerificationReport
from issuer.net.fetcher import Absent, FetchError, FetchRefused, fetcher_for
from issuer.net.provenance import Fetched
from issuer.services.attestation_reading import EndorsementReading, read_endorsements
from issuer.services.awards import get_credential
from issuer.services.context import ServiceContext
from issuer.services.errors import NotFound
from issuer.services.issuers import issuer_by_did
from issuer.services.verification import HostedAddress
from issuer.web.public.view import CredentialView, credential_view

TEXT_EXTENSIONS = (".json", ".jwt", ".jws", ".txt")
IMAGE_EXTENSIONS = (".png", ".svg")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

WRONG_FILE = ("Choose a .json, .jwt, .jws or .txt file that holds the credential, or a badge "
              "image (.png or .svg) with the credential baked in.")
EMPTY = ("Nothing to check yet: paste the credential, choose a file, or enter the address of "
         "the badge.")
REFUSED = ("This address is on a private network and is not fetched: the verifier only "
           "fetches badges from public web sites.")
OFFLINE = ("Only credentials hosted by this service ({base}) can be checked by address: it "
           "checks badges offline, and nothing was fetched from other sites. For a badge from "
           "elsewhere, download its JSON and paste it or upload the file instead.")
#: What a QR scanner app may put before the address it read (MECARD-style "URL:").
_QR_PREFIXES = ("url:", "urlto:")


class FormProblem(Exception):
    """A submission that cannot be checked; the form is shown again with the message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Submission:
    data: str | bytes
    source: str
    #: The address the credential was fetched from, when it was fetched.
    url: str | None = None
    #: Read from this service's database (a credential hosted here), not fetched.
    from_records: bool = False


def _looks_like_image(data: bytes) -> bool:
    """A PNG, or markup where a credential would start with ``{`` or ``eyJ``."""
    head = data[:1024].removeprefix(b"\xef\xbb\xbf").lstrip()
    return data.startswith(PNG_MAGIC) or head.startswith((b"<?xml", b"<svg", b"<!--"))


def from_file(upload: FileStorage) -> Submission:
    name = upload.filename or "file"
    lower = name.lower()
    data = upload.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise FormProblem("The file is larger than 5 MB; a credential is far smaller.", 413)
    if not data.strip():
        raise FormProblem(f"The file {name} is empty.")
    if _looks_like_image(data):
        # OB 3.0 §5.3: a baked PNG or SVG; the verifier extracts the credential itself.
        return Submission(data, f"the badge image {name}")
    if not lower.endswith(TEXT_EXTENSIONS + IMAGE_EXTENSIONS):
        raise FormProblem(WRONG_FILE, 415)
    return Submission(data, f"the file {name}")


def hosted_credential_id(url: str, base: str) -> str | None:
    """The credential id if ``url`` is ``{base}/credentials/<id>`` (or its verify/download page).

    Only the address is compared; the scheme and host must be this service's own.
    """
    try:
        parts, home = urlsplit(url.strip()), urlsplit(base)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address: not an address of ours
        return None
    if (parts.scheme.lower(), parts.netloc.lower()) != (home.scheme.lower(),
                                                        home.netloc.lower()):
        return None
    prefix = f"{home.path.rstrip('/')}/credentials/"
    if not parts.path.startswith(prefix):
        return None
    rest = parts.path[len(prefix):].strip("/").split("/")
    if len(rest) == 1 or (len(rest) == 2 and rest[1] in ("verify", "download")):
        return rest[0] or None
    return None


def scanned_address(text: str) -> str:
    """The address in what a person typed or a QR scanner gave: trimmed, prefix removed."""
    value = text.strip()
    if value.lower().startswith(_QR_PREFIXES):
        value = value.split(":", 1)[1].strip()
    return value


def from_url(session: Session, ctx: ServiceContext, text: str) -> Submission:
    url = scanned_address(text)
    credential_id = hosted_credential_id(url, ctx.base)
    if credential_id is not None:
        try:
            credential = get_credential(session, credential_id)
        except NotFound:
            raise FormProblem("There is no credential at that address on this service. "
                              "Check the address, or paste the credential's JSON instead.",
                              404) from None
        return Submission(credential.document, "the credential at that address",
                          from_records=True)
    fetcher = fetcher_for(ctx.settings)
    if fetcher is None:
        raise FormProblem(OFFLINE.format(base=ctx.base))
    if not url.lower().startswith(("https://", "http://")):
        raise FormProblem("That is not a web address: a badge address starts with https://.")
    try:
        body = fetcher.fetch(url)
    except FetchRefused as exc:
        raise FormProblem(f"{REFUSED} ({exc})", 422) from None
    except FetchError as exc:
        raise FormProblem(f"The badge could not be fetched: {exc}", 422) from None
    if isinstance(body, Absent) and body.gone:
        # OB 2.0 "Hosted Verification": a revoked hosted assertion may answer 410 Gone. The
        # verifier fetches the address again and reports it revoked.
        return Submission(HostedAddress(url), f"the badge at {url}", url=url)
    if isinstance(body, Absent):
        raise FormProblem("There is no badge at that address (the site answered “not "
                          "found”). Check the address.", 404)
    if not body.strip():
        raise FormProblem("The page at that address is empty.", 422)
    return Submission(body, f"the badge at {url}", url=url)


def read_submission(session: Session, ctx: ServiceContext, form: Mapping[str, str],
                    upload: FileStorage | None) -> Submission:
    """The one thing to check: an uploaded file, else pasted text, else an address."""
    if upload is not None and upload.filename:
        return from_file(upload)
    pasted = form.get("credential", "")
    if pasted.strip():
        return Submission(pasted, "the pasted text")
    url = form.get("url", "").strip()
    if url:
        return from_url(session, ctx, url)
    raise FormProblem(EMPTY)


OUTCOME_LABELS = {
    Outcome.PASSED: "Passed",
    Outcome.FAILED: "Failed",
    Outcome.WARNING: "Warning",
    Outcome.SKIPPED: "Not checked",
}


#: What a failed check means for the person relying on the badge, before any detail.
PLAIN_FAILURES = {
    "parse": "This is not a badge that can be read: it is not a credential in JSON, a JWT or "
             "a badge image with a credential baked in.",
    "context": "The badge uses terms that cannot be read reliably, so its meaning is unclear.",
    "type": "This is not an Open Badge or another verifiable credential.",
    "schema": "The badge does not follow the Open Badges format.",
    "proof": "The signature does not match: the badge was changed after it was issued, or it "
             "was not signed by the issuer it names.",
    "credentials": "A credential enclosed in this one does not check out.",
    "refresh": "The badge names a refresh service that cannot be used.",
    "dates": "The badge is outside its validity dates: it has expired or is not valid yet.",
    "status": "The issuer has revoked or suspended this badge.",
    "endorsements": "An endorsement in the badge does not check out.",
}


@dataclass(frozen=True)
class CheckView:
    id: str
    title: str
    outcome: str
    label: str
    message: str
    details: tuple[str, ...]

    @property
    def plain(self) -> str:
        """The failure in plain words; the verifier's own message is the technical detail."""
        return PLAIN_FAILURES.get(self.id, f"{self.title}: the check failed.")


def check_label(check_id: str, outcome: Outcome) -> str:
    """Plain words for an outcome; a status not checked is never called "not revoked"."""
    if check_id == "status" and outcome in (Outcome.WARNING, Outcome.SKIPPED):
        return "Could not check"
    return OUTCOME_LABELS.get(outcome, str(outcome))


@dataclass(frozen=True)
class ReportView:
    valid: bool
    #: Nothing in the input could be read as a credential: there is nothing to list as
    #: checked or not checked, only what was wrong with the input.
    unreadable: bool
    checks: list[CheckView]
    failed: list[CheckView]
    warnings: list[CheckView]
    credential: CredentialView
    issuer_did: str | None
    issuer_slug: str | None
    format: str
    badge_image: str | None
    #: Each embedded endorsement (peer attestations among them), checked on its own.
    endorsements: list[EndorsementReading]


def report_view(session: Session, ctx: ServiceContext,
                report: VerificationReport) -> ReportView:
    checks = [
        CheckView(id=c.id, title=CHECK_TITLES.get(c.id, c.id.capitalize()),
                  outcome=str(c.outcome), label=check_label(c.id, c.outcome),
                  message=c.message, details=c.details)
        for c in report.checks
    ]
    hosted = issuer_by_did(session, ctx, report.issuer) if report.issuer else None
    document: Any = report.credential
    view = credential_view(document if isinstance(document, Mapping) else None)
    return ReportView(
        valid=report.valid,
        unreadable=report.credential is None,
        checks=checks,
        failed=[c for c in checks if c.outcome == Outcome.FAILED],
        warnings=[c for c in checks if c.outcome == Outcome.WARNING],
        credential=view,
        issuer_did=report.issuer,
        issuer_slug=hosted.slug if hosted is not None else None,
        format=report.format,
        badge_image=_local_image(view.image_url, ctx.base),
        endorsements=read_endorsements(session, ctx, document),
    )


def _local_image(url: str | None, base: str) -> str | None:
    """Only images served here are shown: a pasted badge must not make the page load others."""
    if url and (url.startswith(f"{base}/images/") or url.lower().startswith("data:image/")):
        return url
    return None


RECIPIENT_WORDS = {
    RecipientMatch.MATCHES: "This badge was awarded to {email}.",
    RecipientMatch.DOES_NOT_MATCH: "This badge was not awarded to {email}: the e-mail address "
                                   "it names is a different one.",
    RecipientMatch.NO_EMAIL: "This badge names no e-mail address, so it cannot be matched "
                             "to {email}.",
}
URL_WORDS = {
    RecipientMatch.MATCHES: "This badge was awarded to the owner of {email}.",
    RecipientMatch.DOES_NOT_MATCH: "This badge was not awarded to the owner of {email}: the "
                                   "web address it names is a different one.",
    RecipientMatch.NO_URL: "This badge names no web address for its owner, so it cannot be "
                           "matched to {email}. Ask for their e-mail address instead.",
}
#: Longest web address compared (browsers and servers commonly stop near 2,000 characters).
MAX_URL = 2000


@dataclass(frozen=True)
class RecipientView:
    email: str
    answer: str
    words: str


def read_email(form: Mapping[str, str]) -> str | None:
    """The optional e-mail or web address to check the badge against; a malformed one is a
    FormProblem."""
    text = form.get("email", "").strip()
    if not text:
        return None
    if is_web_address(text):
        try:
            parts = urlsplit(text) if len(text) <= MAX_URL else None
        except ValueError:  # e.g. an unclosed "[" of an IPv6 address
            parts = None
        if parts is None or not parts.netloc or any(c.isspace() for c in text):
            raise FormProblem(f"“{text[:200]}” is not a web address.")
        return text
    try:
        normalize_email(text)
    except InputError:
        raise FormProblem(f"“{text}” is not an e-mail address.") from None
    return text


def recipient_view(report: VerificationReport, email: str | None) -> RecipientView | None:
    """OB 3.0 §B.1.12 / OB 2.0 IdentityObject comparison, in plain words."""
    if email is None or not isinstance(report.credential, Mapping):
        return None
    answer = recipient_match(report.credential, email, ob2=report.format.startswith("ob2"))
    words = URL_WORDS if is_web_address(email) else RECIPIENT_WORDS
    return RecipientView(email, str(answer), words[answer].format(email=email))


@dataclass(frozen=True)
class SourceView:
    what: str
    url: str
    at: datetime
    from_cache: bool


def _status_lists(credential: Any) -> set[str]:
    """The addresses of the credential's status lists (and 1EdTech revocation lists)."""
    if not isinstance(credential, Mapping):
        return set()
    entries = credential.get("credentialStatus")
    listed = entries if isinstance(entries, list) else [entries]
    return {url for url in map(status_list_url, listed) if url is not None}


def source_views(fetched: list[Fetched], credential: Any,
                 credential_url: str | None) -> list[SourceView]:
    """Each fetched document, named by what it is to the person reading the report."""
    lists = _status_lists(credential)
    views: list[SourceView] = []
    for item in fetched:
        if item.url == credential_url:
            what = "The badge"
        elif item.url.endswith("/did.json"):
            what = "The issuer's DID document"
        elif item.url in lists:
            what = "The status list"
        else:
            what = "A document the badge points to"
        views.append(SourceView(what, item.url, item.at, item.from_cache))
    return views
