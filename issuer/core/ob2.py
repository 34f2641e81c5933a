"""Open Badges 2.0 assertions: hosted and signed verification, without any network of its own.

Open Badges v2.0 (IMS Final Release), section "Verification" and the classes it uses
(https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html#Verification):

* **Hosted** (``verification.type`` ``hosted``/``HostedBadge``): the assertion is fetched
  from its ``id``; that copy is what counts, and what was presented must equal it. Its URL
  must be within the issuer's allowed scope: the issuer Profile's VerificationObject
  ``allowedOrigins`` (host names) and ``startsWith`` (URL prefixes), else the origin of the
  issuer's ``id`` ("Verification" → "Hosted Verification"; "VerificationObject").
* **Signed** (``signed``/``SignedBadge``): a compact JWS (RFC 7515) whose payload is the
  assertion, signed with the key that ``verification.creator`` names: a CryptographicKey
  whose ``owner`` is the issuer and whose ``publicKeyPem`` verifies the signature
  ("Signed Verification"; "CryptographicKey"). RS256 (as the spec names) and ES256.
* Either way: the BadgeClass (``badge``) and the issuer Profile (``issuer``) are fetched,
  ``expires`` must not have passed, and the issuer's ``revocationList`` must not list the
  assertion ("RevocationList"); a hosted assertion that says ``revoked: true`` is revoked.
* ``recipient`` is an IdentityObject: plain, or ``hashed`` as ``sha256$<hex>``/``md5$<hex>``
  of the identity followed by ``salt`` ("IdentityObject"); :func:`recipient_matches` tells
  whether an email is the recipient.

Everything on the network comes through a ``fetch`` callable the caller supplies (the
guarded fetcher at the edges); it answers a JSON object, None for "not there" (404), a
:class:`Gone` for HTTP 410, or raises :class:`IssuerError`. A hosted assertion whose URL
answers 410 Gone is revoked ("Hosted Verification": an issuer may answer a revoked hosted
assertion with 410 and a body ``{"revoked": true}``). The answer is the verifier's
:class:`VerificationReport`.

With a context loader, each assertion is also read as JSON-LD against the bundled OB 2.0
context (https://w3id.org/openbadges/v2, never fetched): its types must expand to the OB 2.0
vocabulary, and terms no bundled context defines are reported (JSON-LD 1.0 would drop them
silently; OB 2.0 itself allows extensions with contexts of their own, so this is a remark,
not a failure).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from issuer.core import baking
from issuer.core.datetimes import parse_datetime
from issuer.core.errors import ContextError, InputError, IssuerError, UndefinedTermError
from issuer.core.json_input import parse_json
from issuer.core.multibase import b64url_decode
from issuer.core.verify import Check, Outcome, VerificationReport

if TYPE_CHECKING:
    from issuer.core.jsonld import ContextLoader

__all__ = [
    "MAX_FETCHES",
    "OB2_CHECK_TITLES",
    "OB2_CONTEXT",
    "Fetch",
    "Gone",
    "ob2_payload",
    "recipient_matches",
    "verify_ob2",
]

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
#: Documents one verification may fetch: assertion, BadgeClass, issuer, key, revocation list.
MAX_FETCHES = 8

#: Titles of the checks only OB 2.0 reports have (the others are in ``verify.CHECK_TITLES``).
OB2_CHECK_TITLES = {"issuer": "Badge and issuer", "recipient": "Recipient"}

#: Terms of the OB 2.0 vocabulary (the ``obi`` prefix of the context).
OBI = "https://w3id.org/openbadges#"


@dataclass(frozen=True)
class Gone:
    """A URL that answered HTTP 410 Gone (RFC 9110 §15.5.11), with the JSON object it sent,
    if any."""

    document: Mapping[str, Any] | None = None


Fetch = Callable[[str], Mapping[str, Any] | Gone | None]

_HOSTED = frozenset({"hosted", "HostedBadge"})
_SIGNED = frozenset({"signed", "SignedBadge"})
_HASHES: dict[str, Callable[[bytes], Any]] = {"sha256": hashlib.sha256, "md5": hashlib.md5}
_ALGORITHMS = frozenset({"RS256", "ES256"})


# -- telling an OB 2.0 assertion from anything else -----------------------------------------


def _is_assertion(value: Any) -> bool:
    """An OB 2.0 Assertion: its ``@context`` is the OB 2.0 one, or its type is Assertion."""
    if not isinstance(value, Mapping):
        return False
    contexts = value.get("@context")
    listed = contexts if isinstance(contexts, list) else [contexts]
    if any(isinstance(c, str) and c.rstrip("/").startswith(OB2_CONTEXT) for c in listed):
        return True
    types = value.get("type")
    return "Assertion" in (types if isinstance(types, list) else [types])


def _jws_payload(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        value = parse_json(b64url_decode(parts[1]).decode("utf-8"))
    except (IssuerError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def ob2_payload(data: str | bytes | Mapping[str, Any]) -> dict[str, Any] | str | None:
    """What to verify when ``data`` is an OB 2.0 assertion, else None.

    The answer is the assertion (a dict), a compact JWS whose payload is one, or a URL an
    image was baked with (OB 2.0 "Baking Specification"). Images carrying an OB 3.0
    credential, OB 3.0 credentials and anything unreadable answer None, for the OB 3.0
    verifier to report on.
    """
    if isinstance(data, Mapping):
        return dict(data) if _is_assertion(data) else None
    if isinstance(data, bytes | bytearray) and baking.image_format(bytes(data)) is not None:
        try:
            baked = baking.extract_ob2(bytes(data))
        except IssuerError:
            return None
        return _text_payload(baked, baked=True) if baked else None
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    if not isinstance(data, str):
        return None
    if baking.image_format(data) == "svg":
        try:
            baked = baking.extract_ob2(data)
        except IssuerError:
            return None
        return _text_payload(baked, baked=True) if baked else None
    return _text_payload(data, baked=False)


def _text_payload(text: str, *, baked: bool) -> dict[str, Any] | str | None:
    text = text.strip()
    if text.startswith("{"):
        try:
            value = parse_json(text)
        except IssuerError:
            return None
        return value if _is_assertion(value) else None
    if baked and _is_url(text):
        return text
    if _is_assertion(_jws_payload(text)):
        return text
    return None


# -- the recipient (IdentityObject) ---------------------------------------------------------


def recipient_matches(recipient: Any, identity: str) -> bool:
    """Whether ``identity`` (an email, for ``type: email``) is this IdentityObject's.

    OB 2.0 "IdentityObject": when ``hashed``, ``identity`` is ``<algorithm>$<hex digest>``
    of the plain identity followed by ``salt`` (sha256 or md5). Emails are compared without
    regard to case (their domain is case-insensitive, and issuers commonly lower-case them).
    """
    if not isinstance(recipient, Mapping) or not isinstance(recipient.get("identity"), str):
        return False
    stated: str = recipient["identity"]
    candidates = {identity.strip(), identity.strip().lower()}
    if not recipient.get("hashed"):
        return stated.strip().lower() in {c.lower() for c in candidates}
    algorithm, sep, digest = stated.partition("$")
    hasher = _HASHES.get(algorithm.lower())
    if not sep or hasher is None:
        return False
    salt = recipient.get("salt") or ""
    if not isinstance(salt, str):
        return False
    return any(
        hmac.compare_digest(hasher((c + salt).encode("utf-8")).hexdigest(), digest.lower())
        for c in candidates
    )


# -- the verification -----------------------------------------------------------------------


class _Budgeted:
    """``fetch`` at most :data:`MAX_FETCHES` times, each URL once."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._seen: dict[str, Mapping[str, Any] | Gone | None] = {}

    def __call__(self, url: str, what: str) -> dict[str, Any]:
        found = self.answer(url, what)
        if isinstance(found, Gone):
            raise InputError(f"the {what} at {url} was removed by its publisher (the site "
                             "answers 410 Gone)")
        return found

    def answer(self, url: str, what: str) -> dict[str, Any] | Gone:
        """The document at ``url``, or :class:`Gone`; "not found" and failures raise."""
        if not isinstance(url, str) or not _is_url(url):
            raise InputError(f"the {what} is not given by a URL")
        if url not in self._seen:
            if len(self._seen) >= MAX_FETCHES:
                raise InputError(f"{url} was not fetched: this assertion already needed "
                                 f"{MAX_FETCHES} documents")
            self._seen[url] = self._fetch(url)
        found = self._seen[url]
        if found is None:
            raise InputError(f"the {what} is not at {url}: the site answers that there is "
                             "no such document (404 Not Found)")
        return found if isinstance(found, Gone) else dict(found)


def _node(value: Any, fetch: _Budgeted, what: str) -> dict[str, Any]:
    """A linked document: fetched by its URL, or taken as embedded."""
    if isinstance(value, str):
        return fetch(value, what)
    if isinstance(value, Mapping):
        return dict(value)
    raise InputError(f"the assertion has no {what}")


def _is_url(text: str) -> bool:
    # http URLs are passed on too: the fetcher refuses them (unless allowed) with a reason.
    return text.lower().startswith(("https://", "http://"))


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def verify_ob2(data: dict[str, Any] | str, fetch: Fetch, *, now: datetime | None = None,
               recipient: str | None = None, loader: ContextLoader | None = None
               ) -> VerificationReport:
    """Verify an OB 2.0 assertion given as :func:`ob2_payload` answers it.

    ``recipient`` is an email (or URL) to compare with the assertion's IdentityObject;
    without one the recipient is noted, not compared. ``loader`` (bundled contexts) adds the
    JSON-LD reading of the assertion. Never raises: every problem is a failed check.
    """
    moment = now or datetime.now(UTC)
    budget = _Budgeted(fetch)
    try:
        return _verify(data, budget, moment, recipient, loader)
    except IssuerError as exc:
        return VerificationReport(checks=[Check("parse", Outcome.FAILED, exc.message)],
                                  format="ob2")
    except Exception as exc:  # noqa: BLE001 - hostile input must yield a report, not a crash
        return VerificationReport(checks=[Check(
            "parse", Outcome.FAILED,
            "the assertion could not be checked: its structure is unexpected",
            (type(exc).__name__,))], format="ob2")


def _verify(data: dict[str, Any] | str, fetch: _Budgeted, now: datetime,
            recipient: str | None, loader: ContextLoader | None) -> VerificationReport:
    checks: list[Check] = []
    token: str | None = None
    if isinstance(data, str) and _is_url(data):
        presented = None
        found = fetch.answer(data, "assertion")
        if isinstance(found, Gone):
            return _gone_report(data, found)
        assertion = found
        checks.append(Check("parse", Outcome.PASSED, f"an Open Badges 2.0 assertion at {data}"))
    elif isinstance(data, str):
        token = data.strip()
        payload = _jws_payload(token)
        if payload is None:
            raise InputError("the input is not a compact JWS with a JSON payload")
        presented = assertion = payload
        checks.append(Check("parse", Outcome.PASSED,
                            "a signed Open Badges 2.0 assertion (compact JWS)"))
    else:
        presented = assertion = dict(data)
        checks.append(Check("parse", Outcome.PASSED, "an Open Badges 2.0 assertion (JSON)"))
    if not _is_assertion(assertion):
        checks.append(Check("type", Outcome.FAILED, "this is not an Open Badges 2.0 Assertion"))
        return VerificationReport(checks=checks, credential=assertion, format="ob2")
    checks.append(Check("type", Outcome.PASSED, "an Open Badges 2.0 Assertion"))
    if loader is not None:
        checks.append(_context(assertion, loader))

    verification = assertion.get("verification")
    kind = _one(verification.get("type")) if isinstance(verification, Mapping) else None
    badge_class, profile, issuer_error = _issuer_of(assertion, fetch)
    issuer = profile.get("id") if isinstance(profile, Mapping) else None
    if issuer_error is not None:
        checks.append(Check("issuer", Outcome.FAILED, issuer_error))
    else:
        checks.append(Check("issuer", Outcome.PASSED,
                            f"the badge {badge_class.get('name', '')!s} of the issuer "
                            f"{profile.get('name') or issuer}"))

    method = None
    revoked_hosted = None
    if token is not None and kind in _SIGNED:
        proof, method = _signed(token, assertion, issuer, fetch)
    elif token is not None:
        proof = Check("proof", Outcome.FAILED, f"the JWS carries an assertion whose "
                                               f"verification type is {kind!r}, not signed")
    elif kind in _HOSTED:
        proof, assertion, revoked_hosted = _hosted(assertion, presented, profile, fetch)
    elif kind in _SIGNED:
        proof = Check("proof", Outcome.FAILED, "a signed assertion must be given as its JWS, "
                                               "not as the JSON of its payload")
    else:
        proof = Check("proof", Outcome.FAILED,
                      f"the verification type {kind!r} is neither hosted nor signed")
    checks.append(proof)
    checks.append(_recipient(assertion, recipient))
    checks.append(_dates(assertion, now))
    checks.append(_status(assertion, profile, fetch, revoked_hosted))
    return VerificationReport(checks=checks, credential=assertion,
                              format="ob2-signed" if token else "ob2-hosted",
                              issuer=issuer if isinstance(issuer, str) else None,
                              verification_method=method)


def _gone_report(url: str, gone: Gone) -> VerificationReport:
    """An assertion URL answering 410 Gone: revoked, by the OB 2.0 hosted rules."""
    document = dict(gone.document) if gone.document is not None else None
    reason = document.get("revocationReason") if document else None
    checks = [
        Check("parse", Outcome.PASSED, f"an Open Badges 2.0 assertion at {url}"),
        Check("proof", Outcome.SKIPPED, f"not checked: the assertion is no longer hosted at "
                                        f"{url}"),
        Check("status", Outcome.FAILED, _gone_words(url, reason)),
    ]
    return VerificationReport(checks=checks, credential=document, format="ob2-hosted")


def _gone_words(url: str, reason: Any) -> str:
    return (f"revoked: the issuer withdrew this badge (its address {url} answers 410 Gone, "
            "which for a hosted Open Badge means revoked)"
            + (f"; reason given: {reason[:200]}" if isinstance(reason, str) and reason else ""))


def _context(assertion: Mapping[str, Any], loader: ContextLoader) -> Check:
    """The assertion read as JSON-LD with bundled contexts only (OB 2.0 "Data Model":
    ``@context`` https://w3id.org/openbadges/v2)."""
    # Imported here: the JSON-LD processor is heavy, and telling an OB 2.0 payload apart
    # (ob2_payload, recipient_matches) must not load it.
    from issuer.core.jsonld import expand_safe

    try:
        report = expand_safe(assertion, loader)
    except ContextError as exc:
        return Check("context", Outcome.WARNING,
                     f"not every term could be checked: {exc.message}")
    except UndefinedTermError as exc:
        named = f" ({exc.term})" if exc.term else ""
        return Check("context", Outcome.WARNING,
                     f"the assertion uses terms{named} that no context it names defines, so "
                     "they have no agreed meaning")
    except IssuerError as exc:
        return Check("context", Outcome.FAILED, f"the assertion is not valid JSON-LD: "
                                                f"{exc.message}")
    top = report.expanded[0] if report.expanded else {}
    if f"{OBI}Assertion" not in (top.get("@type") or []):
        return Check("context", Outcome.FAILED, "read as JSON-LD with the Open Badges 2.0 "
                                                "context, this is not an Assertion")
    return Check("context", Outcome.PASSED, "every term is defined by the Open Badges 2.0 "
                                            "context")


def _issuer_of(assertion: Mapping[str, Any], fetch: _Budgeted
               ) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """The BadgeClass and the issuer Profile, or why they could not be had.

    The Profile is always fetched by its id when it has an https one: its copy, not one
    embedded in the assertion, says which origins and keys the issuer owns.
    """
    try:
        badge_class = _node(assertion.get("badge"), fetch, "BadgeClass")
        reference = badge_class.get("issuer")
        if isinstance(reference, Mapping) and isinstance(reference.get("id"), str):
            reference = reference["id"]
        profile = _node(reference, fetch, "issuer Profile")
    except IssuerError as exc:
        return {}, None, exc.message
    stated = reference if isinstance(reference, str) else None
    if stated is not None and profile.get("id") != stated:
        return badge_class, None, f"the document at {stated} is not the issuer Profile it names"
    if not isinstance(profile.get("id"), str):
        return badge_class, None, "the issuer Profile has no id"
    return badge_class, profile, None


def _hosted(assertion: dict[str, Any], presented: dict[str, Any] | None,
            profile: Mapping[str, Any] | None, fetch: _Budgeted
            ) -> tuple[Check, dict[str, Any], bool | None]:
    """OB 2.0 "Hosted Verification": the copy at the assertion's id is authoritative."""
    url = assertion.get("id")
    if not isinstance(url, str) or not _is_url(url):
        return (Check("proof", Outcome.FAILED, "a hosted assertion's id must be its URL"),
                assertion, None)
    try:
        found = fetch.answer(url, "hosted assertion")
    except IssuerError as exc:
        return (Check("proof", Outcome.FAILED, f"the hosted assertion could not be had: "
                                               f"{exc.message}"), assertion, None)
    if isinstance(found, Gone):
        return (Check("proof", Outcome.SKIPPED, f"not compared: the assertion is no longer "
                                                f"hosted at {url} (410 Gone)"),
                assertion, True)
    hosted = found
    if hosted.get("revoked") is True:
        return (Check("proof", Outcome.PASSED, f"the assertion is hosted at {url}"),
                hosted, True)
    if presented is not None and hosted != presented:
        return (Check("proof", Outcome.FAILED,
                      f"the assertion presented differs from the one hosted at {url}"),
                hosted, None)
    if hosted.get("id") != url:
        return (Check("proof", Outcome.FAILED, f"the document at {url} has another id"),
                hosted, None)
    if profile is None:
        return (Check("proof", Outcome.FAILED,
                      "not checked: without the issuer Profile, the origins allowed to host "
                      "its assertions are not known"), hosted, None)
    problem = _origin_problem(url, profile)
    if problem is not None:
        return Check("proof", Outcome.FAILED, problem), hosted, None
    return Check("proof", Outcome.PASSED, f"the assertion is hosted by its issuer at {url}"), \
        hosted, None


def _origin_problem(url: str, profile: Mapping[str, Any]) -> str | None:
    """Why ``url`` is outside the issuer's hosted scope (OB 2.0 "VerificationObject")."""
    rules = profile.get("verification")
    rules = rules if isinstance(rules, Mapping) else {}
    host = (urlsplit(url).hostname or "").lower()
    origins = rules.get("allowedOrigins")
    prefixes = rules.get("startsWith")
    if origins is None and prefixes is None:
        issuer_url = urlsplit(str(profile.get("id")))
        if (urlsplit(url).scheme, urlsplit(url).netloc.lower()) != (
                issuer_url.scheme, issuer_url.netloc.lower()):
            return (f"the assertion is hosted at {url}, not on the origin of its issuer "
                    f"{profile.get('id')}")
        return None
    if origins is not None:
        allowed = [o.lower() for o in (origins if isinstance(origins, list) else [origins])
                   if isinstance(o, str)]
        if host not in allowed:
            return (f"the assertion is hosted on {host}, which its issuer does not allow "
                    f"(allowedOrigins: {', '.join(allowed) or 'none'})")
    if prefixes is not None:
        starts = [p for p in (prefixes if isinstance(prefixes, list) else [prefixes])
                  if isinstance(p, str)]
        if not any(url.startswith(p) for p in starts):
            return f"the assertion URL {url} does not start as its issuer requires (startsWith)"
    return None


def _signed(token: str, assertion: Mapping[str, Any], issuer: Any, fetch: _Budgeted
            ) -> tuple[Check, str | None]:
    """OB 2.0 "Signed Verification": the JWS verifies with the issuer's CryptographicKey."""
    verification = assertion.get("verification")
    creator = verification.get("creator") if isinstance(verification, Mapping) else None
    if not isinstance(creator, str):
        return Check("proof", Outcome.FAILED, "a signed assertion must name its key "
                                              "(verification.creator)"), None
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = parse_json(b64url_decode(header_b64).decode("utf-8"))
        signature = b64url_decode(signature_b64)
    except (IssuerError, UnicodeDecodeError, ValueError):
        return Check("proof", Outcome.FAILED, "the JWS is not strict compact JWS"), creator
    algorithm = header.get("alg") if isinstance(header, dict) else None
    if algorithm not in _ALGORITHMS:
        return Check("proof", Outcome.FAILED,
                     f"the JWS algorithm {algorithm!r} is not one of RS256, ES256"), creator
    if isinstance(header, dict) and "crit" in header:
        return Check("proof", Outcome.FAILED, "the JWS has critical extensions this verifier "
                                              "does not know (RFC 7515 §4.1.11)"), creator
    try:
        key_doc = fetch(creator, "signing key")
    except IssuerError as exc:
        return Check("proof", Outcome.FAILED, f"the signing key could not be had: "
                                              f"{exc.message}"), creator
    if key_doc.get("id") != creator:
        return Check("proof", Outcome.FAILED, f"the document at {creator} is not that key"), \
            creator
    if not isinstance(issuer, str) or key_doc.get("owner") != issuer:
        return Check("proof", Outcome.FAILED,
                     f"the key {creator} is not owned by the issuer {issuer}"), creator
    pem = key_doc.get("publicKeyPem")
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii")) if isinstance(
            pem, str) else None
    except (ValueError, UnicodeEncodeError, TypeError):
        key = None
    if key is None:
        return Check("proof", Outcome.FAILED, f"the key {creator} has no usable "
                                              "publicKeyPem"), creator
    signed = f"{header_b64}.{payload_b64}".encode("ascii")
    if not _signature_ok(algorithm, key, signed, signature):
        return Check("proof", Outcome.FAILED, f"the signature does not verify with the key "
                                              f"{creator}"), creator
    return Check("proof", Outcome.PASSED, f"signed ({algorithm}) with the issuer's key "
                                          f"{creator}"), creator


def _signature_ok(algorithm: str, key: Any, signed: bytes, signature: bytes) -> bool:
    try:
        if algorithm == "RS256" and isinstance(key, rsa.RSAPublicKey):
            if key.key_size < 2048:
                return False
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            return True
        if (algorithm == "ES256" and isinstance(key, ec.EllipticCurvePublicKey)
                and isinstance(key.curve, ec.SECP256R1) and len(signature) == 64):
            # RFC 7518 §3.4: R || S, each 32 bytes, not DER.
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                       int.from_bytes(signature[32:], "big"))
            key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
            return True
    except InvalidSignature:
        return False
    return False


def _recipient(assertion: Mapping[str, Any], email: str | None) -> Check:
    recipient = assertion.get("recipient")
    if not isinstance(recipient, Mapping) or not isinstance(recipient.get("identity"), str):
        return Check("recipient", Outcome.FAILED, "the assertion names no recipient")
    kind = recipient.get("type", "email")
    if email is None:
        how = "hashed" if recipient.get("hashed") else "plain"
        return Check("recipient", Outcome.SKIPPED,
                     f"the recipient ({kind}, {how}) was not compared with anyone")
    if recipient_matches(recipient, email):
        return Check("recipient", Outcome.PASSED, f"the badge was awarded to {email}")
    return Check("recipient", Outcome.FAILED, f"the badge was not awarded to {email}")


def _dates(assertion: Mapping[str, Any], now: datetime) -> Check:
    """``expires`` must not have passed; ``issuedOn`` must have come (OB 2.0 "Assertion")."""
    try:
        expires = assertion.get("expires")
        if expires is not None and parse_datetime(expires) <= now:
            return Check("dates", Outcome.FAILED, f"the assertion expired on {expires}")
        issued = assertion.get("issuedOn")
        if issued is not None and parse_datetime(issued) > now:
            return Check("dates", Outcome.FAILED, f"the assertion is issued on {issued}, "
                                                  "which has not come")
    except IssuerError as exc:
        return Check("dates", Outcome.FAILED, exc.message)
    if expires is None:
        return Check("dates", Outcome.PASSED, "the assertion does not expire")
    return Check("dates", Outcome.PASSED, f"the assertion is valid until {expires}")


def _status(assertion: Mapping[str, Any], profile: Mapping[str, Any] | None,
            fetch: _Budgeted, revoked_hosted: bool | None) -> Check:
    """Revocation: the hosted copy's ``revoked`` (or its URL answering 410 Gone), then the
    issuer's RevocationList."""
    if revoked_hosted and assertion.get("revoked") is not True:
        return Check("status", Outcome.FAILED, _gone_words(str(assertion.get("id")), None))
    if revoked_hosted or assertion.get("revoked") is True:
        reason = assertion.get("revocationReason")
        return Check("status", Outcome.FAILED, "the assertion was revoked"
                     + (f": {reason}" if isinstance(reason, str) and reason else ""))
    if profile is None:
        return Check("status", Outcome.WARNING, "could not check whether the assertion was "
                                                "revoked (its issuer is not known)")
    list_url = profile.get("revocationList")
    if list_url is None:
        return Check("status", Outcome.PASSED, "not revoked (the issuer publishes no "
                                               "revocation list)")
    try:
        revocations = _node(list_url, fetch, "revocation list")
    except IssuerError as exc:
        return Check("status", Outcome.WARNING, "could not check whether the assertion was "
                                                f"revoked: {exc.message}")
    if revocations.get("issuer") not in (None, profile.get("id")):
        return Check("status", Outcome.WARNING, "could not check whether the assertion was "
                                                "revoked: the revocation list is another "
                                                "issuer's")
    wanted = {v for v in (assertion.get("id"), assertion.get("uid")) if isinstance(v, str)}
    entries = revocations.get("revokedAssertions")
    for entry in entries if isinstance(entries, list) else []:
        named = entry.get("id") or entry.get("uid") if isinstance(entry, Mapping) else entry
        if isinstance(named, str) and named in wanted:
            reason = entry.get("revocationReason") if isinstance(entry, Mapping) else None
            return Check("status", Outcome.FAILED, "the issuer revoked the assertion"
                         + (f": {reason}" if isinstance(reason, str) and reason else ""))
    return Check("status", Outcome.PASSED, "not revoked (the issuer's revocation list does "
                                           "not name it)")
