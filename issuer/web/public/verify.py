"""The employer's verify form: what was submitted, and the report in plain words.

Nothing is ever fetched over the network: a URL is only accepted when it names a credential
hosted by this service, which is then read from the database (no request forgery through the
form, and no dependence on another site being up).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from issuer.core.verify import CHECK_TITLES, MAX_INPUT_BYTES, Outcome, VerificationReport
from issuer.services.attestation_reading import EndorsementReading, read_endorsements
from issuer.services.awards import get_credential
from issuer.services.context import ServiceContext
from issuer.services.errors import NotFound
from issuer.services.issuers import issuer_by_did
from issuer.web.public.view import CredentialView, credential_view

TEXT_EXTENSIONS = (".json", ".jwt", ".jws", ".txt")
IMAGE_EXTENSIONS = (".png", ".svg")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

WRONG_FILE = ("Choose a .json, .jwt, .jws or .txt file that holds the credential, or a badge "
              "image (.png or .svg) with the credential baked in.")
EMPTY = ("Nothing to check yet: paste the credential, choose a file, or enter the address of "
         "a credential hosted here.")


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
    parts, home = urlsplit(url.strip()), urlsplit(base)
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


def from_url(session: Session, ctx: ServiceContext, url: str) -> Submission:
    credential_id = hosted_credential_id(url, ctx.base)
    if credential_id is None:
        raise FormProblem(
            f"Only credentials hosted by this service ({ctx.base}) can be checked by "
            "address; nothing was fetched from other sites. For a badge from elsewhere, "
            "download its JSON and paste it or upload the file instead."
        )
    try:
        credential = get_credential(session, credential_id)
    except NotFound:
        raise FormProblem("There is no credential at that address on this service. Check "
                          "the address, or paste the credential's JSON instead.", 404) from None
    return Submission(credential.document, "the credential at that address")


def read_submission(session: Session, ctx: ServiceContext, form: Mapping[str, str],
                    upload: FileStorage | None) -> Submission:
    """The one thing to check: an uploaded file, else pasted text, else a hosted URL."""
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
