"""``issuer --help``, the ``verify`` and ``sign`` commands and the settings module load
neither the database layer, the web framework, the HTTP client, the JSON-LD processor nor
JSON Schema: each costs more to import than a small command takes to run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from issuer.config import SCHEMAS_DIR, Settings

HEAVY = ("sqlalchemy", "sqlalchemy.orm", "flask", "httpx", "pyld", "jsonschema")


def loaded_after(statement: str) -> list[str]:
    """Which of :data:`HEAVY` a fresh interpreter has loaded after ``statement``."""
    probe = (f"import sys\n{statement}\n"
             f"print('LOADED', *(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout.splitlines()[-1].split()[1:]


@pytest.mark.parametrize("statement", [
    "from issuer.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
    "import issuer.cli.credentials",
    "import issuer.cli.verify_many",
    "from issuer.cli import load_command; load_command('verify'); load_command('sign')",
    "import issuer.config",
])
def test_help_commands_and_settings_load_nothing_heavy(statement: str) -> None:
    assert loaded_after(statement) == []


def test_the_probe_sees_the_json_ld_processor() -> None:
    assert "pyld" in loaded_after("import issuer.core.jsonld")


def test_the_settings_name_the_bundled_schemas_and_the_core_budget() -> None:
    from issuer.core.bundled import SCHEMAS_DIR as BUNDLED
    from issuer.core.canon import DEFAULT_BUDGET

    assert SCHEMAS_DIR == BUNDLED
    assert Settings().schemas_dir == BUNDLED
    assert Settings().canon_max_seconds == DEFAULT_BUDGET.max_seconds
