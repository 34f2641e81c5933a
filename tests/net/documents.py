"""Signed documents of a did:web issuer for the online verification tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from issuer import config
from issuer.core.did_web import DidKeyEntry, did_web_document
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.status_list import Bitstring, status_entry, status_list_credential
from tests.core.helpers import NOW, unsigned_badge

INDEX = 94567


class WebIssuer:
    """A did:web issuer: its key, its DID document, and what it signs."""

    def __init__(self, did: str) -> None:
        self.did = did
        self.key = PrivateKey.generate("Ed25519")
        self.method = f"{did}#key-1"
        self.document = did_web_document(did, [DidKeyEntry("key-1", self.key.public_key)])

    def sign(self, document: dict[str, Any]) -> dict[str, Any]:
        return sign_document(document, SIGNING_SUITES["eddsa-rdfc-2022"], self.key,
                             verification_method=self.method,
                             ctx=SuiteContext(loader=config.context_loader()),
                             created="2026-01-01T00:00:00Z")

    def badge(self, list_url: str | None = None) -> dict[str, Any]:
        badge = unsigned_badge(self.did)
        if list_url is not None:
            badge["credentialStatus"] = status_entry(list_url, INDEX, "revocation")
        return self.sign(badge)

    def status_list(self, url: str, *, revoked: bool) -> dict[str, Any]:
        bits = Bitstring()
        if revoked:
            bits.set(INDEX)
        return self.sign(status_list_credential(url, {"id": self.did}, "revocation", bits,
                                                NOW - timedelta(days=1)))
