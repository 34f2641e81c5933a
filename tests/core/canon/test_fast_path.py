"""The fast JSON-LD → RDF path (issuer.core.canon.fast_path) feature by feature.

Every accepted document is checked against the general path (pyld expansion + pyld RDF
conversion + our RDFC-1.0); every document the fast path declines must come out of
``canonicalize`` exactly as from the general path, result or error. The generated
differential test (test_differential.py) covers the space between these cases.
"""

from __future__ import annotations

import copy
import gc
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

import issuer.core.canon
from issuer.core.bundled import bundled_loader
from issuer.core.canon import canonicalize, canonicalize_general
from issuer.core.canon import fast_path as fast_rdf
from issuer.core.canon.fast_path import MAX_JSON_DEPTH, Unsupported, canonicalize_fast
from issuer.core.canon.rdfc import WorkBudget
from issuer.core.errors import InputError, UndefinedTermError, WorkLimitExceeded
from issuer.core.jsonld import ContextLoader

LOADER = bundled_loader()
VECTORS = Path(__file__).resolve().parents[2] / "vectors"
V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
OB30 = "https://purl.imsglobal.org/spec/ob/v3p0/context.json"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
XSD = "http://www.w3.org/2001/XMLSchema#"
SMALL = VECTORS / "1edtech-impl-guide-ob30-eddsa-rdfc-2022" / "unsigned.json"
LARGE = VECTORS / "1edtech-spec-examples-2024-04" / "complete-openbadgecredential.di.json"


def load(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    document.pop("proof", None)
    return document


def outcome(function: Any, document: Any, loader: ContextLoader = LOADER) -> tuple[Any, ...]:
    try:
        return ("ok", function(document, loader))
    except Exception as exc:
        return (type(exc).__name__, str(exc), getattr(exc, "term", None))


def assert_fast(document: dict[str, Any], loader: ContextLoader = LOADER) -> str:
    """The fast path accepts ``document`` and agrees with the general path."""
    fast = canonicalize_fast(document, loader)
    assert fast == canonicalize_general(document, loader)
    assert canonicalize(document, loader) == fast
    return fast


def assert_declined(document: Any) -> tuple[Any, ...]:
    """The fast path declines ``document``; canonicalize() then behaves as the general path."""
    with pytest.raises(Unsupported):
        canonicalize_fast(document, LOADER)
    expected = outcome(canonicalize_general, document)
    assert outcome(canonicalize, document) == expected
    return expected


def credential(*contexts: str, **members: Any) -> dict[str, Any]:
    """A credential under ``contexts`` (OB 3.0.3 on VCDM 2.0 by default)."""
    urls = list(contexts or (V2, OB303))
    document: dict[str, Any] = {
        "@context": urls,
        "id": "urn:uuid:2d4c5f6e-0a7b-4c1d-9e8f-1a2b3c4d5e6f",
        "type": ["VerifiableCredential"],
        "issuer": "https://example.edu/issuers/1",
        "validFrom": "2026-01-01T00:00:00Z",
    }
    if OB303 in urls:
        document["type"].append("OpenBadgeCredential")
        document["issuer"] = {
            "id": "https://example.edu/issuers/1",
            "type": "Profile",
            "name": "Example",
        }
    document.update(members)
    return document


def subject(**members: Any) -> dict[str, Any]:
    return {"id": "did:example:learner", "type": ["AchievementSubject"], **members}


def achievement(**members: Any) -> dict[str, Any]:
    return {
        "id": "https://example.edu/achievements/a",
        "type": ["Achievement"],
        "name": "A",
        "criteria": {"narrative": "Do it."},
        **members,
    }


# ----------------------------------------------------------------------------- real documents


def _vector_documents() -> list[Path]:
    found = []
    for path in sorted(VECTORS.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(document, dict) and "@context" in document:
            found.append(path)
    return found


@pytest.mark.parametrize("path", _vector_documents(), ids=lambda p: str(p.relative_to(VECTORS)))
def test_every_json_ld_vector_gives_the_general_paths_outcome(path: Path) -> None:
    document = load(path)
    assert outcome(canonicalize, document) == outcome(canonicalize_general, document)


@pytest.mark.parametrize(
    "path",
    [
        SMALL,
        LARGE,
        VECTORS / "1edtech-impl-guide-clr20-eddsa-rdfc-2022" / "unsigned.json",
        VECTORS / "1edtech-spec-examples-2024-04" / "sample-endorsementcredential.di.json",
        VECTORS / "w3c-vc-di-eddsa" / "unsigned.json",
        VECTORS / "w3c-vc-jose-cose-test-suite" / "credential-full.json",
        VECTORS / "w3c-vc-jose-cose-test-suite" / "presentation-single.json",
    ],
    ids=lambda p: p.name,
)
def test_credentials_in_the_wild_take_the_fast_path(path: Path) -> None:
    assert_fast(load(path))


def test_the_1edtech_vector_canonicalizes_to_its_published_form() -> None:
    expected = (SMALL.parent / "document-canon.txt").read_text(encoding="utf-8")
    assert canonicalize_fast(load(SMALL), LOADER) == expected


@pytest.mark.parametrize("path", [SMALL, LARGE], ids=["small", "large"])
def test_byte_identical_to_pyld_normalize(path: Path) -> None:
    document = load(path)
    reference = jsonld.normalize(
        copy.deepcopy(document),
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": LOADER},
    )
    assert canonicalize_fast(document, LOADER) == reference


def test_the_public_entry_point_uses_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def general(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("the general path was used")

    monkeypatch.setattr(issuer.core.canon, "canonicalize_general", general)
    expected = (SMALL.parent / "document-canon.txt").read_text(encoding="utf-8")
    assert issuer.core.canon.canonicalize(load(SMALL), LOADER) == expected


# ----------------------------------------------------------------------------- features

PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-rdfc-2022",
    "created": "2026-01-01T00:00:00Z",
    "verificationMethod": "did:key:z6Mk#z6Mk",
    "proofPurpose": "assertionMethod",
    "proofValue": "z3FXQjecWufY46",
}

FEATURES: dict[str, dict[str, Any]] = {
    "list container": credential(
        credentialSubject=subject(
            achievement=achievement(
                resultDescription=[
                    {
                        "id": "urn:uuid:rd1",
                        "type": "ResultDescription",
                        "name": "Grade",
                        "resultType": "LetterGrade",
                        "allowedValue": ["A", "B", "A", 1, True, None, {"@value": "x"}],
                    },
                    {"type": "ResultDescription", "allowedValue": []},
                    {"type": "ResultDescription", "allowedValue": "single"},
                    {"type": "ResultDescription", "allowedValue": None},
                    {"type": "ResultDescription", "allowedValue": [{"name": "node in list"}]},
                ]
            )
        )
    ),
    "graph container": credential(proof=dict(PROOF)),
    "graph container, several and by reference": credential(
        proof=[dict(PROOF), {**PROOF, "id": "urn:uuid:p2"}, "https://example.org/proofs/3", None]
    ),
    "json literals": credential(
        V2,
        credentialSchema={
            "id": "https://example.org/schema",
            "type": "JsonSchema",
            "jsonSchema": {"b": [1, 2.5, 1e21, True, None, 'é"\\'], "a": {"$id": "x"}},
        },
        _sd=["a", "b"],
        cnf={"kid": "https://example.org/keys/1", "jwk": {"kty": "OKP", "crv": "Ed25519"}},
    ),
    "json literal null": credential(
        V2, credentialSchema={"type": "JsonSchema", "jsonSchema": None}
    ),
    "value objects": credential(
        name={"@value": "Nom", "@language": "FR-ca"},
        description=[
            {"@value": "plain", "@language": None},
            {"@value": "5", "@type": "xsd:integer"},
            {"@value": 5.5, "@type": XSD + "decimal"},
            {"@value": True},
            {"@value": 7, "@type": XSD + "double"},
        ],
    ),
    "issuer-dependent terms under @vocab": credential(
        V2,
        OB303,
        EXAMPLES,
        type=["VerifiableCredential", "OpenBadgeCredential", "CustomCredential"],
        customTerm="x",
        customNode={"nested": {"deeper": 1}, "type": "LocalType"},
    ),
    "@id-typed terms": credential(
        image="https://example.org/badge.png",
        credentialSubject=subject(
            image="_:shared",
            source={"id": "_:shared", "type": "Profile", "name": "Shared"},
            achievement=achievement(image={"id": "https://example.org/i", "type": "Image"}),
        ),
    ),
    "type-scoped contexts, nested": credential(
        credentialSubject=subject(
            result=[
                {
                    "type": "Result",
                    "resultDescription": "urn:uuid:rd1",
                    "value": "A",
                    "status": "Completed",
                }
            ],
            achievement=achievement(
                creator={
                    "type": "Profile",
                    "address": {"type": "Address", "addressCountry": "NL"},
                    "otherIdentifier": [
                        {"type": "IdentifierEntry", "identifier": "x", "identifierType": "name"}
                    ],
                },
                alignment=[{"type": ["Alignment"], "targetName": "T", "targetUrl": "https://t"}],
            ),
        )
    ),
    "property-scoped contexts": credential(
        V2,
        credentialStatus={
            "id": "https://example.org/status/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "message",
            "statusListIndex": "94567",
            "statusSize": 2,
            "statusListCredential": "https://example.org/status/1",
            "statusMessage": [{"status": "0x0", "message": "valid"}],
        },
    ),
    "a presentation, with a context reset": {
        "@context": [V2],
        "type": "VerifiablePresentation",
        "holder": "did:example:holder",
        "verifiableCredential": [load(SMALL)],
    },
    "an embedded credential with its own contexts": credential(
        endorsement=[
            {
                "@context": [V2, OB303],
                "type": ["VerifiableCredential", "EndorsementCredential"],
                "issuer": "https://example.org/endorser",
                "credentialSubject": {
                    "type": "EndorsementSubject",
                    "id": "https://example.edu/issuers/1",
                    "endorsementComment": "Good",
                },
            }
        ]
    ),
    "blank nodes, labelled and look-alike": credential(
        type=["VerifiableCredential", "OpenBadgeCredential", "_:localType"],
        credentialSubject={
            "type": "AchievementSubject",
            "identifier": [
                {"type": "IdentityObject", "identityHash": "a", "hashed": False},
                {"type": "IdentityObject", "identityHash": "a", "hashed": False},
                {"type": "IdentityObject", "identityHash": "b", "hashed": False},
            ],
            "source": "_:issuer",
        },
        issuer={"id": "_:issuer", "type": "Profile", "name": "Anonymous"},
    ),
    "compact IRIs through a prefix": {
        "@context": [V1, OB30],
        "id": "xsd:credential",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": "https://example.org/issuer",
        "issuanceDate": "2010-01-01T00:00:00Z",
        "credentialSubject": {"id": "xsd:subject", "type": "AchievementSubject"},
    },
    "absolute IRIs as keys and types": credential(
        **{
            "https://example.org/vocab#p": ["x", {"@value": "y", "@language": "de"}],
            "credentialSubject": {"type": "https://example.org/vocab#Thing"},
        }
    ),
    "unicode and escapes": credential(
        name='"quoted" \\ back\nline\ttab\b\f\r\x00\x1f\x7f\u0085\u2028'
        + "\ufffe\uffff\ud800 𝒳 e\u0301",
        description="日本語 🎓",
    ),
    "empty and null values": credential(
        description=None,
        credentialSubject={},
        evidence=[],
        image=[None, "https://example.org/i"],
    ),
}


@pytest.mark.parametrize("document", FEATURES.values(), ids=FEATURES.keys())
def test_feature(document: dict[str, Any]) -> None:
    assert_fast(document)


NUMBERS = [
    "0",
    "-0",
    "1",
    "-1",
    "1.0",
    "-0.0",
    "2.5",
    "0.1",
    "-1.5e-7",
    "1e3",
    "1E3",
    "1e21",
    "-1e21",
    "1e22",
    "1.7976931348623157e308",
    "5e-324",
    "123456789012345678901",
    "12345678901234567890123",
    "999999999999999999999",
    "9007199254740993",
    "0.30000000000000004",
    "100000000000000000000.0",
    "1.5E+300",
    "true",
    "false",
]


@pytest.mark.parametrize("text", NUMBERS)
@pytest.mark.parametrize(
    "where",
    ["untyped", "xsd:float term", "xsd:integer term", "@id term", "xsd:double value object"],
)
def test_numbers_and_booleans(text: str, where: str) -> None:
    """JSON-LD 1.1 §8.6: integers, doubles and booleans to literals, as the general path."""
    value = json.loads(text)
    if where == "untyped":
        document = credential(description=value)
    elif where == "xsd:float term":
        document = credential(
            credentialSubject=subject(achievement=achievement(creditsAvailable=value))
        )
    elif where == "xsd:integer term":
        document = credential(
            V2, credentialStatus={"type": "BitstringStatusListEntry", "statusSize": value}
        )
    elif where == "@id term":
        document = credential(image=value)
    else:
        document = credential(description={"@value": value, "@type": XSD + "double"})
    assert_fast(document)


def test_numbers_too_large_for_a_double_are_left_to_the_general_path() -> None:
    assert_declined(credential(description=10**400))
    assert_declined(credential(description={"@value": 10**400, "@type": XSD + "double"}))


# ----------------------------------------------------------------------------- declined input

UNDEFINED = credential()
UNDEFINED["credentialSubject"] = subject(undefinedTerm="x")

DECLINED: dict[str, Any] = {
    "inline context": {**credential(), "@context": [V2, OB303, {"extra": "https://e.org/x"}]},
    "nested inline context": credential(issuer={"@context": {"x": "https://e.org/x"}, "x": 1}),
    "@graph": credential(**{"@graph": [{"id": "https://example.org/g"}]}),
    "@reverse": credential(**{"@reverse": {"https://e.org/r": {"id": "https://e.org/s"}}}),
    "@included": credential(**{"@included": [{"id": "https://e.org/s", "name": "x"}]}),
    "@direction": credential(name={"@value": "x", "@language": "ar", "@direction": "rtl"}),
    "@list object": credential(name={"@list": ["a"]}),
    "nested arrays": credential(name=[["a"], "b"]),
    "undefined term": UNDEFINED,
    "undefined type": credential(type=["VerifiableCredential", "NoSuchType"]),
    "relative id": credential(id="credentials/1"),
    "id with a space": credential(id="https://example.org/a b"),
    "id that is not a string": credential(id=5),
    "relative @id-typed value": credential(image="badge.png"),
    "unknown context": {**credential(), "@context": [V2, "https://example.org/ctx"]},
    "conflicting contexts": {**credential(), "@context": [V1, V2]},
    "no context": {k: v for k, v in credential().items() if k != "@context"},
    "not an object": ["not", "an", "object"],
    "string typed xsd:double": credential(name={"@value": "1.5", "@type": XSD + "double"}),
    "invalid language tag": credential(name={"@value": "x", "@language": "en_US"}),
    "null @value": credential(name={"@value": None}),
    "value object with extra members": credential(name={"@value": "x", "id": "https://e.org"}),
    "lone surrogate in an IRI": credential(id="https://example.org/\ud800"),
    "non-finite number": credential(description=float("nan")),
    "JSON literals the general path merges": credential(
        V2,
        credentialSchema=[
            {"id": "https://e.org/s", "type": "JsonSchema", "jsonSchema": {"a": 1}},
            {"id": "https://e.org/s", "type": "JsonSchema", "jsonSchema": {"a": True}},
        ],
    ),
}


@pytest.mark.parametrize("document", DECLINED.values(), ids=DECLINED.keys())
def test_declined_input_gets_the_general_paths_outcome(document: Any) -> None:
    assert_declined(document)


def test_safe_mode_errors_name_the_same_term() -> None:
    expected = assert_declined(UNDEFINED)
    assert expected[0] == UndefinedTermError.__name__
    assert expected[2] == "undefinedTerm"


# ----------------------------------------------------------------------------- hostile input


def _nested(levels: int, leaf: Any = "x") -> dict[str, Any]:
    node: Any = leaf
    for level in range(levels - 1):
        node = {"id": f"https://example.org/n/{level}", "nested": node}
    return {"@context": [V2, EXAMPLES], "id": "https://example.org/root", "nested": node}


def test_nesting_up_to_the_limit_is_accepted() -> None:
    assert_fast(_nested(MAX_JSON_DEPTH))


@pytest.mark.parametrize(
    "document",
    [
        _nested(MAX_JSON_DEPTH + 1),
        _nested(MAX_JSON_DEPTH, leaf=[]),
        _nested(MAX_JSON_DEPTH, leaf=["x"]),
        _nested(MAX_JSON_DEPTH, leaf=[{"id": "https://example.org/leaf"}]),
        credential(V2, credentialSchema={"type": "JsonSchema", "jsonSchema": _nested(150)}),
    ],
    ids=["object", "empty array", "array", "object in an array", "inside a JSON literal"],
)
def test_nesting_beyond_the_limit_is_refused_by_both_paths(document: dict[str, Any]) -> None:
    for function in (canonicalize, canonicalize_general, canonicalize_fast):
        with pytest.raises(InputError, match="nested too deeply"):
            function(document, LOADER)


@pytest.mark.parametrize("kind", ["objects", "arrays"])
def test_hostile_nesting_is_refused_quickly(kind: str) -> None:
    inner: Any = "x"
    for _ in range(200_000):
        inner = {"a": inner} if kind == "objects" else [inner]
    document = {"@context": [V2, EXAMPLES], "deep": inner}
    started = time.monotonic()
    with pytest.raises(InputError, match="nested too deeply"):
        canonicalize(document, LOADER)
    assert time.monotonic() - started < 5.0


def _clique(count: int) -> dict[str, Any]:
    # Look-alike blank nodes that all point at each other: RDFC-1.0 has to try their
    # orderings (RDFC-1.0 §4.8 and its "Dataset Poisoning" security consideration).
    members = [
        {"id": f"_:n{i}", "link": [{"id": f"_:n{j}"} for j in range(count) if j != i]}
        for i in range(count)
    ]
    return credential(V2, EXAMPLES, credentialSubject=members)


def test_a_poison_graph_is_refused_quickly() -> None:
    document = _clique(10)
    started = time.monotonic()
    with pytest.raises(WorkLimitExceeded):
        canonicalize(document, LOADER)
    assert time.monotonic() - started < 5.0
    with pytest.raises(WorkLimitExceeded):
        canonicalize_general(document, LOADER)


def test_the_work_budget_reaches_the_fast_path() -> None:
    document = _clique(3)
    assert_fast(document)
    with pytest.raises(WorkLimitExceeded):
        canonicalize(document, LOADER, budget=WorkBudget(max_steps=1))


# ----------------------------------------------------------------------------- compiled state


def test_contexts_are_compiled_per_loader() -> None:
    """Two loaders with different copies of a context give different (correct) results."""
    documents = {url: copy.deepcopy(LOADER.get(url)) for url in LOADER.urls}
    documents[OB303]["@context"]["narrative"] = {"@id": "https://example.org/other#narrative"}
    other = ContextLoader(documents)
    document = load(SMALL)
    ours = assert_fast(document, other)
    assert "https://example.org/other#narrative" in ours
    assert ours != canonicalize_fast(document, LOADER)


def test_concurrent_use_of_a_fresh_loader() -> None:
    loader = ContextLoader({url: LOADER.get(url) for url in LOADER.urls})
    documents = [load(SMALL), load(LARGE), FEATURES["list container"], FEATURES["json literals"]]
    expected = [canonicalize_general(d, loader) for d in documents]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: canonicalize(documents[i % 4], loader), range(64)))
    assert results == [expected[i % 4] for i in range(64)]


def test_remembered_keys_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_rdf, "_MAX_KEYS", 50)
    loader = ContextLoader({url: LOADER.get(url) for url in LOADER.urls})
    document = credential(V2, OB303, EXAMPLES, **{f"term{i}": i for i in range(300)})
    assert_fast(document, loader)
    assert_fast(document, loader)
    compiler = fast_rdf._compiler_for(loader)
    assert compiler.cached_keys <= 50
    assert sum(len(ctx.keys) for ctx in compiler.contexts.values()) <= 50


def test_compiled_state_goes_with_its_loader() -> None:
    loader = ContextLoader({url: LOADER.get(url) for url in LOADER.urls})
    assert_fast(load(SMALL), loader)
    assert loader in fast_rdf._COMPILERS
    before = len(fast_rdf._COMPILERS)
    del loader
    gc.collect()
    assert len(fast_rdf._COMPILERS) == before - 1
