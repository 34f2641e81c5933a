"""A document the JSON-LD processor refuses is refused in one plain line.

pyld's errors print as the tuple of their arguments followed by lines of internals
(``Type: jsonld.SyntaxError``, ``Code: …``, ``Details: {…}``); a verifier's answer carries the
rule that was broken instead, with the JSON-LD 1.1 API error code (§9.4.2).
"""

from __future__ import annotations

from typing import Any

import pytest

from issuer.core.bundled import bundled_loader
from issuer.core.errors import InputError
from issuer.core.jsonld import expand_safe

LOADER = bundled_loader()
VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"


@pytest.mark.parametrize("types", [[{}], [10], [True], [[]], {}],
                         ids=["object item", "number item", "boolean item", "list item",
                              "object"])
def test_a_type_that_is_not_a_string_is_refused_in_one_line(types: Any) -> None:
    document = {"@context": [VC_V1], "type": types, "issuer": "did:example:issuer",
                "credentialSubject": {"id": "did:example:subject"}}
    with pytest.raises(InputError) as caught:
        expand_safe(document, LOADER)
    assert caught.value.message == (
        'the document is not valid JSON-LD: "@type" value must be a string, an array of '
        "strings, or an empty object (JSON-LD: invalid type value)")


def test_an_invalid_context_names_the_rule() -> None:
    document = {"@context": [VC_V2, {"@vocab": 5}], "type": "VerifiableCredential"}
    with pytest.raises(InputError) as caught:
        expand_safe(document, LOADER)
    message = caught.value.message
    assert "\n" not in message and "Details" not in message
    assert message.endswith('"@vocab" in a @context must be a string or null '
                            "(JSON-LD: invalid vocab mapping)")
