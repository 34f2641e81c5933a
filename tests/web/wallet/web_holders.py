"""Wallets whose holder is a did:web on a real HTTPS server on loopback, and the settings of
a service that may fetch from that server only (its CA trusted, its address allowed), as
tests/net does for the verifier."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from issuer.config import Settings
from tests.conftest import BASE_URL, TEST_PASSWORD_HASHING
from tests.net.conftest import https, loopback_only, pki
from tests.net.servers import Pki, Server
from tests.web.oid4vci.wallet import Wallet, base58btc
from tests.web.wallet.holder import Holder

__all__ = [
    "WebHolder",
    "WebWallet",
    "did_document",
    "https",
    "loopback_only",
    "pki",
    "settings",
    "web_did",
]

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def web_did(server: Server) -> str:
    """did:web of the server's root: its document is at /.well-known/did.json."""
    return f"did:web:localhost%3A{server.port}"


def did_document(did: str, public_raw: bytes, *,
                 relationships: tuple[str, ...] = ("authentication",)) -> dict[str, Any]:
    """A DID document with one Ed25519 Multikey (Controlled Identifiers §2.2.2)."""
    method = f"{did}#key-1"
    document: dict[str, Any] = {
        "@context": DID_CONTEXTS, "id": did,
        "verificationMethod": [{"id": method, "type": "Multikey", "controller": did,
                                "publicKeyMultibase": "z" + base58btc(b"\xed\x01"
                                                                      + public_raw)}]}
    for relationship in relationships:
        document[relationship] = [method]
    return document


@dataclass
class WebHolder(Holder):
    """The VC API wallet of tests/web/wallet/holder.py, proving a did:web instead."""

    web: str = ""

    @property
    def did(self) -> str:
        return self.web

    @property
    def method(self) -> str:
        return f"{self.web}#key-1"


@dataclass
class WebWallet(Wallet):
    """The OpenID4VCI wallet of tests/web/oid4vci/wallet.py, its key named by a did:web."""

    web: str = ""

    @property
    def did(self) -> str:
        return self.web

    @property
    def kid(self) -> str:
        return f"{self.web}#key-1"


@pytest.fixture()
def settings(database_url: str, keys_dir: Path, pki: Pki, https: Server) -> Settings:
    """The service online, allowed to reach the one loopback site, whose CA it trusts."""
    base = Settings(database_url=database_url, base_url=BASE_URL, keys_dir=keys_dir,
                    secret_key="test-secret-key-not-for-production",
                    password_hashing=TEST_PASSWORD_HASHING).validated()
    return replace(base, verify_offline=False, verify_ca_file=pki.ca_file,
                   verify_allow_hosts=(https.authority,))
