"""The W3C CCG VC API (https://w3c-ccg.github.io/vc-api/): issue and verify.

``POST /credentials/issue`` signs as the issuer of the bearer token and stores what it
returns, so the credential is then served at its id URL. ``/credentials/verify`` and
``/presentations/verify`` are public (no token) and trust the issuers hosted here; a failed
verification answers 422 with the same body as a successful one, ``verified`` false.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.typing import ResponseReturnValue

from issuer.core.errors import InputError, UndefinedTermError
from issuer.core.identity import recipient_check
from issuer.core.nodes import types_of
from issuer.core.proofs.data_integrity import proofs_of
from issuer.core.proofs.vc_jwt import decode_compact
from issuer.core.verify import CHECK_TITLES, Check, Outcome, VerificationReport
from issuer.services.attestation_reading import read_endorsements
from issuer.services.vc_issue import issue
from issuer.services.verification import verify
from issuer.web.api.common import json_body, json_response, token_actor, token_issuer
from issuer.web.blueprints import vcapi as bp
from issuer.web.context import db, services
from issuer.web.errors import problem
from issuer.web.vcapi.results import result_json

TITLES = {**CHECK_TITLES, "challenge": "Challenge", "domain": "Domain",
          "proofPurpose": "Proof purpose", "checks": "Requested checks",
          "recipient": "Recipient"}
#: Names other VC API implementations give the checks this verifier runs.
CHECK_ALIASES = {"expiration": "dates", "validFrom": "dates", "validUntil": "dates",
                 "issuanceDate": "dates", "credentialStatus": "status", "signature": "proof"}


@bp.post("/credentials/issue")
def issue_credential() -> ResponseReturnValue:
    issuer = token_issuer()
    body = json_body("vc-issue")
    options = body.get("options") or {}
    try:
        issued = issue(db(), services(), issuer, body["credential"],
                       cryptosuite=options.get("cryptosuite"), actor=token_actor(),
                       status=True if "credentialStatus" in options else None)
    except UndefinedTermError as exc:
        return problem(422, exc.message, errors=[exc.message], term=exc.term)
    # The stored text, unchanged, is what the caller receives.
    response = Response('{"verifiableCredential":' + issued.document + "}", status=201,
                        mimetype="application/json")
    if issued.ours:
        response.headers["Location"] = f"{services().base}/credentials/{issued.row.id}"
    return response


def _answer(report: VerificationReport, extra: list[Check]) -> Response:
    checks = [*report.checks, *extra]
    body = result_json(checks, TITLES, issuer=report.issuer, fmt=report.format,
                       endorsements=read_endorsements(db(), services(), report.credential))
    return json_response(body, 200 if body["verified"] else 422)


def _option_checks(data: Any, options: dict[str, Any], kind: str) -> list[Check]:
    """VC API VerifyOptions (``checks``, ``challenge``, ``domain``, ``expectedProofPurpose``).

    Every check is run whatever ``checks`` names: asking for fewer cannot make a credential
    pass that would otherwise fail. A named check this verifier does not perform is a warning,
    so the caller knows it was not done.
    """
    extra: list[Check] = []
    unknown = [name for name in options.get("checks", ())
               if name not in TITLES and name not in CHECK_ALIASES]
    if unknown:
        extra.append(Check("checks", Outcome.WARNING,
                           "not performed by this verifier: " + ", ".join(unknown[:10])))
    purpose = options.get("expectedProofPurpose")
    if purpose is not None:
        extra.append(_purpose_check(purpose, kind))
    for name in ("challenge", "domain"):
        if name in options:
            extra.append(_bound_value(data, name, options[name]))
    return extra


def _purpose_check(wanted: str, kind: str) -> Check:
    """VC Data Integrity §4.4 step 8 (expectedProofPurpose): the verifier accepts only the
    purpose that fits what it verifies, which the proof check has already required."""
    own = "authentication" if kind == "presentation" else "assertionMethod"
    if wanted == own:
        return Check("proofPurpose", Outcome.PASSED, f"the proof purpose is {own}")
    return Check("proofPurpose", Outcome.FAILED,
                 f"a {kind} is verified for the proof purpose {own}, not {wanted!r}")


@bp.post("/credentials/verify")
def verify_credential() -> ResponseReturnValue:
    body = json_body("vc-verify-credential")
    data = body["verifiableCredential"]
    report = verify(db(), services(), data)
    extra: list[Check] = []
    if "VerifiablePresentation" in types_of(report.credential):
        extra.append(Check("type", Outcome.FAILED,
                           "this is a presentation: send it to /presentations/verify"))
    extra += _option_checks(data, body.get("options") or {}, "credential")
    wanted = (body.get("options") or {}).get("expectedRecipient")
    if wanted is not None:
        # An extension option: whose the credential is, by its identity objects (OB 3.0 §9.3).
        extra.append(recipient_check(report.credential, wanted, ob2=False))
    return _answer(report, extra)


@bp.post("/presentations/verify")
def verify_presentation() -> ResponseReturnValue:
    body = json_body("vc-verify-presentation")
    data = body["verifiablePresentation"]
    report = verify(db(), services(), data)
    extra: list[Check] = []
    if report.credential is not None and "VerifiablePresentation" not in types_of(
            report.credential):
        extra.append(Check("type", Outcome.FAILED,
                           "this is a credential, not a presentation: send it to "
                           "/credentials/verify"))
    extra += _option_checks(data, body.get("options") or {}, "presentation")
    return _answer(report, extra)


def _bound_value(data: Any, name: str, wanted: str) -> Check:
    """VC API presentations/verify options: the proof must carry the expected challenge or
    domain (Data Integrity §2.1 proof ``challenge``/``domain``; for a JWT the ``nonce`` and
    ``aud`` claims, RFC 7519 §4.1.3), so a presentation cannot be replayed elsewhere."""
    try:
        if isinstance(data, str):
            claim = "nonce" if name == "challenge" else "aud"
            found = [decode_compact(data).payload.get(claim)]
        else:
            found = [p.get(name) for p in proofs_of(data)]
    except InputError as exc:
        return Check(name, Outcome.FAILED, f"the {name} could not be read: {exc.message}")
    if found and all(_matches(value, wanted) for value in found):
        return Check(name, Outcome.PASSED, f"the presentation carries the expected {name}")
    return Check(name, Outcome.FAILED,
                 f"the presentation does not carry the expected {name} {wanted!r}")


def _matches(value: Any, wanted: str) -> bool:
    # A domain (or JWT audience) may be a list of which one must match.
    return wanted in value if isinstance(value, list) else value == wanted
