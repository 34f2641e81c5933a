"""The verification pipeline: a list of named checks, each with an outcome and plain words.

Order and content follow OB 3.0 §9.1 (OpenBadgeCredential Verification) and §9.2
(EndorsementCredential Verification), which the VC Data Model 2.0 §7 verification steps refine:

1. ``parse``        the input is one JSON credential or a compact JWS (OB 3.0 §5), given
                    as is or baked into a PNG or SVG image (OB 3.0 §5.3).
2. ``context``      the contexts are known and define every term (OB 3.0 §A.2, VCDM 2.0 §4.1).
3. ``type``         it is a verifiable credential of a type we know (OB 3.0 §B.1.2).
4. ``schema``       it passes the OB 3.0 JSON Schemas; the subject has an id or identifier
                    (OB 3.0 §9.1 step 1).
5. ``proof``        one proof verifies with a key the issuer controls (§9.1 step 2, §8).
6. ``refresh``      a refresh service is noted, not followed offline (§9.1 step 3).
7. ``dates``        validFrom has come and validUntil has not passed (§9.1 step 4).
8. ``status``       revocation/suspension, through a status checker the caller supplies
                    (§9.1 step 4); "could not check" is never shown as "not revoked".
9. ``endorsements`` every embedded EndorsementCredential, verified the same way (§9.1 step 6).

Presentations and CLR 2.0 records get a ``credentials`` check after ``proof``: every
credential they enclose is verified the same way.

A credential is valid when no check failed. Warnings are shown but do not invalidate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from issuer.core import baking
from issuer.core.canon import CanonicalMemo, WorkBudget
from issuer.core.datetimes import format_datetime, parse_datetime
from issuer.core.errors import InputError, IssuerError, UndefinedTermError
from issuer.core.json_input import parse_json
from issuer.core.jsonld import ContextLoader, check_context_list
from issuer.core.nodes import issuer_id, types_of
from issuer.core.proofs.data_integrity import SuiteContext, proofs_of, verify_one
from issuer.core.proofs.registry import suite_for_proof
from issuer.core.resolve import ResolvedKey, Resolver
from issuer.core.safe_mode import issuer_dependent_terms
from issuer.core.schema import SchemaRegistry
from issuer.core.vcdm import credential_problems

if TYPE_CHECKING:
    from issuer.core.proofs.vc_jwt import DecodedJws

# The compact JWS code (issuer.core.proofs.vc_jwt, jwt_claims) is imported where a JWT is met:
# most credentials are JSON with an embedded proof, and ``issuer verify`` pays for every
# module it loads on each run.
from issuer.core.vocab import VC_V1, VC_V2

__all__ = [
    "CHECK_TITLES",
    "KNOWN_TYPES",
    "MAX_ENDORSEMENT_DEPTH",
    "MAX_INPUT_BYTES",
    "OB_CONTEXT_PREFIX",
    "OB_CURRENT_CONTEXT",
    "OB_TYPES",
    "STATUS_NOT_AVAILABLE",
    "UNEXPECTED",
    "Check",
    "IssuanceRecord",
    "IssuanceRecords",
    "Outcome",
    "StatusChecker",
    "StatusResult",
    "VerificationReport",
    "Verifier",
]

OB_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/context"
OB_CURRENT_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

OB_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})
KNOWN_TYPES = OB_TYPES | {
    "EndorsementCredential",
    "ClrCredential",
    "BitstringStatusListCredential",
}

MAX_INPUT_BYTES = 5 * 1024 * 1024
MAX_ENDORSEMENT_DEPTH = 2


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    WARNING = "warning"


@dataclass(frozen=True)
class Check:
    id: str
    outcome: Outcome
    message: str
    details: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "outcome": str(self.outcome),
                                "message": self.message}
        if self.details:
            data["details"] = list(self.details)
        return data


#: The status check's answer when no status list can be had (never "not revoked").
STATUS_NOT_AVAILABLE = ("could not check whether the credential was revoked or suspended "
                        "(its status list was not available)")

CHECK_TITLES: dict[str, str] = {
    "parse": "Readable credential",
    "context": "Known contexts and terms",
    "type": "Credential type",
    "schema": "Open Badges schema",
    "proof": "Signature",
    "credentials": "Enclosed credentials",
    "refresh": "Refresh service",
    "dates": "Validity period",
    "status": "Revocation and suspension",
    "endorsements": "Endorsements",
}


@dataclass
class VerificationReport:
    checks: list[Check]
    credential: dict[str, Any] | None = None
    format: str = "json"
    issuer: str | None = None
    verification_method: str | None = None

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.outcome != Outcome.FAILED for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.outcome == Outcome.FAILED]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.outcome == Outcome.WARNING]

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "format": self.format,
            "issuer": self.issuer,
            "verificationMethod": self.verification_method,
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class StatusResult:
    outcome: Outcome
    message: str


@dataclass(frozen=True)
class IssuanceRecord:
    """What an issuer's own records say about a credential it is named on.

    ``issued_at`` is when the records say it was signed: better evidence than the proof's
    ``created``, which whoever holds the key writes. ``problem`` says why the records refuse
    it (never issued, issued with another key, different contents).
    """

    issued_at: datetime | None = None
    problem: str | None = None
    source: str = "the issuer's records"


class IssuanceRecords(Protocol):
    """Looks a credential up in its issuer's records; None when they do not cover it."""

    def __call__(
        self, credential: Mapping[str, Any], key: ResolvedKey
    ) -> IssuanceRecord | None: ...


class StatusChecker(Protocol):
    """Looks up one ``credentialStatus`` entry (Bitstring Status List, revocation lists)."""

    def __call__(
        self, entry: Mapping[str, Any], credential: Mapping[str, Any]
    ) -> StatusResult: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


UNEXPECTED = "the credential could not be checked: its structure is unexpected"


@dataclass(frozen=True)
class Verifier:
    """Runs the pipeline; everything it depends on is passed in."""

    loader: ContextLoader
    schemas: SchemaRegistry
    resolver: Resolver = field(default_factory=Resolver)
    status_checker: StatusChecker | None = None
    clock: Callable[[], datetime] = _utcnow
    budget: WorkBudget | None = None
    records: IssuanceRecords | None = None
    #: Canonical forms computed while signing what is now verified (the issuer's own check
    #: of what it just signed); None for any other verification.
    memo: CanonicalMemo | None = None

    # -- entry points -------------------------------------------------------------------

    def verify(self, data: str | bytes | Mapping[str, Any]) -> VerificationReport:
        """Verify a credential given as JSON text, a compact JWS, bytes of either, or a dict.

        Never raises: whatever the input, the answer is a report.
        """
        try:
            return self._verify(data, depth=0)
        except Exception as exc:  # noqa: BLE001 - hostile input must yield a report, not a crash
            return VerificationReport(checks=[
                Check("parse", Outcome.FAILED, UNEXPECTED, (type(exc).__name__,)),
            ])

    def _verify(self, data: str | bytes | Mapping[str, Any], *, depth: int) -> VerificationReport:
        try:
            parsed, origin = self._parse_with_origin(data)
        except IssuerError as exc:
            return VerificationReport(
                checks=[Check("parse", Outcome.FAILED, exc.message)]
                + [
                    Check(cid, Outcome.SKIPPED, "not checked: the input could not be read")
                    for cid in ("context", "type", "schema", "proof", "dates", "status")
                ]
            )
        if isinstance(parsed, dict):
            report = self._verify_document(parsed, depth=depth)
        else:
            report = self._verify_jws(parsed, depth=depth)
        if origin is not None and report.checks and report.checks[0].id == "parse":
            first = report.checks[0]
            report.checks[0] = replace(
                first, message=f"{first.message}, baked into {_IMAGE_NAMES[origin]}"
            )
        return report

    def _parse_with_origin(
        self, data: str | bytes | Mapping[str, Any]
    ) -> tuple[dict[str, Any] | DecodedJws, str | None]:
        """The parsed credential, and ``png`` or ``svg`` when it was baked into an image.

        Images are told by their content (OB 3.0 §5.3), never by a file name; everything
        else is read by :meth:`_parse` exactly as before.
        """
        if isinstance(data, Mapping) or (kind := _image_kind(data)) is None:
            return self._parse(data), None
        if len(data) > baking.MAX_IMAGE_BYTES:
            raise InputError(f"the image is larger than {baking.MAX_IMAGE_BYTES // 2**20} MB")
        payload = baking.extract(data)
        if payload is None or not payload.strip():
            raise InputError("this image has no baked credential")
        try:
            return self._parse(payload), kind
        except IssuerError as exc:
            raise InputError(
                f"the credential baked into this {kind.upper()} image cannot be read: "
                f"{exc.message}"
            ) from None

    def _parse(self, data: str | bytes | Mapping[str, Any]) -> dict[str, Any] | DecodedJws:
        if isinstance(data, Mapping):
            return dict(data)
        if isinstance(data, bytes | bytearray):
            if len(data) > MAX_INPUT_BYTES:
                raise InputError("the input is larger than 5 MB")
            try:
                data = bytes(data).decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InputError("the input is neither UTF-8 JSON nor a JWT") from None
        if not isinstance(data, str):
            raise InputError("the input must be JSON text or a JWT")
        if len(data) > MAX_INPUT_BYTES:
            raise InputError("the input is larger than 5 MB")
        text = data.strip()
        if not text:
            raise InputError("the input is empty")
        if text.startswith("{"):
            value = parse_json(text)
            if not isinstance(value, dict):
                raise InputError("a credential must be a JSON object")
            return value
        from issuer.core.proofs.vc_jwt import decode_compact, looks_like_jws

        if looks_like_jws(text):
            return decode_compact(text)
        if text.startswith("["):
            raise InputError("one credential was expected, not a JSON list")
        raise InputError("the input is neither a JSON credential nor a compact JWT")

    # -- JSON documents with embedded proofs -------------------------------------------

    def _verify_document(self, doc: dict[str, Any], *, depth: int) -> VerificationReport:
        checks: list[Check] = [Check("parse", Outcome.PASSED, "the credential is valid JSON")]
        context_ok, context_check = self._check_context(doc)
        checks.append(context_check)
        type_check, kind = self._check_type(doc)
        checks.append(type_check)
        checks.append(self._check_schema(doc, kind))
        issuer = issuer_id(doc)
        proof_check, method = (
            self._check_embedded_proofs(doc, issuer, kind)
            if context_ok
            else (Check("proof", Outcome.SKIPPED, "not checked: the contexts are not usable"),
                  None)
        )
        checks.append(proof_check)
        if kind in ("presentation", "clr"):
            checks.append(self._check_enclosed(doc, depth=depth, record=kind == "clr"))
        checks.extend(self._lifecycle_checks(doc, depth=depth))
        return VerificationReport(
            checks=checks, credential=doc, format="json", issuer=issuer,
            verification_method=method,
        )

    def _check_context(
        self, doc: Mapping[str, Any], *, embedded_proof: bool = True
    ) -> tuple[bool, Check]:
        """Known contexts; with an embedded proof, also nothing the signature would miss.

        A JWS signs the exact bytes, so for a JWT what JSON-LD would drop is a remark about
        meaning, not a hole in the signature.
        """
        doc = _without_unknown_proofs(doc)
        ctx = doc.get("@context")
        contexts = _as_list(ctx)
        if not contexts:
            return False, Check("context", Outcome.FAILED, "the credential has no @context")
        if contexts[0] not in (VC_V2, VC_V1):
            return False, Check(
                "context", Outcome.FAILED,
                f"the first context must be {VC_V2} (or {VC_V1} for VCDM 1.1), "
                f"not {contexts[0]!r}",
            )
        try:
            check_context_list(doc, self.loader)
        except IssuerError as exc:
            return False, Check("context", Outcome.FAILED, exc.message)
        unsigned_parts = _unsignable_values(doc) if embedded_proof else []
        if unsigned_parts:
            return False, Check(
                "context", Outcome.FAILED,
                "the credential contains null values, empty lists or repeated list items, "
                "which a signature does not cover (OB 3.0 §A.1 says to omit them)",
                tuple(unsigned_parts[:10]),
            )
        types = set(types_of(doc))
        notes: list[str] = []
        if types & (OB_TYPES | {"EndorsementCredential"}):
            ob = [c for c in contexts if isinstance(c, str) and c.startswith(OB_CONTEXT_PREFIX)]
            if not ob:
                return False, Check(
                    "context", Outcome.FAILED,
                    "an Open Badges credential must name the OB 3.0 context",
                )
            if contexts[0] == VC_V2 and ob[0] != OB_CURRENT_CONTEXT:
                notes.append(f"it uses the older OB context {ob[0]}, not {OB_CURRENT_CONTEXT}")
        try:
            # Safe-mode expansion's verdict, from the fast RDF path when it takes the document.
            dependent = issuer_dependent_terms(doc, self.loader)
        except UndefinedTermError as exc:
            if embedded_proof:
                return False, Check("context", Outcome.FAILED, exc.message)
            return True, Check("context", Outcome.WARNING,
                               "the contexts are known, with remarks", (exc.message,))
        except IssuerError as exc:
            return False, Check("context", Outcome.FAILED, exc.message)
        if dependent:
            terms = ", ".join(sorted(set(dependent))[:10])
            notes.append(
                f"terms only the issuer can interpret (not defined by any shared vocabulary): "
                f"{terms}"
            )
        if notes:
            return True, Check(
                "context", Outcome.WARNING, "the contexts are known, with remarks",
                tuple(notes),
            )
        return True, Check(
            "context", Outcome.PASSED, "every context is known and defines every term used"
        )

    def _check_type(self, doc: Mapping[str, Any]) -> tuple[Check, str]:
        types = types_of(doc)
        if "VerifiablePresentation" in types:
            return Check("type", Outcome.PASSED, "a verifiable presentation"), "presentation"
        if "VerifiableCredential" not in types:
            return (
                Check("type", Outcome.FAILED, "the type must include VerifiableCredential"),
                "unknown",
            )
        known = [t for t in types if t in KNOWN_TYPES]
        if set(types) & OB_TYPES:
            return Check("type", Outcome.PASSED, "an Open Badges 3.0 achievement credential"), "ob"
        if "EndorsementCredential" in types:
            return Check("type", Outcome.PASSED, "an Open Badges 3.0 endorsement"), "endorsement"
        if "ClrCredential" in types:
            return Check("type", Outcome.PASSED, "a CLR 2.0 learner record"), "clr"
        if known:
            return Check("type", Outcome.PASSED, f"a {known[0]}"), "other"
        return (
            Check("type", Outcome.PASSED,
                  "a verifiable credential (not an Open Badges credential)"),
            "vc",
        )

    def _check_schema(self, doc: Mapping[str, Any], kind: str) -> Check:
        problems: list[str] = []
        notes: list[str] = []
        if kind in ("ob", "endorsement"):
            subject = doc.get("credentialSubject")
            if kind == "ob" and isinstance(subject, Mapping) and not (
                subject.get("id") or subject.get("identifier")
            ):
                problems.append(
                    "credentialSubject has neither an id nor an identifier (OB 3.0 §9.1)"
                )
            if _as_list(doc.get("@context"))[:1] == [VC_V1]:
                notes.append("no bundled schema for VCDM 1.1 Open Badges; structure not checked")
        if kind != "presentation":
            # The VC Data Model MUSTs no JSON Schema states; issuing applies the same ones.
            problems.extend(credential_problems(doc))
        selection = self.schemas.schemas_for(doc)
        known = [] if notes else selection.known
        for url in known:
            for err in self.schemas.validate(doc, url, compacted=True):
                problems.append(err)
        for url in selection.unknown:
            notes.append(f"the schema {url} is not available offline and was not checked")
        if problems:
            return Check("schema", Outcome.FAILED,
                         f"the credential does not match the schema ({len(problems)} problem"
                         f"{'s' if len(problems) != 1 else ''})", tuple(problems[:20]))
        if notes:
            return Check("schema", Outcome.WARNING,
                         "the structure could only be partly checked", tuple(notes))
        if known:
            return Check("schema", Outcome.PASSED,
                         "the credential matches the Open Badges 3.0 schema")
        return Check("schema", Outcome.SKIPPED, "no bundled schema applies to this credential")

    def _check_embedded_proofs(
        self, doc: Mapping[str, Any], issuer: str | None, kind: str
    ) -> tuple[Check, str | None]:
        try:
            proofs = proofs_of(doc)
        except InputError as exc:
            return Check("proof", Outcome.FAILED, exc.message), None
        if not proofs:
            if kind == "presentation":
                # VCDM 2.0 §4.13: a presentation may be unsecured; what it encloses is still
                # verified, but nothing proves who presents it.
                return Check("proof", Outcome.WARNING,
                             "the presentation has no proof, so nothing proves who presents "
                             "it"), None
            return Check("proof", Outcome.FAILED, "the credential carries no proof"), None
        purpose = "authentication" if kind == "presentation" else "assertionMethod"
        if issuer is None and kind != "presentation":
            return Check("proof", Outcome.FAILED, "the credential names no issuer"), None
        ctx = SuiteContext(loader=self.loader, budget=self.budget, memo=self.memo)
        details: list[str] = []
        verified_by: str | None = None
        failed = unknown = 0
        cautions: list[str] = []
        seen: dict[str, int] = {}
        for index, proof in enumerate(proofs, start=1):
            label = f"proof {index}" if len(proofs) > 1 else "proof"
            # A repeated proof is a second graph of the set (VC Data Integrity §2.1.1), not
            # a second signer: it is checked like the others and said to be a repeat.
            fingerprint = json.dumps(proof, sort_keys=True)
            if fingerprint in seen:
                label += f" (the same as proof {seen[fingerprint]})"
            seen.setdefault(fingerprint, index)
            suite = suite_for_proof(proof)
            if suite is None:
                # VC Data Integrity §4.5: a verifier checks the proofs it understands; one of a
                # suite it does not know is reported, and cannot be what makes it valid.
                unknown += 1
                details.append(f"{label}: not checked, {_unsupported(proof)}")
                continue
            method = proof.get("verificationMethod")
            ok, why, key, caution = self._verify_proof(doc, proof, proofs, suite, issuer,
                                                       purpose, ctx)
            source = f", key from {key.source}" if key is not None else ""
            by_other = key is not None and issuer is not None and key.controller != issuer
            details.append(f"{label} ({suite.name}, {method}{source}): {why}")
            if not ok:
                failed += 1
            elif caution is not None and caution not in cautions:
                cautions.append(caution)
            if ok and verified_by is None and key is not None and not by_other:
                verified_by = key.method_id
        signer = issuer or "the holder"
        if failed:
            # VC Data Integrity §4.5 (verify proof sets and chains): every proof of a set and
            # every link of a chain must verify, or the whole document is not verified.
            message = (details[0] if len(details) == 1
                       else f"{failed} of {len(proofs)} proofs could not be verified")
            return Check("proof", Outcome.FAILED, message, tuple(details)), None
        if verified_by is None:
            message = (details[0] if len(details) == 1
                       else f"no proof is by the issuer {issuer}" if unknown < len(proofs)
                       else "no proof could be verified")
            return Check("proof", Outcome.FAILED, message, tuple(details)), None
        outcome = Outcome.WARNING if unknown or cautions else Outcome.PASSED
        return Check(
            "proof", outcome, f"signed by {signer} with a key it controls ({verified_by})"
            + (f"; {unknown} proof{'s' if unknown != 1 else ''} of an unsupported suite "
               "not checked" if unknown else "")
            + "".join(f"; {caution}" for caution in cautions),
            tuple(details),
        ), verified_by

    def _verify_proof(
        self, doc: Mapping[str, Any], proof: Mapping[str, Any],
        proofs: list[Mapping[str, Any]], suite: Any, issuer: str | None, purpose: str,
        ctx: SuiteContext,
    ) -> tuple[bool, str, ResolvedKey | None, str | None]:
        """One proof of a set or chain: (verified, why, the key it was checked with, a caution)."""
        method = proof.get("verificationMethod")
        if not isinstance(method, str) or not method:
            # VC Data Integrity §2.1: no suite supported here names its key any other way.
            return (False, "the proof has no verificationMethod, so the key that made it "
                    "cannot be found (VC Data Integrity §2.1)", None, None)
        # VCDM 2.0 §4.13: a presentation need not name its holder; its proof is then
        # checked against the controller of the key it names.
        own = str(method).split("#", 1)[0]
        controller = issuer if issuer is not None else own
        try:
            key = self.resolver.assertion_key(str(method), controller, purpose=purpose)
        except IssuerError as exc:
            if own == controller:
                return False, exc.message, None, None
            # VC Data Integrity §4.3: the proofs of a set may come from different parties;
            # one by another controller is checked against that controller's document.
            try:
                key = self.resolver.assertion_key(str(method), own, purpose=purpose)
            except IssuerError:
                return False, exc.message, None, None
            not_issuers = exc.message
        else:
            not_issuers = None
        ok, why = verify_one(doc, proof, proofs, suite, key.public_key, ctx,
                             expected_purpose=purpose, now=self.clock())
        caution = None
        if ok:
            created = proof.get("created")
            # verify_one has refused a malformed "created" already.
            claimed = parse_datetime(created) if isinstance(created, str) else None
            problem, note, caution = self._signing_time(doc, key, claimed, "its proof")
            ok, why = (False, problem) if problem else (True, why + note)
        if not_issuers is not None:
            why += f" (a proof by {key.controller}, not by {issuer}: {not_issuers})"
        return ok, why, key, caution

    # -- compact JWS -------------------------------------------------------------------

    def _verify_jws(self, decoded: DecodedJws, *, depth: int) -> VerificationReport:
        from issuer.core.proofs.jwt_claims import without_claims
        from issuer.core.proofs.vc_jwt import credential_of, profile_of

        checks: list[Check] = [
            Check("parse", Outcome.PASSED, f"a compact JWT ({profile_of(decoded)})")
        ]
        try:
            credential = credential_of(decoded)
        except IssuerError as exc:
            checks.append(Check("context", Outcome.FAILED, exc.message))
            return VerificationReport(checks=checks, format="jwt")
        # The registered claims travel beside the credential, they are not part of it.
        doc = without_claims(credential)
        _, context_check = self._check_context(doc, embedded_proof=False)
        checks.append(context_check)
        type_check, kind = self._check_type(doc)
        checks.append(type_check)
        checks.append(self._check_schema(doc, kind))
        issuer = issuer_id(doc) or decoded.payload.get("iss")
        proof_check, method = self._check_jws_proof(decoded, issuer)
        checks.append(proof_check)
        if kind in ("presentation", "clr"):
            checks.append(self._check_enclosed(doc, depth=depth, record=kind == "clr"))
        checks.extend(self._lifecycle_checks(doc, depth=depth))
        return VerificationReport(
            checks=checks, credential=doc, format="jwt",
            issuer=issuer if isinstance(issuer, str) else None, verification_method=method,
        )

    def _check_jws_proof(
        self, decoded: DecodedJws, issuer: Any
    ) -> tuple[Check, str | None]:
        from issuer.core.proofs.jwt_claims import signing_time, without_claims
        from issuer.core.proofs.vc_jwt import claim_problems, credential_of, verify_signature

        if not isinstance(issuer, str):
            return Check("proof", Outcome.FAILED, "the JWT names no issuer"), None
        kid = decoded.header.get("kid")
        jwk = decoded.header.get("jwk")
        try:
            key = self.resolver.jwt_key(
                issuer, kid=kid if isinstance(kid, str) else None,
                jwk=jwk if isinstance(jwk, Mapping) else None,
            )
        except IssuerError as exc:
            return Check("proof", Outcome.FAILED, exc.message), None
        ok, why = verify_signature(decoded, key.public_key)
        if not ok:
            return Check("proof", Outcome.FAILED, why), None
        problems = claim_problems(decoded, self.clock())
        if problems:
            return Check("proof", Outcome.FAILED,
                         "the signature is valid but the JWT claims are not",
                         tuple(problems)), None
        credential = without_claims(credential_of(decoded))
        claimed, basis = signing_time(decoded.payload, credential_of(decoded))
        problem, note, caution = self._signing_time(credential, key, claimed, basis)
        if problem:
            return Check("proof", Outcome.FAILED, problem,
                         (f"{why}; key from {key.source}",)), None
        return Check(
            "proof", Outcome.PASSED if caution is None else Outcome.WARNING,
            f"signed by {issuer} with a key it controls ({key.method_id})"
            + (f"; {caution}" if caution else ""),
            (f"{why}; key from {key.source}{note}",),
        ), key.method_id

    def _signing_time(
        self, doc: Mapping[str, Any], key: ResolvedKey, claimed: datetime | None, basis: str
    ) -> tuple[str | None, str, str | None]:
        """(why the proof fails, or None; a note for the details; a caution, or None).

        Controlled Identifiers §2.2 ``revoked``: proofs made at or after the key's revocation
        do not verify. The signer writes ``created`` (or ``iat``), so a thief holding the key
        could back-date it: the issuer's own records, when the verifier has them, decide.
        Without them an earlier date is taken, but with a caution: it proves nothing.
        """
        record = self.records(doc, key) if self.records is not None else None
        if record is not None and record.problem:
            return record.problem, "", None
        confirmed = False
        if record is not None and record.issued_at is not None:
            claimed, basis, confirmed = record.issued_at, record.source, True
        if key.revoked is None:
            return None, "", None
        since = format_datetime(key.revoked)
        if claimed is None:
            return (
                f"{basis} does not say when it was signed, and its key {key.method_id} is "
                f"reported compromised by its issuer since {since}; re-issue the badge"
            ), "", None
        if claimed >= key.revoked:
            return (
                f"signed on {format_datetime(claimed)} (according to {basis}) with key "
                f"{key.method_id}, which its issuer reports compromised since {since}; "
                "re-issue the badge"
            ), "", None
        caution = None if confirmed else (
            f"the key that signed this ({key.method_id}) was reported compromised since "
            f"{since}; a badge signed with it cannot prove it was signed before that date "
            "unless the issuer's records say so"
        )
        return None, (
            f"; signed on {format_datetime(claimed)} (according to {basis}), before its key was "
            f"reported compromised (since {since})"
        ), caution

    # -- presentations ----------------------------------------------------------------

    def _check_enclosed(self, vp: Mapping[str, Any], *, depth: int,
                        record: bool = False) -> Check:
        """VCDM 2.0 §4.13 / VC-JOSE-COSE §3.2: every enclosed credential must verify.

        A CLR 2.0 ClrCredential (``record``) encloses the learner's AchievementCredentials in
        ``credentialSubject.verifiableCredential``: CLR 2.0 (ClrSubject) requires at least
        one, and each must verify as it would on its own; the record's own proof only says
        who assembled them.
        """
        entries = _record_entries(vp) if record else _as_list(vp.get("verifiableCredential"))
        if not entries:
            if record:
                return Check("credentials", Outcome.FAILED,
                             "the learner record encloses no credential (CLR 2.0 requires at "
                             "least one AchievementCredential)")
            return Check("credentials", Outcome.SKIPPED, "the presentation encloses no credential")
        details: list[str] = []
        failures = unchecked = 0
        for index, entry in enumerate(entries, start=1):
            envelope = _unsupported_envelope(entry)
            if envelope is not None:
                unchecked += 1
                details.append(f"credential {index}: secured as {envelope}, which this "
                               "verifier does not check")
                continue
            if record and _not_an_achievement_credential(entry):
                # Checked before verifying: a record nested in a record is not looked into.
                failures += 1
                details.append(f"credential {index}: not an AchievementCredential, the only "
                               "kind a CLR 2.0 record encloses")
                continue
            report = self._enclosed_report(entry, depth=depth)
            if record and report.valid and _not_an_achievement_credential(report.credential):
                failures += 1
                details.append(f"credential {index}: not an AchievementCredential, the only "
                               "kind a CLR 2.0 record encloses")
            elif report.valid:
                details.append(f"credential {index}: valid")
            else:
                failures += 1
                first = report.failed[0] if report.failed else None
                why = f"{first.id}: {first.message}" if first else "invalid"
                details.append(f"credential {index}: {why}")
        if failures:
            return Check("credentials", Outcome.FAILED,
                         f"{failures} of {len(entries)} enclosed credentials are not valid",
                         tuple(details))
        if unchecked:
            return Check("credentials", Outcome.WARNING,
                         f"{len(entries) - unchecked} of {len(entries)} enclosed credentials "
                         f"verified; {unchecked} could not be checked", tuple(details))
        return Check("credentials", Outcome.PASSED,
                     f"all {len(entries)} enclosed credentials are valid", tuple(details))

    def _enclosed_report(self, entry: Any, *, depth: int) -> VerificationReport:
        if isinstance(entry, Mapping) and "EnvelopedVerifiableCredential" in types_of(entry):
            data_url = entry.get("id")
            prefix = "data:application/vc+jwt,"
            if not isinstance(data_url, str) or not data_url.startswith(prefix):
                return VerificationReport(checks=[Check(
                    "parse", Outcome.FAILED,
                    "an enveloped credential must be a data:application/vc+jwt URL",
                )])
            report = self._verify(data_url[len(prefix):], depth=depth + 1)
            if report.format == "jwt" and report.checks[0].outcome == Outcome.PASSED:
                from issuer.core.proofs.vc_jwt import JOSE_PROFILE, decode_compact, profile_of

                decoded = decode_compact(data_url[len(prefix):])
                if profile_of(decoded) != JOSE_PROFILE:
                    report.checks.append(Check("parse", Outcome.FAILED,
                                               "the enveloped credential is not a vc+jwt"))
            return report
        if isinstance(entry, Mapping):
            return self._verify(entry, depth=depth + 1)
        if isinstance(entry, str):
            return self._verify(entry, depth=depth + 1)
        return VerificationReport(checks=[Check("parse", Outcome.FAILED,
                                                "an enclosed credential is not readable")])

    # -- after the proof: refresh, dates, status, endorsements ------------------------

    def _lifecycle_checks(self, doc: Mapping[str, Any], *, depth: int) -> list[Check]:
        checks = [self._check_refresh(doc), self._check_dates(doc), self._check_status(doc)]
        checks.append(self._check_endorsements(doc, depth=depth))
        return checks

    def _check_refresh(self, doc: Mapping[str, Any]) -> Check:
        service = doc.get("refreshService")
        if service is None:
            return Check("refresh", Outcome.SKIPPED, "the credential offers no refresh service")
        return Check("refresh", Outcome.SKIPPED,
                     "the credential offers a refresh service; it is not contacted when "
                     "verifying offline, so this is the credential as presented")

    def _check_dates(self, doc: Mapping[str, Any]) -> Check:
        now = self.clock()
        start_name = "validFrom" if "validFrom" in doc else "issuanceDate"
        end_name = "validUntil" if "validUntil" in doc else "expirationDate"
        try:
            start = parse_datetime(doc[start_name]) if start_name in doc else None
            end = parse_datetime(doc[end_name]) if end_name in doc else None
        except InputError as exc:
            return Check("dates", Outcome.FAILED, exc.message)
        if start is not None and start > now:
            return Check("dates", Outcome.FAILED,
                         f"not valid yet: valid from {doc[start_name]}")
        if end is not None and end < now:
            return Check("dates", Outcome.FAILED, f"expired on {doc[end_name]}")
        if start is not None and end is not None and end < start:
            return Check("dates", Outcome.FAILED, "it expires before it becomes valid")
        if end is not None:
            return Check("dates", Outcome.PASSED, f"valid until {doc[end_name]}")
        return Check("dates", Outcome.PASSED, "valid, with no expiry date")

    def _check_status(self, doc: Mapping[str, Any]) -> Check:
        entries = _as_list(doc.get("credentialStatus"))
        if not entries:
            return Check("status", Outcome.SKIPPED,
                         "the credential carries no status information, so it cannot be "
                         "revoked or suspended through a list")
        if self.status_checker is None:
            return Check("status", Outcome.WARNING, STATUS_NOT_AVAILABLE)
        results = []
        for entry in entries:
            if not isinstance(entry, Mapping):
                results.append(StatusResult(Outcome.FAILED, "a status entry is not an object"))
                continue
            try:
                results.append(self.status_checker(entry, doc))
            except IssuerError as exc:
                results.append(StatusResult(Outcome.WARNING,
                                            f"could not check the status: {exc.message}"))
        worst = _worst([r.outcome for r in results])
        message = next((r.message for r in results if r.outcome == worst), results[0].message)
        return Check("status", worst, message, tuple(r.message for r in results))

    def _check_endorsements(self, doc: Mapping[str, Any], *, depth: int) -> Check:
        found: list[Any] = list(_as_list(doc.get("endorsement")))
        subject = doc.get("credentialSubject")
        if isinstance(subject, Mapping):
            achievement = subject.get("achievement")
            if isinstance(achievement, Mapping):
                found.extend(_as_list(achievement.get("endorsement")))
        issuer = doc.get("issuer")
        if isinstance(issuer, Mapping):
            found.extend(_as_list(issuer.get("endorsement")))
        for container in (doc, subject if isinstance(subject, Mapping) else {}):
            found.extend(_as_list(container.get("endorsementJwt")))
        if not found:
            return Check("endorsements", Outcome.SKIPPED, "no embedded endorsements")
        if depth >= MAX_ENDORSEMENT_DEPTH:
            return Check("endorsements", Outcome.SKIPPED,
                         "endorsements nested this deep are not checked")
        details = []
        good = 0
        for index, endorsement in enumerate(found, start=1):
            report = self._verify(endorsement, depth=depth + 1)
            name = _endorser_name(report.credential) or f"endorsement {index}"
            if report.valid:
                good += 1
                details.append(f"{name}: verified")
            else:
                failed = report.failed[0]
                details.append(f"{name}: not verified ({failed.id}: {failed.message})")
        if good == len(found):
            return Check("endorsements", Outcome.PASSED,
                         f"{good} endorsement{'s' if good != 1 else ''} verified",
                         tuple(details))
        # An endorsement that fails does not make the badge itself invalid, but it must not
        # be shown as a verified endorsement either.
        return Check("endorsements", Outcome.WARNING,
                     f"{len(found) - good} of {len(found)} endorsements could not be verified",
                     tuple(details))


_IMAGE_NAMES = {"png": "a PNG image", "svg": "an SVG image"}


def _image_kind(data: Any) -> str | None:
    if isinstance(data, bytes | bytearray | str):
        return baking.image_format(bytes(data) if isinstance(data, bytearray) else data)
    return None


#: Enveloped credentials secured in ways this verifier does not implement; they are reported
#: as unchecked, never as valid.
_UNSUPPORTED_ENVELOPES = ("data:application/vc+sd-jwt", "data:application/vc+cose")


def _record_entries(clr: Mapping[str, Any]) -> list[Any]:
    """The credentials a ClrCredential encloses, from each of its subjects."""
    entries: list[Any] = []
    for subject in _as_list(clr.get("credentialSubject")):
        if isinstance(subject, Mapping):
            entries.extend(_as_list(subject.get("verifiableCredential")))
    return entries


def _not_an_achievement_credential(entry: Any) -> bool:
    """True for a JSON credential of another type; JWTs and envelopes are decoded first."""
    if not isinstance(entry, Mapping) or "EnvelopedVerifiableCredential" in types_of(entry):
        return False
    return not set(types_of(entry)) & OB_TYPES


def _unsupported_envelope(entry: Any) -> str | None:
    if not isinstance(entry, Mapping):
        return None
    ident = entry.get("id")
    if "EnvelopedVerifiableCredential" not in types_of(entry):
        return None
    if isinstance(ident, str):
        for prefix in _UNSUPPORTED_ENVELOPES:
            if ident.startswith(prefix):
                return prefix.removeprefix("data:application/")
    return None


def _unsupported(proof: Mapping[str, Any]) -> str:
    """Why a proof is not checked: VC Data Integrity §2.1 requires a ``type``, and a
    ``DataIntegrityProof`` names its ``cryptosuite``."""
    kind = proof.get("type")
    if kind is None:
        return "the proof has no type (VC Data Integrity §2.1)"
    suite = proof.get("cryptosuite")
    if kind == "DataIntegrityProof" and suite is not None:
        return f"the cryptosuite {suite!r} is not supported"
    return f"the proof type {kind!r} is not supported"


def _without_unknown_proofs(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """``doc`` without the proofs of suites this verifier does not know.

    Their options may use terms our contexts do not define (VC Data Integrity §4.5 leaves
    them to verifiers that know the suite); they are reported by the proof check, not
    expanded here. A proof chained to one of them still carries it into its own hashing.
    """
    proof = doc.get("proof")
    if isinstance(proof, Mapping):
        return doc if suite_for_proof(proof) is not None else {
            k: v for k, v in doc.items() if k != "proof"}
    if not isinstance(proof, list):
        return doc
    known = [p for p in proof if not isinstance(p, Mapping) or suite_for_proof(p) is not None]
    if len(known) == len(proof):
        return doc
    rest = {k: v for k, v in doc.items() if k != "proof"}
    if known:
        rest["proof"] = known
    return rest


def _unsignable_values(node: Any, path: str = "") -> list[str]:
    """Where ``node`` holds null or an empty list: JSON-LD drops both before signing."""
    found: list[str] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "@context":
                continue  # a context may map a term to null on purpose
            if key == "proof" and not path:
                # Each proof's options, all but its value, are signed as its configuration
                # (VC Data Integrity §4.2 step 2): JSON-LD drops the same things there.
                proofs = value if isinstance(value, list) else [value]
                for i, proof in enumerate(proofs):
                    if isinstance(proof, Mapping):
                        where = f"proof[{i}]" if isinstance(value, list) else "proof"
                        options = {k: v for k, v in proof.items() if k != "proofValue"}
                        found.extend(f"{where}.{part}"
                                     for part in _unsignable_values(options, ""))
                continue
            where = f"{path}.{key}" if path else str(key)
            if value is None or value == []:
                found.append(where)
            else:
                found.extend(_unsignable_values(value, where))
    elif isinstance(node, list):
        seen: set[str] = set()
        for i, value in enumerate(node):
            where = f"{path}[{i}]"
            # JSON-LD sets ignore repeats, so a repeated value is not signed a second time.
            # An object without an id is a node of its own (a blank node): repeats of it stay
            # apart in the signed data, and removing one breaks the signature.
            fingerprint = json.dumps(value, sort_keys=True)
            if value is None or (fingerprint in seen and not _blank_node(value)):
                found.append(where)
            else:
                seen.add(fingerprint)
                found.extend(_unsignable_values(value, where))
    return found


def _blank_node(value: Any) -> bool:
    return (isinstance(value, Mapping) and "id" not in value and "@id" not in value
            and "@value" not in value)


def _endorser_name(credential: Mapping[str, Any] | None) -> str | None:
    if not isinstance(credential, Mapping):
        return None
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        return str(issuer.get("name") or issuer.get("id") or "") or None
    return issuer if isinstance(issuer, str) else None


_SEVERITY = {Outcome.FAILED: 3, Outcome.WARNING: 2, Outcome.PASSED: 1, Outcome.SKIPPED: 0}


def _worst(outcomes: list[Outcome]) -> Outcome:
    return max(outcomes, key=lambda o: _SEVERITY[o])
