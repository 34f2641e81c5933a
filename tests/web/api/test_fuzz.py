"""Generated requests for every operation in ``schemas/openapi.yaml``: none is a 500.

Schemathesis builds requests from the description (valid ones, and ones that break it) and
sends them to the real app with a real token; whatever comes back must be an answer, not
an unexpected failure. It found path numbers too large for the database's integers
(``tests/web/test_path_numbers.py``); the description gives those numbers their bound, so
the generated boundary values (2,147,483,648 fails on PostgreSQL's ``integer``) come back
on every run.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from issuer.core.bundled import SCHEMAS_DIR
from tests.conftest import World

SCHEMA = schemathesis.openapi.from_path(SCHEMAS_DIR / "openapi.yaml")


@SCHEMA.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_makes_the_service_fail(case: Any, app: Flask,
                                                     world: World) -> None:
    response = case.call(app=app, headers={"Authorization": f"Bearer {world.token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}: "
        f"{response.text[:500]}")
