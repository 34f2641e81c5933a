"""The OpenID4VCI answers are the ones schemas/openapi.yaml describes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.oid4vci import create_offer
from issuer.storage.models import Credential
from tests.conftest import BASE_URL
from tests.web.api.test_openapi import _check, _response_schema, deref, spec
from tests.web.oid4vci.wallet import GRANT, LDP_VC, Answer, Wallet, start


def _described(answer: Answer, path: str, method: str) -> None:
    status = str(answer.status)
    responses = spec()["paths"][path][method]["responses"]
    assert status in responses, (path, method, status)
    response = deref(responses[status])
    (media,) = response["content"]
    assert answer.headers["Content-Type"].split(";")[0] == media
    if "$ref" in responses[status]:
        _check(answer.body, f"{responses[status]['$ref'][1:]}/content/"
                            f"{media.replace('/', '~1')}/schema")
    else:
        _check(answer.body, _response_schema(path, method, status, media))


def test_every_answer_of_a_flow_is_described(wallet: Wallet, session: Session,
                                             ctx: ServiceContext, badge: Credential) -> None:
    request = wallet.transport.request
    for path in ("/.well-known/openid-credential-issuer",
                 "/.well-known/oauth-authorization-server"):
        _described(request("GET", BASE_URL + path), path, "get")
    offer = create_offer(session, ctx, badge, tx_code="1234")
    session.commit()
    _described(request("GET", offer.offer_uri), "/oid4vci/offers/{offer_id}", "get")
    _described(wallet.token(f"{BASE_URL}/oid4vci/token", "wrong"), "/oid4vci/token", "post")
    flow = start(wallet, offer.link, "1234")
    _described(request("GET", offer.offer_uri, headers={"Accept": "application/json"}),
               "/oid4vci/offers/{offer_id}", "get")
    nonce_answer = request("POST", f"{BASE_URL}/oid4vci/nonce")
    _described(nonce_answer, "/oid4vci/nonce", "post")
    body: dict[str, Any] = {"credential_configuration_id": LDP_VC, "proofs": {"jwt": [
        wallet.jwt_proof(audience=flow.issuer, nonce=nonce_answer.body["c_nonce"])]}}
    endpoint = f"{BASE_URL}/oid4vci/credential"
    _described(wallet.credential(endpoint, flow.access_token, body), "/oid4vci/credential",
               "post")
    _described(wallet.credential(endpoint, "nope", body), "/oid4vci/credential", "post")
    _described(wallet.credential(endpoint, flow.access_token, body), "/oid4vci/credential",
               "post")
    assert GRANT in json.dumps(spec()["paths"]["/oid4vci/token"])
