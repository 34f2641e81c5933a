"""Issuing with the ECDSA cryptosuites through the VC API (W3C Data Integrity ECDSA
Cryptosuites v1.0 §3.3, §3.4): an issuer that has a P-256 or P-384 key beside its Ed25519 key
signs with it when ``options.cryptosuite`` asks, and its DID document lists that key as a
Multikey, so the credential verifies here and elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.core.keys import public_key_from_verification_method
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.issuers import get_issuer, issuer_did
from issuer.services.keys import rotate_key
from tests.conftest import World
from tests.web.vcapi.test_endpoints import (
    generic_credential,
    issue,
    issued,
    ob_credential,
    problem,
    verify_vc,
)


def _add_key(session: Session, ctx: ServiceContext, slug: str, key_type: str) -> str:
    issuer = get_issuer(session, slug)
    row = rotate_key(session, ctx, issuer, key_type)
    session.commit()
    return f"{issuer_did(ctx, issuer)}#{row.fragment}"


def test_without_an_ecdsa_key_the_request_is_refused(client: FlaskClient, world: World) -> None:
    body = problem(issue(client, world.token, generic_credential(),
                         cryptosuite="ecdsa-rdfc-2019"), 422)
    assert "no active P-256 or P-384 key" in body["detail"]


@pytest.mark.parametrize("key_type", ["P-256", "P-384"])
@pytest.mark.parametrize("suite", ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"])
def test_an_issuer_with_an_ecdsa_key_signs_with_it_on_request(
    client: FlaskClient, world: World, session: Session, ctx: ServiceContext, key_type: str,
    suite: str,
) -> None:
    method = _add_key(session, ctx, world.issuer_slug, key_type)
    vc = issued(client, world.token, generic_credential(), cryptosuite=suite)
    proof = vc["proof"]
    assert (proof["cryptosuite"], proof["verificationMethod"]) == (suite, method)
    body = verify_vc(client, vc).get_json()
    assert body["verified"] is True, body

    changed: dict[str, Any] = {**vc, "name": "Someone else's"}
    assert verify_vc(client, changed).get_json()["verified"] is False

    did = client.get(f"/issuers/{world.issuer_slug}/did.json").get_json()
    listed = next(m for m in did["verificationMethod"] if m["id"] == method)
    assert listed["type"] == "Multikey"
    assert listed["publicKeyMultibase"].startswith("zDn" if key_type == "P-256" else "z82")
    assert public_key_from_verification_method(listed).key_type == key_type
    assert method in did["assertionMethod"]


def test_the_default_suite_and_key_stay_eddsa(
    client: FlaskClient, world: World, session: Session, ctx: ServiceContext
) -> None:
    _add_key(session, ctx, world.issuer_slug, "P-256")
    vc = issued(client, world.token, ob_credential())
    proof = vc["proof"][0]
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"].endswith("#key-1")
    assert verify_vc(client, vc).get_json()["verified"] is True
    ecdsa = issued(client, world.token, ob_credential(), cryptosuite="ecdsa-rdfc-2019")
    assert ecdsa["proof"][0]["verificationMethod"].endswith("#key-2")
    assert verify_vc(client, ecdsa).get_json()["verified"] is True


def test_rotating_one_key_type_leaves_the_other_signing(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    rotate_key(session, ctx, issuer, "P-256")
    rotate_key(session, ctx, issuer, "Ed25519")
    rotate_key(session, ctx, issuer, "P-256")
    active = sorted((k.fragment, k.key_type) for k in issuer.keys if k.active)
    assert active == [("key-3", "Ed25519"), ("key-4", "P-256")]
    with pytest.raises(Invalid, match="key type must be one of"):
        rotate_key(session, ctx, issuer, "RSA")
