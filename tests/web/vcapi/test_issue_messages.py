"""A refused issue request says what is wrong with the value sent.

``credential.issuer`` may be a URL or an object, ``@context`` and ``type`` a string or a
list, ``credentialSubject`` an object or a list. A refusal must speak about the shape that
was sent: ``"fake-issuer"`` is not a URL, rather than "is not of type 'object'", which
only describes the other shape the member may take.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import World
from tests.web.vcapi.test_endpoints import (
    generic_credential,
    issue,
    issued,
    ob_credential,
    verify_vc,
)

A_URI = "a URI (an absolute address such as https://… or a DID)"


def refusal(client: FlaskClient, world: World, **members: Any) -> tuple[str, list[str]]:
    """The problem's detail and its list of errors for a credential with ``members``."""
    response = issue(client, world.token, generic_credential(**members))
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    return body["detail"], body.get("errors") or []


@pytest.mark.parametrize(("members", "expected"), [
    ({"issuer": "fake-issuer"},
     f"credential.issuer: \"fake-issuer\" is not {A_URI}"),
    ({"issuer": {"id": "fake-issuer"}},
     f"credential.issuer.id: \"fake-issuer\" is not {A_URI}"),
    ({"issuer": ["did:example:1"]},
     "credential.issuer: must be a string or an object, not a list"),
    ({"@context": []}, "credential.@context: must not be empty"),
    ({"@context": 5}, "credential.@context: must be a string or a list, not a number"),
    ({"type": "ExampleAlumniCredential"},
     "credential.type: \"ExampleAlumniCredential\" is not one of \"VerifiableCredential\""),
    ({"type": ["VerifiableCredential", 3]}, "credential.type[1]: must be a string, not a number"),
    ({"credentialSubject": []}, "credential.credentialSubject: must not be empty"),
    ({"credentialSubject": ["did:example:alumna"]},
     "credential.credentialSubject[0]: must be an object, not a string"),
], ids=["issuer not a URL", "issuer id not a URL", "issuer a list", "no context",
        "context a number", "type without VerifiableCredential", "type with a number",
        "no subject", "subject a string"])
def test_the_refusal_names_what_is_wrong_with_the_value_sent(
        client: FlaskClient, world: World, members: dict[str, Any], expected: str) -> None:
    detail, errors = refusal(client, world, **members)
    assert errors == [expected]
    assert detail.endswith(f"(1 problem): {expected}")


def test_a_list_of_types_without_verifiable_credential_is_refused_for_that(
        client: FlaskClient, world: World) -> None:
    _, errors = refusal(client, world, type=["ExampleAlumniCredential"])
    assert len(errors) == 1
    assert errors == ['credential.type: must include "VerifiableCredential"']


@pytest.mark.parametrize("members", [
    {"issuer": "did:example:issuer"},
    {"issuer": {"id": "did:example:issuer", "name": "Guild"}},
    {"credentialSubject": [{"id": "did:example:a"}, {"id": "did:example:b"}]},
], ids=["issuer URL", "issuer object", "subjects"])
def test_each_shape_the_members_may_take_passes_the_schema(
        client: FlaskClient, world: World, members: dict[str, Any]) -> None:
    response = issue(client, world.token, generic_credential(**members))
    body = response.get_json()
    # The service may still refuse (another issuer than the token's), but not by the schema.
    assert "does not match its schema" not in body.get("detail", ""), body


def test_a_missing_member_and_an_unknown_option_are_named(
        client: FlaskClient, world: World) -> None:
    credential = generic_credential()
    del credential["credentialSubject"]
    response = issue(client, world.token, credential, cryptosuite="rsa-2048")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["errors"] == [
        "credential: 'credentialSubject' is missing",
        'options.cryptosuite: "rsa-2048" is not one of "eddsa-rdfc-2022", "eddsa-jcs-2022", '
        '"ecdsa-rdfc-2019", "ecdsa-jcs-2019"',
    ]


def test_a_vocab_reset_is_refused_for_the_types_it_leaves_undefined(
        client: FlaskClient, world: World) -> None:
    # The VC Data Model 2.0 suite's credential-type-unmapped-fail.json: "@vocab": null in a
    # context is a JSON-LD 1.1 reset, not a null value; the type it leaves undefined is named.
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": None}],
                  "type": ["VerifiableCredential", "ExampleTestCredential"],
                  "credentialSubject": {"id": "did:example:subject"}}
    response = issue(client, world.token, credential)
    assert response.status_code == 422, response.get_data(as_text=True)
    detail = response.get_json()["detail"]
    assert "undefined type(s) 'ExampleTestCredential'" in detail
    assert "null" not in detail


def test_a_credential_with_a_vocab_reset_is_issued_and_verifies(
        client: FlaskClient, world: World) -> None:
    credential = ob_credential()
    credential["@context"] = [*credential["@context"], {"@vocab": None}]
    vc = issued(client, world.token, credential)
    body = verify_vc(client, vc).get_json()
    assert body["verified"] is True, body
