"""Real exchange answers match what schemas/openapi.yaml says of them: status, media type,
schema."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from issuer.services.context import ServiceContext
from issuer.services.exchanges import start_exchange
from issuer.storage.models import Credential
from tests.conftest import BASE_URL
from tests.web.api.test_openapi import _check, spec
from tests.web.wallet.holder import Holder


def _described(path: str, method: str, response: TestResponse, expected: int) -> None:
    assert response.status_code == expected, response.get_data(as_text=True)
    responses = spec()["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method} {path} answers {status}, which is not described"
    answer = responses[status]
    base = (answer["$ref"][1:] if "$ref" in answer else
            f"/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}/responses/{status}")
    target: Any = spec()
    for part in base[1:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    assert response.mimetype in target["content"], (path, status, response.mimetype)
    media = response.mimetype.replace("/", "~1")
    _check(response.get_json(force=True), f"{base}/content/{media}/schema")


def test_exchange_answers_are_as_described(client: FlaskClient, session: Session,
                                           ctx: ServiceContext, badge: Credential,
                                           holder: Holder) -> None:
    one, two = "/exchanges/{exchange_id}", "/exchanges/{exchange_id}/{transaction_id}"
    started = start_exchange(session, ctx, session.get(Credential, badge.id), started_by="t")
    session.commit()
    exchange = started.exchange_url.removeprefix(BASE_URL)
    _described(one, "get", client.get(exchange, query_string={"iuv": "1"}), 200)
    _described(one, "get", client.get(exchange), 405)
    _described(one, "get", client.get("/exchanges/nope", query_string={"iuv": "1"}), 404)
    _described(one, "post", client.post(exchange, json={}), 200)
    _described(one, "post", client.post(exchange, data=b"{", content_type="application/json"), 400)
    transaction = f"{exchange}/{started.challenge}"
    _described(two, "post", client.post(transaction, json={"type": "VerifiablePresentation"}), 422)
    _described(two, "post", client.post(transaction, data=b"x", content_type="text/plain"), 415)
    _described(two, "post", client.post(f"{exchange}/wrong", json={}), 404)
    vp = holder.did_auth(challenge=started.challenge, domain=BASE_URL)
    _described(two, "post", client.post(transaction, json=vp), 200)
    _described(two, "post", client.post(transaction, json=vp), 410)
