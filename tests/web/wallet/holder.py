"""A wallet's side of DID authentication, written from the specifications, for the tests.

It plays the Learner Credential Wallet: an Ed25519 key made with ``cryptography``, its
did:key (did-method-key §3.1), and a presentation with a Data Integrity proof for the
challenge and domain it is given. Canonicalization is pyld's URDNA2015, not the service's
own RDFC-1.0 code, so the two sides check each other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyld import jsonld

from issuer import config

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
#: did-method-key §2: the multicodec prefix of an Ed25519 public key.
_ED25519_PUB = b"\xed\x01"

VCDM1 = "https://www.w3.org/2018/credentials/v1"
VCDM2 = "https://www.w3.org/ns/credentials/v2"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"


def base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, rest = divmod(number, 58)
        text = _ALPHABET[rest] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def _canonical(document: dict[str, Any]) -> bytes:
    loader = config.context_loader()
    quads: str = jsonld.normalize(document, {"algorithm": "URDNA2015",
                                             "format": "application/n-quads",
                                             "documentLoader": loader})
    return quads.encode("utf-8")


@dataclass
class Holder:
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> Holder:
        return cls(Ed25519PrivateKey.generate())

    @property
    def did(self) -> str:
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return "did:key:z" + base58btc(_ED25519_PUB + raw)

    @property
    def method(self) -> str:
        return f"{self.did}#{self.did.removeprefix('did:key:')}"

    def did_auth(self, *, challenge: str, domain: str | None,
                 suite: str = "Ed25519Signature2020", holder: str | None = None,
                 purpose: str = "authentication",
                 signer: Ed25519PrivateKey | None = None) -> dict[str, Any]:
        """A DID authentication presentation (VPR v0.2 §3.2), signed as ``suite`` says."""
        if suite == "Ed25519Signature2020":
            # W3C CCG Ed25519Signature2020 §4: the suite's context goes with the document.
            contexts = [VCDM1, ED25519_2020]
            options: dict[str, Any] = {"type": "Ed25519Signature2020"}
        else:
            contexts = [VCDM2]
            options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}
        presentation = {"@context": contexts, "type": ["VerifiablePresentation"],
                        "holder": holder or self.did}
        options.update({"created": "2026-12-06T00:00:00Z", "verificationMethod": self.method,
                        "proofPurpose": purpose, "challenge": challenge})
        if domain is not None:
            options["domain"] = domain
        # vc-di-eddsa §3.3.4 / Ed25519Signature2020 §4.3: hash of the proof options under
        # the document's contexts, then hash of the document.
        data = (hashlib.sha256(_canonical({**options, "@context": contexts})).digest()
                + hashlib.sha256(_canonical(presentation)).digest())
        signature = (signer or self.key).sign(data)
        return {**presentation, "proof": {**options, "proofValue": "z" + base58btc(signature)}}


# --- the links a wallet opens --------------------------------------------------------------


@dataclass(frozen=True)
class LcwLink:
    issuer: str
    auth_type: str
    challenge: str
    vc_request_url: str


def parse_lcw_link(link: str) -> LcwLink:
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "lcw.app", "/request.html")
    query = {k: v[0] for k, v in parse_qs(parts.query, strict_parsing=True).items()}
    return LcwLink(issuer=query["issuer"], auth_type=query["auth_type"],
                   challenge=query["challenge"], vc_request_url=query["vc_request_url"])


def parse_dcc_link(link: str) -> dict[str, Any]:
    prefix = "dccrequest://request?request="
    assert link.startswith(prefix), link
    request: dict[str, Any] = json.loads(unquote(link[len(prefix):]))
    return request
