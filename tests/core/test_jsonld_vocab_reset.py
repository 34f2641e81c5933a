"""``"@vocab": null`` in an inline context: it removes any vocabulary mapping (JSON-LD 1.1
§4.1.2 step 5.8.2), so a type or key outside the contexts is undefined and safe mode names
it (VC Data Integrity §2.4). It never fails inside the JSON-LD processor, whether or not a
vocabulary mapping was there to remove.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from issuer.core.bundled import bundled_loader
from issuer.core.errors import UndefinedTermError
from issuer.core.jsonld import expand_safe
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.pyld_adapter import ContextProcessor
from issuer.core.safe_mode import issuer_dependent_terms
from issuer.core.verify import Outcome
from tests.core.helpers import did_key_issuer, unsigned_badge, verifier

LOADER = bundled_loader()
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
RESET = {"@vocab": None}


def unmapped(*types: str, contexts: tuple[Any, ...] = (RESET,)) -> dict[str, Any]:
    """The VC Data Model 2.0 test suite's ``credential-type-unmapped-fail.json``, with
    ``types`` beside ``VerifiableCredential``."""
    return {
        "@context": [V2, *contexts],
        "type": ["VerifiableCredential", *types],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:subject"},
    }


@pytest.mark.parametrize("check", [expand_safe, issuer_dependent_terms],
                         ids=["pyld", "fast path"])
def test_an_unmapped_type_after_a_vocab_reset_is_named(check: Any) -> None:
    with pytest.raises(UndefinedTermError) as caught:
        check(unmapped("ExampleTestCredential"), LOADER)
    assert caught.value.term == "ExampleTestCredential"
    assert "undefined type(s) 'ExampleTestCredential'" in caught.value.message


def test_every_unmapped_type_is_named() -> None:
    with pytest.raises(UndefinedTermError) as caught:
        expand_safe(unmapped("FirstKind", "SecondKind"), LOADER)
    assert "'FirstKind', 'SecondKind'" in caught.value.message


def test_the_reset_removes_a_vocabulary_mapping_set_before_it() -> None:
    # The examples context maps every other term into its vocabulary ...
    assert expand_safe(unmapped("ExampleKind", contexts=(EXAMPLES,)), LOADER).expanded
    # ... until a later context resets it.
    with pytest.raises(UndefinedTermError) as caught:
        expand_safe(unmapped("ExampleKind", contexts=(EXAMPLES, RESET)), LOADER)
    assert caught.value.term == "ExampleKind"


def test_a_reset_with_nothing_to_remove_changes_nothing() -> None:
    document = unmapped()
    assert expand_safe(document, LOADER).issuer_dependent_terms == ()
    assert issuer_dependent_terms(document, LOADER) == ()
    twice = unmapped(contexts=(RESET, RESET))
    assert expand_safe(twice, LOADER).issuer_dependent_terms == ()


def test_context_processing_accepts_a_reset_without_a_mapping() -> None:
    processor = ContextProcessor()
    options = LOADER.options(processingMode="json-ld-1.1")
    active = processor.process(processor.initial_context(options), [RESET], options)
    assert "@vocab" not in active


def test_a_signed_credential_with_a_reset_verifies() -> None:
    key, did, method = did_key_issuer()
    document = unsigned_badge(did)
    document["@context"] = [*document["@context"], RESET]
    signed = sign_document(document, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=method, ctx=SuiteContext(loader=LOADER),
                           created="2026-01-01T00:00:00Z")
    report = verifier().verify(signed)
    assert report.valid, report


def test_the_verifier_names_an_unmapped_type_after_a_reset() -> None:
    key, did, method = did_key_issuer()
    document = unsigned_badge(did)
    document["@context"] = [*document["@context"], RESET]
    signed = sign_document(document, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=method, ctx=SuiteContext(loader=LOADER),
                           created="2026-01-01T00:00:00Z")
    changed = copy.deepcopy(signed)
    changed["type"] = [*changed["type"], "ExampleTestCredential"]
    context = verifier().verify(changed).check("context")
    assert context is not None and context.outcome == Outcome.FAILED
    assert "ExampleTestCredential" in context.message
