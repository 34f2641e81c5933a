"""Probes, metrics and request logs, over HTTP on a real database."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer.app import create_app, runtime
from issuer.config import Settings
from issuer.web.ops.logs import JsonFormatter
from tests.conftest import World


def figure(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    assert match is not None, f"{name}{labels} not in the metrics"
    return float(match.group(1))


@pytest.fixture()
def other_app(settings: Settings) -> Iterator[list[Flask]]:
    made: list[Flask] = []
    yield made
    for app in made:
        runtime(app).engine.dispose()


def make(made: list[Flask], settings: Settings) -> FlaskClient:
    app = create_app(settings, TESTING=True)
    made.append(app)
    return app.test_client()


def test_healthz_answers(client: FlaskClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database_with_its_keys(
        client: FlaskClient, world: World) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"status": "ready", "checks": {
        "database": "ok", "schema": "ok", "signing_keys": "ok", "queue": "ok"}}


def test_readyz_503_on_a_database_without_schema(
        settings: Settings, fresh_database_url: str, other_app: list[Flask]) -> None:
    answer = make(other_app, replace(settings, database_url=fresh_database_url)).get("/readyz")
    assert answer.status_code == 503
    # Problem details like every other error, the checks as an extension member.
    assert answer.mimetype == "application/problem+json"
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["status"] == 503 and body["title"] == "Not ready"
    assert body["detail"] == ("This node cannot serve requests: the schema and signing_keys "
                              "checks failed.")
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["schema"] == "the database has no schema yet: run issuer init"


def test_readyz_503_when_the_database_is_unreachable_and_says_nothing_secret(
        settings: Settings, other_app: list[Flask]) -> None:
    url = "postgresql+psycopg://operator:s3cret-pass@127.0.0.1:1/issuer"
    answer = make(other_app, replace(settings, database_url=url)).get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["checks"]["database"].startswith("failed (")
    assert body["checks"]["schema"] == "not checked: the database cannot be used"
    assert body["detail"] == "This node cannot serve requests: the database check failed."
    assert "s3cret" not in answer.get_data(as_text=True)
    assert "127.0.0.1" not in answer.get_data(as_text=True)


def test_readyz_503_when_the_signing_keys_cannot_be_loaded(
        settings: Settings, world: World, tmp_path: Path, other_app: list[Flask]) -> None:
    answer = make(other_app, replace(settings, keys_dir=tmp_path / "empty")).get("/readyz")
    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    assert re.fullmatch(r"\d+ of \d+ active signing keys cannot be loaded",
                        checks["signing_keys"])
    assert str(tmp_path) not in answer.get_data(as_text=True)


def test_readyz_503_when_the_queue_broker_is_down(
        settings: Settings, other_app: list[Flask]) -> None:
    down = replace(settings, queue_url="redis://127.0.0.1:1/0", queue_name="issuer-test-down")
    answer = make(other_app, down).get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["queue"].startswith(
        "the queue's broker cannot be reached")


def test_metrics_for_this_machine_only_without_a_token(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200
    away = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert away.status_code == 403
    assert away.mimetype == "application/problem+json"


def test_metrics_with_a_token(settings: Settings, other_app: list[Flask]) -> None:
    client = make(other_app, replace(settings, metrics_token="scrape-me"))
    assert client.get("/metrics").status_code == 403  # even from loopback
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403
    answer = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"},
                        environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert answer.status_code == 200


def test_metrics_count_requests_awards_verifications_and_jobs(
        client: FlaskClient, world: World) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    issued = figure(before, "issuer_credentials_issued_total")
    award = client.post("/api/v1/awards", headers={"Authorization": f"Bearer {world.token}"},
                        json={"achievement": world.achievement_slug,
                              "recipient": {"email": "ada@example.org"}, "notify": False})
    assert award.status_code == 201, award.get_json()
    verified = client.post("/credentials/verify", json={"verifiableCredential": {"x": 1}})
    label = f'{{route="/credentials/verify",status="{verified.status_code}"}}'
    before_verify = (figure(before, "issuer_verifications_total", label)
                     if f"issuer_verifications_total{label}" in before else 0.0)
    text = client.get("/metrics").get_data(as_text=True)
    assert figure(text, "issuer_credentials_issued_total") == issued + 1
    assert figure(text, "issuer_verifications_total", label) == before_verify + 1
    assert figure(text, "issuer_bulk_jobs", '{status="pending"}') == 0
    assert figure(text, "issuer_mail_waiting") >= 0
    assert figure(text, "issuer_http_requests_total",
                  '{method="POST",route="/api/v1/awards",status="201"}') >= 1
    assert 'issuer_http_request_duration_seconds_bucket{le="0.005",method="POST",' \
           'route="/api/v1/awards"}' in text


def test_one_json_log_line_per_request_with_its_id_and_no_secrets(
        client: FlaskClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("issuer.request")
    logger.addHandler(handler)
    try:
        mine = client.get("/learn/sign-in/secret-token-123?code=oauth-code-456",
                          headers={"X-Request-ID": "abc-123"})
        theirs = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["request_id"] == "abc-123" == mine.headers["X-Request-ID"]
    assert first["route"] == "/learn/sign-in/<token>"
    assert first["method"] == "GET" and first["status"] == mine.status_code
    assert isinstance(first["duration_ms"], float)
    assert "secret-token-123" not in stream.getvalue()
    assert "oauth-code-456" not in stream.getvalue()
    assert re.fullmatch(r"[0-9a-f]{32}", second["request_id"])
    assert second["request_id"] == theirs.headers["X-Request-ID"]


def test_the_answers_match_the_api_description(
        client: FlaskClient, settings: Settings, fresh_database_url: str,
        other_app: list[Flask], world: World) -> None:
    from tests.web.api.test_openapi import Described

    check = Described()
    check("/healthz", client.get("/healthz"))
    check("/readyz", client.get("/readyz"))
    empty = make(other_app, replace(settings, database_url=fresh_database_url))
    check("/readyz", empty.get("/readyz"), 503)
    check("/metrics", client.get("/metrics"))
    check("/metrics", client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.1"}), 403)
    assert check.seen == {"/healthz", "/readyz", "/metrics"}
