"""did:web: identifiers from URLs, the documents this service publishes, and reading one back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.core.did_web import (
    DidKeyEntry,
    did_web_document,
    did_web_document_url,
    did_web_from_url,
    resolve_did_web,
)
from issuer.core.errors import InputError, ResolutionError
from issuer.core.keys import PrivateKey, PublicKey, public_key_from_verification_method
from issuer.core.resolve import Resolver

CONTEXTS = Path(__file__).resolve().parents[2] / "schemas" / "contexts"


# --- did:web identifiers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("http://127.0.0.1:5000/issuers/demo", "did:web:127.0.0.1%3A5000:issuers:demo"),
        # did-method-web §2.3 examples.
        ("https://w3c-ccg.github.io", "did:web:w3c-ccg.github.io"),
        ("https://w3c-ccg.github.io/user/alice", "did:web:w3c-ccg.github.io:user:alice"),
        ("https://example.com:3000", "did:web:example.com%3A3000"),
        ("https://example.com:3000/user/alice", "did:web:example.com%3A3000:user:alice"),
        # Trailing slash, default port and host case do not change the DID.
        ("https://example.com/", "did:web:example.com"),
        ("https://Example.COM:443/issuers/demo/", "did:web:example.com:issuers:demo"),
        ("http://localhost:80/x", "did:web:localhost:x"),
        # Characters a DID cannot hold are percent-encoded.
        ("https://example.com/my%20issuer/~me", "did:web:example.com:my%20issuer:%7Eme"),
        ("https://example.com/a:b", "did:web:example.com:a%3Ab"),
    ],
)
def test_did_web_from_url(url: str, did: str) -> None:
    assert did_web_from_url(url) == did


@pytest.mark.parametrize(
    ("did", "url"),
    [
        # did-method-web §2.5.2 examples.
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        (
            "did:web:example.com%3A3000:user:alice",
            "https://example.com:3000/user/alice/did.json",
        ),
        ("did:web:example.com%3a3000", "https://example.com:3000/.well-known/did.json"),
        ("did:web:example.com:issuers:demo#key-1", "https://example.com/issuers/demo/did.json"),
    ],
)
def test_did_web_document_url(did: str, url: str) -> None:
    assert did_web_document_url(did) == url


def test_did_web_round_trip_for_local_development() -> None:
    did = did_web_from_url("http://127.0.0.1:5000/issuers/demo")
    assert did_web_document_url(did, scheme="http") == "http://127.0.0.1:5000/issuers/demo/did.json"
    assert did_web_document_url(did) == "https://127.0.0.1:5000/issuers/demo/did.json"
    with pytest.raises(ResolutionError):
        did_web_document_url(did, scheme="ftp")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "example.com/issuers/demo",
        "https://",
        "https://example.com/x?y=1",
        "https://example.com/x#frag",
        "https://user:pw@example.com/x",
        "https://[::1]:5000/x",
        "https://example.com:99999/x",
        "https://example.com:abc/x",
        "https://exa_mple.com/x",
        "https://example.com//x",
        "https://example.com/a/../b",
        "https://example.com/%2E%2E/b",
    ],
)
def test_bad_did_web_urls(url: str) -> None:
    with pytest.raises(InputError):
        did_web_from_url(url)


def test_ipv6_hosts_are_named_in_the_error() -> None:
    with pytest.raises(InputError, match="IPv6"):
        did_web_from_url("https://[2001:db8::1]/issuers/demo")


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6Mk",
        "did:web:",
        "did:web:exa mple.com",
        "did:web:example.com%3Aabc",
        "did:web:example.com%3A99999",
        "did:web:example.com%3A0",
        "did:web:example.com:a/b",
        "did:web:example.com:a?b",
        "did:web:example.com::a",
        "did:web:example.com:%2E%2E",
        "did:web:example.com:a%2Fb",
        "did:web:example.com:~me",
    ],
)
def test_bad_did_webs(did: str) -> None:
    with pytest.raises(ResolutionError):
        did_web_document_url(did)


# --- did:web documents ------------------------------------------------------------------

DID = "did:web:example.com:issuers:demo"


def _context_terms(name: str, type_name: str) -> set[str]:
    context = json.loads((CONTEXTS / name).read_text())["@context"]
    return set(context[type_name]["@context"]) - {"@protected"}


def test_did_web_document_lists_every_key() -> None:
    active = PrivateKey.generate().public_key
    retired = PrivateKey.generate().public_key
    p256 = PrivateKey.generate("P-256").public_key
    compromised = PrivateKey.generate().public_key
    revoked_p521 = PublicKey(ec.generate_private_key(ec.SECP521R1()).public_key())
    entries = [
        DidKeyEntry("key-1", retired, retired=True, created="2024-01-01T00:00:00Z"),
        DidKeyEntry("key-2", compromised, retired=True, compromised_since="2024-06-01T12:00:00Z"),
        DidKeyEntry("key-3", active, created="2025-01-01T00:00:00+00:00"),
        DidKeyEntry("jwt-1", revoked_p521, revoked="2025-02-01T10:00:00.750+02:00"),
        DidKeyEntry("ecdsa-1", p256),
    ]
    document = did_web_document(DID, entries)

    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
        "https://w3id.org/security/jwk/v1",
    ]
    assert document["id"] == DID
    methods = document["verificationMethod"]
    assert [m["id"] for m in methods] == [f"{DID}#{e.fragment}" for e in entries]
    for method, entry in zip(methods, entries, strict=True):
        assert method["controller"] == DID
        assert public_key_from_verification_method(method) == entry.public_key
        if entry.public_key.key_type in ("Ed25519", "P-256"):
            assert method["type"] == "Multikey"
            assert method["publicKeyMultibase"] == entry.public_key.to_multibase()
        else:
            assert method["type"] == "JsonWebKey"
            assert set(method["publicKeyJwk"]) == {"kty", "crv", "x", "y"}
    # Every key stays an assertion method; a compromised or revoked one carries ``revoked``,
    # which limits what it may have signed to the time before that date.
    assert document["assertionMethod"] == [
        f"{DID}#key-1", f"{DID}#key-2", f"{DID}#key-3", f"{DID}#jwt-1", f"{DID}#ecdsa-1"
    ]
    assert methods[1]["revoked"] == "2024-06-01T12:00:00Z"
    assert methods[3]["revoked"] == "2025-02-01T08:00:00Z"
    for index in (0, 2, 4):
        assert "revoked" not in methods[index]
    assert set(document) == {"@context", "id", "verificationMethod", "assertionMethod"}


def test_did_web_document_uses_only_terms_its_contexts_define() -> None:
    # JSON-LD processors in safe mode reject undefined terms, so "created" must stay out.
    entries = [
        DidKeyEntry(
            "a",
            PrivateKey.generate().public_key,
            created="2024-01-01T00:00:00Z",
            revoked="2024-02-01T00:00:00Z",
        ),
        DidKeyEntry(
            "b",
            PrivateKey.generate("P-256").public_key,
            created="2024-01-01T00:00:00Z",
            compromised_since="2024-03-01T00:00:00Z",
        ),
    ]
    document = did_web_document(DID, entries)
    multikey_terms = _context_terms("w3id.org__security__multikey__v1.jsonld", "Multikey")
    jwk_terms = _context_terms("w3id.org__security__jwk__v1.jsonld", "JsonWebKey")
    for method in document["verificationMethod"]:
        terms = multikey_terms if method["type"] == "Multikey" else jwk_terms
        assert set(method) <= terms, set(method) - terms


def test_revoked_is_the_earlier_of_revoked_and_compromised() -> None:
    key = PrivateKey.generate().public_key
    entry = DidKeyEntry(
        "k", key, revoked="2025-05-01T00:00:00Z", compromised_since="2025-03-01T00:00:00-01:00"
    )
    assert entry.revoked_at == "2025-03-01T01:00:00Z"
    later = DidKeyEntry(
        "k", key, revoked="2025-01-01T00:00:00Z", compromised_since="2025-03-01T00:00:00Z"
    )
    assert later.revoked_at == "2025-01-01T00:00:00Z"
    assert DidKeyEntry("k", key, retired=True).revoked_at is None


def test_multikey_only_documents_need_only_the_multikey_context() -> None:
    document = did_web_document(DID, [DidKeyEntry("k", PrivateKey.generate().public_key)])
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    ecdsa = did_web_document(DID, [DidKeyEntry("k", PrivateKey.generate("P-384").public_key)])
    assert ecdsa["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    p521 = PublicKey(ec.generate_private_key(ec.SECP521R1()).public_key())
    jwt_only = did_web_document(DID, [DidKeyEntry("k", p521)])
    assert jwt_only["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/jwk/v1",
    ]


def test_did_web_document_refusals() -> None:
    key = PrivateKey.generate().public_key
    with pytest.raises(InputError, match="twice"):
        did_web_document(DID, [DidKeyEntry("k", key), DidKeyEntry("k", key)])
    with pytest.raises(InputError, match="at least one"):
        did_web_document(DID, [])
    with pytest.raises(ResolutionError):
        did_web_document(f"{DID}#k", [DidKeyEntry("k", key)])
    with pytest.raises(ResolutionError):
        did_web_document("did:key:" + key.fingerprint, [DidKeyEntry("k", key)])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fragment": ""},
        {"fragment": "has space"},
        {"fragment": "a#b"},
        {"fragment": "x" * 129},
        {"created": "2024-01-01T00:00:00"},  # no time zone
        {"revoked": "yesterday"},
        {"compromised_since": "2024-13-01T00:00:00Z"},
        {"public_key": "z6Mk"},
    ],
)
def test_bad_did_key_entries(kwargs: dict[str, Any]) -> None:
    values: dict[str, Any] = {"fragment": "key-1", "public_key": PrivateKey.generate().public_key}
    values.update(kwargs)
    with pytest.raises(InputError):
        DidKeyEntry(**values)


# --- reading a did:web document back ----------------------------------------------------


class Site:
    """Documents by URL, as a web server would serve them; remembers what was asked for."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.documents = documents
        self.asked: list[str] = []

    def __call__(self, url: str) -> dict[str, Any] | None:
        self.asked.append(url)
        return self.documents.get(url)


def _published(key: Any) -> dict[str, Any]:
    return did_web_document(DID, [DidKeyEntry("key-1", key)])


def test_resolve_did_web_fetches_the_document_at_its_address() -> None:
    document = _published(PrivateKey.generate().public_key)
    site = Site({"https://example.com/issuers/demo/did.json": document})
    assert resolve_did_web(f"{DID}#key-1", site) == document
    assert site.asked == ["https://example.com/issuers/demo/did.json"]


def test_resolve_did_web_refuses_a_document_of_another_did() -> None:
    # Whoever serves the address cannot pass off another DID's document (or keys) as this one.
    other = did_web_document("did:web:example.com:issuers:other",
                             [DidKeyEntry("key-1", PrivateKey.generate().public_key)])
    site = Site({"https://example.com/issuers/demo/did.json": other})
    with pytest.raises(ResolutionError, match="not the DID document of"):
        resolve_did_web(DID, site)


@pytest.mark.parametrize("served", [None, ["not", "an", "object"]])
def test_resolve_did_web_without_a_document(served: Any) -> None:
    site = Site({"https://example.com/issuers/demo/did.json": served})
    with pytest.raises(ResolutionError):
        resolve_did_web(DID, site)


def test_resolver_reads_did_web_keys_through_its_fetcher() -> None:
    key = PrivateKey.generate().public_key
    site = Site({"https://example.com/issuers/demo/did.json": _published(key)})
    resolved = Resolver.with_trusted(fetch=site).assertion_key(f"{DID}#key-1", DID)
    assert resolved.public_key == key
    assert resolved.source == "did:web"


def test_resolver_without_a_fetcher_does_not_resolve_did_web() -> None:
    with pytest.raises(ResolutionError, match="offline"):
        Resolver.with_trusted().assertion_key(f"{DID}#key-1", DID)

