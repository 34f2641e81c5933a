"""The core must stay usable without a web framework or a database (README, "Layout")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "issuer" / "core"


def test_importing_every_core_module_loads_neither_flask_nor_sqlalchemy() -> None:
    """What is loaded at run time, as a check on the import statements that
    tests/test_architecture.py reads: nothing of a web framework or a database, and nothing
    of the package outside the core."""
    modules = sorted(
        ".".join(("issuer", *p.relative_to(CORE.parent).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for p in CORE.rglob("*.py")
    )
    assert "issuer.core.verify" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'werkzeug', 'jinja2', 'alembic'))\n"
        "bad += sorted(m for m in sys.modules if m.startswith('issuer.') "
        "and not m.startswith('issuer.core'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_core_reads_no_environment_variables() -> None:
    offenders = [
        str(p.relative_to(CORE))
        for p in CORE.rglob("*.py")
        if "os.environ" in p.read_text(encoding="utf-8")
        or "getenv(" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
