"""A wallet's side of OpenID for Verifiable Credential Issuance 1.0, written from the
specification for the tests, over any HTTP transport (the Flask test client or a real
server).

Its keys are made with joserfc (JWT key proofs, Appendix F.1) and ``cryptography`` (the
Data Integrity presentation of a ``di_vp`` proof, Appendix F.2, canonicalized with pyld's
URDNA2015 rather than the service's own RDFC-1.0 code, so the two sides check each other).
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey
from pyld import jsonld

from issuer import config

GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
LDP_VC = "OpenBadgeCredential_ldp_vc"
JWT_VC_JSON = "OpenBadgeCredential_jwt_vc_json"
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, rest = divmod(number, 58)
        text = _ALPHABET[rest] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class Transport(Protocol):
    def request(self, method: str, url: str, *, data: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer: ...


@dataclass
class FlaskTransport:
    """Requests to absolute URLs of the app, sent through the Flask test client."""

    client: FlaskClient
    base: str

    def request(self, method: str, url: str, *, data: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        assert url.startswith(self.base), url
        response = self.client.open(url[len(self.base):], method=method, data=data,
                                    headers=headers or {})
        body = response.get_json(silent=True)
        return Answer(response.status_code, dict(response.headers), body)


@dataclass
class HttpTransport:
    """Real HTTP requests with the standard library."""

    def request(self, method: str, url: str, *, data: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        request = urllib.request.Request(url, data=data, method=method,
                                         headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, found, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            status, found, raw = exc.code, dict(exc.headers), exc.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        return Answer(status, found, body)


def _canonical(document: dict[str, Any]) -> bytes:
    quads: str = jsonld.normalize(document, {"algorithm": "URDNA2015",
                                             "format": "application/n-quads",
                                             "documentLoader": config.context_loader()})
    return quads.encode("utf-8")


@dataclass
class Wallet:
    transport: Transport
    ed25519: OKPKey = field(default_factory=lambda: OKPKey.generate_key("Ed25519"))
    p256: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256"))

    # --- keys ------------------------------------------------------------------------------

    @property
    def did(self) -> str:
        """The did:key of the Ed25519 key (did-method-key §3.1)."""
        raw = self._ed25519_private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return "did:key:z" + base58btc(b"\xed\x01" + raw)

    @property
    def kid(self) -> str:
        return f"{self.did}#{self.did.removeprefix('did:key:')}"

    def _ed25519_private(self) -> Ed25519PrivateKey:
        key = self.ed25519.private_key
        assert isinstance(key, Ed25519PrivateKey)
        return key

    # --- the protocol ----------------------------------------------------------------------

    def open_link(self, link: str) -> dict[str, Any]:
        """Follow an ``openid-credential-offer://`` link to the offer (§4.1.3)."""
        parts = urlsplit(link)
        assert parts.scheme == "openid-credential-offer", link
        (uri,) = parse_qs(parts.query, strict_parsing=True)["credential_offer_uri"]
        answer = self.transport.request("GET", uri, headers={"Accept": "application/json"})
        assert answer.status == 200, answer
        offer: dict[str, Any] = answer.body
        return offer

    def metadata(self, issuer: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Credential issuer metadata (§12.2.2) and its authorization server's (RFC 8414)."""
        ci = self.transport.request("GET", f"{issuer}/.well-known/openid-credential-issuer")
        assert ci.status == 200, ci
        servers = ci.body.get("authorization_servers") or [issuer]
        auth = self.transport.request("GET",
                                      f"{servers[0]}/.well-known/oauth-authorization-server")
        assert auth.status == 200, auth
        return ci.body, auth.body

    def token(self, token_endpoint: str, code: str, tx_code: str | None = None) -> Answer:
        form = {"grant_type": GRANT, "pre-authorized_code": code}
        if tx_code is not None:
            form["tx_code"] = tx_code
        return self.transport.request(
            "POST", token_endpoint, data=urlencode(form).encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def nonce(self, nonce_endpoint: str) -> str:
        answer = self.transport.request("POST", nonce_endpoint)
        assert answer.status == 200, answer
        assert answer.headers.get("Cache-Control") == "no-store"
        nonce: str = answer.body["c_nonce"]
        return nonce

    def credential(self, endpoint: str, access_token: str,
                   request: dict[str, Any]) -> Answer:
        return self.transport.request(
            "POST", endpoint, data=json.dumps(request).encode("utf-8"),
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {access_token}"})

    # --- key proofs ------------------------------------------------------------------------

    def jwt_proof(self, *, audience: str, nonce: str | None, key: str = "kid",
                  iat: int | None = None, typ: str = "openid4vci-proof+jwt",
                  signer: OKPKey | None = None) -> str:
        """Appendix F.1. ``key``: ``kid`` (did:key, EdDSA) or ``jwk`` (P-256, ES256)."""
        claims: dict[str, Any] = {"aud": audience,
                                  "iat": int(time.time()) if iat is None else iat}
        if nonce is not None:
            claims["nonce"] = nonce
        if key == "jwk":
            header = {"alg": "ES256", "typ": typ, "jwk": self.p256.as_dict(private=False)}
            return jwt.encode(header, claims, self.p256, algorithms=["ES256"])
        header = {"alg": "EdDSA", "typ": typ, "kid": self.kid}
        with warnings.catch_warnings():
            # Wallets name Ed25519 signatures "EdDSA", as OID4VCI does; joserfc prefers
            # RFC 9864's "Ed25519" and says so.
            warnings.simplefilter("ignore", SecurityWarning)
            return jwt.encode(header, claims, signer or self.ed25519, algorithms=["EdDSA"])

    def di_vp_proof(self, *, domain: str, challenge: str,
                    signer: Ed25519PrivateKey | None = None) -> dict[str, Any]:
        """Appendix F.2: a presentation with an eddsa-rdfc-2022 proof (vc-di-eddsa §3.3)."""
        contexts = ["https://www.w3.org/ns/credentials/v2"]
        presentation = {"@context": contexts, "type": ["VerifiablePresentation"],
                        "holder": self.did}
        created = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                   "created": created, "verificationMethod": self.kid,
                   "proofPurpose": "authentication", "challenge": challenge,
                   "domain": domain}
        data = (hashlib.sha256(_canonical({**options, "@context": contexts})).digest()
                + hashlib.sha256(_canonical(presentation)).digest())
        signature = (signer or self._ed25519_private()).sign(data)
        return {**presentation, "proof": {**options, "proofValue": "z" + base58btc(signature)}}


@dataclass
class Session:
    """One run of the flow up to the access token, with what the wallet learned."""

    offer: dict[str, Any]
    issuer: str
    metadata: dict[str, Any]
    token_endpoint: str
    access_token: str


def start(wallet: Wallet, link: str, tx_code: str | None = None) -> Session:
    """Offer → metadata → token, as a wallet does after scanning the QR code."""
    offer = wallet.open_link(link)
    issuer = offer["credential_issuer"]
    metadata, auth = wallet.metadata(issuer)
    code = offer["grants"][GRANT]["pre-authorized_code"]
    answer = wallet.token(auth["token_endpoint"], code, tx_code)
    assert answer.status == 200, answer
    assert answer.body["token_type"] == "Bearer"
    assert answer.headers.get("Cache-Control") == "no-store"
    return Session(offer=offer, issuer=issuer, metadata=metadata,
                   token_endpoint=auth["token_endpoint"],
                   access_token=answer.body["access_token"])
