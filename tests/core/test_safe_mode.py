"""issuer.core.safe_mode: the safe-mode verdict from the fast RDF path, as pyld would give it.

Whatever the document, ``issuer_dependent_terms`` must give the outcome of
``expand_safe``: the same error, or the same issuer-dependent terms. Checked on every JSON-LD
test vector (signed ones with their proofs, as the verifier sees them), on the fast path's
feature documents and on generated credentials, with faults among them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from issuer.core.bundled import bundled_loader
from issuer.core.errors import UndefinedTermError
from issuer.core.jsonld import expand_safe
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.pyld_adapter import SafeModeProcessor
from issuer.core.safe_mode import issuer_dependent_terms
from issuer.core.verify import Outcome
from tests.core.canon.test_differential import generate
from tests.core.canon.test_fast_path import FEATURES
from tests.core.helpers import did_key_issuer, signed_badge, unsigned_badge, verifier

LOADER = bundled_loader()
VECTORS = Path(__file__).resolve().parents[1] / "vectors"
V2 = "https://www.w3.org/ns/credentials/v2"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
GENERATED = 1_500
NS = "https://www.w3.org/ns/credentials/issuer-dependent#"


def verdict(function: Any, document: Any) -> tuple[Any, ...]:
    try:
        return ("ok", sorted(set(function(document, LOADER))))
    except Exception as exc:  # the error itself is what is compared
        return (type(exc).__name__, str(exc), getattr(exc, "term", None))


def by_pyld(document: Any, loader: Any) -> tuple[str, ...]:
    return expand_safe(document, loader).issuer_dependent_terms


def assert_same(document: Any) -> tuple[Any, ...]:
    expected = verdict(by_pyld, document)
    assert verdict(issuer_dependent_terms, document) == expected
    return expected


def fast_verdict(document: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """pyld's verdict, which must equal the fast path's (pyld is not used for the latter)."""
    expected = verdict(by_pyld, document)

    def no_pyld(*_args: Any) -> Any:
        raise AssertionError("pyld expansion was used")

    with monkeypatch.context() as patch:
        patch.setattr(SafeModeProcessor, "expand", no_pyld)
        assert verdict(issuer_dependent_terms, document) == expected
    return expected


def _vectors() -> list[Path]:
    found = []
    for path in sorted(VECTORS.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(document, dict) and "@context" in document:
            found.append(path)
    return found


@pytest.mark.parametrize("path", _vectors(), ids=lambda p: str(p.relative_to(VECTORS)))
def test_every_vector_gets_pylds_verdict(path: Path) -> None:
    assert_same(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", FEATURES.keys())
def test_every_fast_path_feature_gets_pylds_verdict(name: str) -> None:
    assert_same(copy.deepcopy(FEATURES[name]))


def test_generated_credentials_get_pylds_verdict() -> None:
    accepted = refused = 0
    for seed in range(GENERATED):
        if assert_same(generate(seed))[0] == "ok":
            accepted += 1
        else:
            refused += 1
    # The comparison means something only if both outcomes were met.
    assert accepted > GENERATED // 2
    assert refused > 0


def credential(**members: Any) -> dict[str, Any]:
    return {
        "@context": [V2, OB303],
        "id": "urn:uuid:2d4c5f6e-0a7b-4c1d-9e8f-1a2b3c4d5e6f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://example.edu/issuers/1", "type": "Profile", "name": "E"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "type": "AchievementSubject"},
        **members,
    }


def test_issuer_dependent_keys_types_and_datatypes_are_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = credential(**{
        NS + "localNote": "kept by the issuer",
        NS + "localThing": {"type": NS + "LocalKind",
                            NS + "weight": {"@value": "3", "@type": NS + "LocalUnit"}},
    })
    assert fast_verdict(document, monkeypatch) == (
        "ok", ["LocalKind", "LocalUnit", "localNote", "localThing", "weight"])


def test_a_literal_that_spells_a_datatype_is_not_one(monkeypatch: pytest.MonkeyPatch) -> None:
    text = f'x"^^<{NS}Fake'
    document = credential(**{"name": text, NS + "when": {
        "@value": text, "@type": "http://www.w3.org/2001/XMLSchema#string"}})
    assert fast_verdict(document, monkeypatch) == ("ok", ["when"])


def test_an_empty_list_of_an_issuer_dependent_term_is_reported_as_pyld_does() -> None:
    # Expansion keeps the key with its empty array; the dataset has no statement for it.
    assert assert_same(credential(**{NS + "localList": []})) == ("ok", ["localList"])


@pytest.mark.parametrize("members", [
    {"undefinedTerm": 1},
    {"type": ["VerifiableCredential", "UndefinedType"]},
    {"credentialSubject": {"id": "not an absolute IRI"}},
], ids=["term", "type", "id"])
def test_what_safe_mode_refuses_is_refused_with_pylds_error(members: dict[str, Any]) -> None:
    # VC 1.1 has no @vocab: an undefined term would silently fall out of the signature.
    document = {"@context": ["https://www.w3.org/2018/credentials/v1"],
                "type": ["VerifiableCredential"], "issuer": "https://example.edu/i",
                "issuanceDate": "2026-01-01T00:00:00Z",
                "credentialSubject": {"id": "did:example:learner"}, **members}
    assert assert_same(document)[0] == UndefinedTermError.__name__


def test_signed_credentials_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    path = VECTORS / "1edtech-spec-examples-2024-04" / "complete-openbadgecredential.di.json"
    assert fast_verdict(json.loads(path.read_text(encoding="utf-8")), monkeypatch) == ("ok", [])


# --- in the verifier ---------------------------------------------------------------------------


def test_the_verifier_names_issuer_dependent_terms_without_pyld(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, did, method = did_key_issuer()
    document = unsigned_badge(did)
    document["credentialSubject"][NS + "cohort"] = "2026 spring"
    signed = sign_document(document, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=method, ctx=SuiteContext(loader=LOADER),
                           created="2026-01-01T00:00:00Z")
    monkeypatch.setattr(SafeModeProcessor, "expand",
                        lambda *_: pytest.fail("pyld expansion was used"))
    report = verifier().verify(signed)
    assert report.valid
    context = report.check("context")
    assert context is not None and context.outcome == Outcome.WARNING
    assert any("cohort" in detail for detail in context.details)


def test_the_verifier_still_refuses_undefined_terms() -> None:
    signed, _ = signed_badge()
    signed["credentialSubject"]["favouriteColour"] = "blue"
    context = verifier().verify(signed).check("context")
    assert context is not None and context.outcome == Outcome.FAILED
    assert "favouriteColour" in context.message
