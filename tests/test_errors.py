"""Errors carry their meaning: every class states its HTTP status and its CLI exit code.

The web handler (:mod:`issuer.web.errors`) and the ``issuer`` command read these attributes
and keep no table of their own; ``tests/web/test_errors.py`` and ``tests/cli/test_errors.py``
check that they do. Here: that every class has them, and that they say what the class means.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from issuer import config
from issuer.cli.errors import EXIT_INVALID, EXIT_UNREADABLE
from issuer.config import ConfigError, Settings
from issuer.core import errors as core_errors
from issuer.core.credentials import ACHIEVEMENT_CREDENTIAL_SCHEMA
from issuer.core.errors import IssuerError, SchemaError, SchemaUnavailable
from issuer.core.schema import SchemaRegistry
from issuer.services import errors as service_errors
from issuer.web.errors import TITLES
from tests.error_classes import class_id, error_classes

ALL = error_classes()


def test_the_tree_is_found_whole() -> None:
    names = {class_id(cls) for cls in ALL}
    # Classes of the core, of the services, and of use cases that define their own.
    assert {"core.errors.SchemaUnavailable", "services.errors.NotFound",
            "config.ConfigError", "services.attestations.LinkExpired",
            "services.learners.RateLimited"} <= names


@pytest.mark.parametrize("cls", ALL, ids=class_id)
def test_every_error_states_an_http_status_and_an_exit_code(cls: type[IssuerError]) -> None:
    assert isinstance(cls.http_status, int)
    assert 400 <= cls.http_status <= 599  # a client error or a server error, never success
    assert cls.http_status in TITLES, "the error page needs a title for this status"
    assert cls.exit_code in (EXIT_INVALID, EXIT_UNREADABLE)


@pytest.mark.parametrize(
    "cls",
    [cls for cls in ALL if cls.__module__ in (core_errors.__name__, service_errors.__name__)],
    ids=class_id)
def test_each_class_of_the_tree_states_both_itself(cls: type[IssuerError]) -> None:
    # Inheriting them would let a new kind of error take a meaning nobody chose for it.
    assert "http_status" in vars(cls) and "exit_code" in vars(cls)


#: What each kind of error means at the edges. These are the responses and exit codes the
#: API, the pages and scripts rely on.
CONTRACT = {
    "core.errors.IssuerError": (400, 1),
    "core.errors.InputError": (400, 1),
    "core.errors.ContextError": (422, 2),
    "core.errors.UndefinedTermError": (422, 1),
    "core.errors.CanonicalizationError": (400, 1),
    "core.errors.WorkLimitExceeded": (400, 1),
    "core.errors.KeyFormatError": (400, 1),
    "core.errors.ResolutionError": (400, 1),
    "core.errors.SchemaError": (422, 1),
    "core.errors.SchemaUnavailable": (500, 2),
    "core.errors.SigningError": (400, 1),
    "services.errors.NotFound": (404, 1),
    "services.errors.PermissionDenied": (403, 1),
    "services.errors.Conflict": (409, 1),
    "services.errors.Gone": (410, 1),
    "services.errors.TooManyRequests": (429, 1),
    "services.errors.Invalid": (422, 1),
    "config.ConfigError": (500, 2),
    "services.attestations.LinkExpired": (410, 1),
    "services.learners.RateLimited": (429, 1),
    # The Open Badges 3.0 API's refusals (OB 3.0 §6.2, RFC 6750 §3.1).
    "web.ob_api.status_info.TokenRefused": (401, 1),
    "web.ob_api.status_info.ScopeRefused": (403, 1),
    "web.ob_api.status_info.QueryRefused": (400, 1),
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_the_contract(name: str) -> None:
    (cls,) = [cls for cls in ALL if class_id(cls) == name]
    assert (cls.http_status, cls.exit_code) == CONTRACT[name]


# --- the two meanings a schema error had ---------------------------------------------------


def test_a_document_that_fails_the_schema_is_the_client_s_problem(
        schemas: SchemaRegistry) -> None:
    with pytest.raises(SchemaError) as caught:
        schemas.check({"type": ["VerifiableCredential"]}, ACHIEVEMENT_CREDENTIAL_SCHEMA)
    assert not isinstance(caught.value, SchemaUnavailable)
    assert (caught.value.http_status, caught.value.exit_code) == (422, EXIT_INVALID)
    assert caught.value.errors


def test_bundled_schemas_that_cannot_be_read_are_a_setup_problem(tmp_path: Path) -> None:
    with pytest.raises(SchemaUnavailable) as caught:
        SchemaRegistry.from_directory(tmp_path)
    assert not isinstance(caught.value, SchemaError)
    assert (caught.value.http_status, caught.value.exit_code) == (500, EXIT_UNREADABLE)
    (tmp_path / "INDEX.json").write_text(json.dumps({"https://x.test/s.json": "s.json"}),
                                         encoding="utf-8")
    (tmp_path / "s.json").write_text("[]", encoding="utf-8")
    with pytest.raises(SchemaUnavailable, match="is not a JSON object"):
        SchemaRegistry.from_directory(tmp_path)


def test_asking_for_a_schema_that_is_not_bundled_is_a_setup_problem(
        schemas: SchemaRegistry) -> None:
    with pytest.raises(SchemaUnavailable, match="no bundled schema"):
        schemas.validate({}, "https://x.test/not-bundled.json")


def test_a_wrong_setting_is_the_operator_s_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"ISSUER_SMTP_PORT": "twenty-five"})
    assert (caught.value.http_status, caught.value.exit_code) == (500, EXIT_UNREADABLE)
    monkeypatch.setenv("ISSUER_CANON_MAX_SECONDS", "soon")
    with pytest.raises(ConfigError, match="ISSUER_CANON_MAX_SECONDS"):
        config.work_budget()
