"""An Open Badges 2.0 issuer for the tests: its Profile, BadgeClass, key, revocation list and
assertions (hosted, or signed as a compact JWS), all made up for the tests."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from issuer.core.multibase import b64url_encode

CONTEXT = "https://w3id.org/openbadges/v2"
EMAIL = "learner@example.org"
SALT = "pepper-1"


class Ob2Issuer:
    """Documents of one issuer at ``base`` (``https://host:port``)."""

    def __init__(self, base: str, *, algorithm: str = "RS256") -> None:
        self.base = base
        self.algorithm = algorithm
        self.key: Any = (rsa.generate_private_key(public_exponent=65537, key_size=2048)
                         if algorithm == "RS256" else ec.generate_private_key(ec.SECP256R1()))
        self.id = f"{base}/issuer.json"
        self.key_id = f"{base}/key.json"
        self.list_id = f"{base}/revoked.json"
        self.badge_id = f"{base}/badges/ada.json"
        self.revoked: list[Any] = []
        self.verification: dict[str, Any] | None = None

    def profile(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"@context": CONTEXT, "type": "Issuer", "id": self.id,
                               "name": "Guild of Test Makers", "url": self.base,
                               "email": "badges@example.org", "publicKey": self.key_id,
                               "revocationList": self.list_id}
        if self.verification is not None:
            doc["verification"] = self.verification
        return doc

    def badge_class(self) -> dict[str, Any]:
        return {"@context": CONTEXT, "type": "BadgeClass", "id": self.badge_id,
                "name": "Analytical Engines 101", "description": "Made for the tests.",
                "image": f"{self.base}/badges/ada.png",
                "criteria": {"narrative": "Build one."}, "issuer": self.id}

    def key_document(self) -> dict[str, Any]:
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        return {"@context": CONTEXT, "type": "CryptographicKey", "id": self.key_id,
                "owner": self.id, "publicKeyPem": pem.decode("ascii")}

    def revocation_list(self) -> dict[str, Any]:
        return {"@context": CONTEXT, "type": "RevocationList", "id": self.list_id,
                "issuer": self.id, "revokedAssertions": list(self.revoked)}

    def assertion(self, number: int = 1, *, hosted_at: str | None = None,
                  signed: bool = False, **extra: Any) -> dict[str, Any]:
        digest = hashlib.sha256((EMAIL + SALT).encode()).hexdigest()
        verification = ({"type": "SignedBadge", "creator": self.key_id} if signed
                        else {"type": "HostedBadge"})
        doc: dict[str, Any] = {
            "@context": CONTEXT, "type": "Assertion",
            "id": (f"urn:uuid:00000000-0000-4000-8000-{number:012d}" if signed
                   else f"{hosted_at or self.base}/assertions/{number}.json"),
            "recipient": {"type": "email", "hashed": True, "salt": SALT,
                          "identity": f"sha256${digest}"},
            "badge": self.badge_id, "verification": verification,
            "issuedOn": "2026-01-01T00:00:00Z"}
        doc.update(extra)
        return doc

    def sign(self, assertion: dict[str, Any]) -> str:
        header = b64url_encode(json.dumps({"alg": self.algorithm}).encode())
        payload = b64url_encode(json.dumps(assertion).encode())
        signed = f"{header}.{payload}".encode()
        if self.algorithm == "RS256":
            signature = self.key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = decode_dss_signature(self.key.sign(signed, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{header}.{payload}.{b64url_encode(signature)}"

    def documents(self) -> dict[str, dict[str, Any]]:
        """Every document of the issuer by its URL (assertions are added by the tests)."""
        return {self.id: self.profile(), self.badge_id: self.badge_class(),
                self.key_id: self.key_document(), self.list_id: self.revocation_list()}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png() -> bytes:
    """A 1x1 grey PNG with nothing baked in."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\x00\x00")) + _chunk(b"IEND", b""))


def ob2_png(text: str) -> bytes:
    """A PNG baked the OB 2.0 way: an iTXt chunk with the keyword ``openbadges`` (no
    compression, empty language tag and translated keyword) before the image data."""
    png = tiny_png()
    baked = _chunk(b"iTXt", b"openbadges\0\0\0\0\0" + text.encode())
    first_idat = png.index(b"IDAT") - 4
    return png[:first_idat] + baked + png[first_idat:]
