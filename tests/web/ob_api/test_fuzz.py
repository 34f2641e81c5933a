"""Generated requests for every operation of the 1EdTech Open Badges 3.0 OpenAPI document,
sent to the real app with a real access token of every scope: none makes the service fail
(5xx). Schemathesis sends requests that follow the document and ones that break it."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from tests.web.ob_api.conftest import Consumer
from tests.web.ob_api.openapi import OAS_PATH

SCHEMA = schemathesis.openapi.from_path(OAS_PATH)
SCHEMA.config.update(base_url="https://badges.test/ims/ob/v3p0")

pytestmark = pytest.mark.slow


@pytest.fixture()
def token(consumer: Consumer) -> str:
    return str(consumer.connect()["access_token"])


@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_makes_the_api_fail(case: Any, app: Flask, token: str) -> None:
    response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
    # Every operation is routed: a 404 would mean the requests missed the API.
    assert response.status_code != 404, case.formatted_path
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}: "
        f"{response.text[:500]}")
