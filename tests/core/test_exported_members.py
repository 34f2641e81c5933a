"""The core's public surface is the names its modules declare, and nothing else.

Every public module of ``issuer.core`` (no part of its name starts with ``_``) lists its
public names in ``__all__``. The layers above (services, storage, web, cli, jobs, the
composition root, config and the benchmarks) import from the core only those names, from
the module that declares them: no private module, no underscore name, no name a module
merely happens to import. ``issuer.core`` itself exports nothing, so that importing any core
module stays cheap. In the spirit of httpx's ``tests/test_exported_members.py``.

Tests are not held to this: they test the modules from the inside.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "issuer"
CORE = PACKAGE / "core"
#: Code outside the core that must keep to its public surface.
OUTSIDE = [p for p in PACKAGE.rglob("*.py") if not p.is_relative_to(CORE)] + sorted(
    (ROOT / "bench").rglob("*.py")
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def _is_public(module: str) -> bool:
    return not any(part.startswith("_") for part in module.split("."))


CORE_MODULES = sorted(_module_name(p) for p in CORE.rglob("*.py"))
PUBLIC_MODULES = [m for m in CORE_MODULES if _is_public(m)]


def _exported(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    assert isinstance(names, list | tuple), f"{module.__name__} declares no __all__"
    assert all(isinstance(n, str) for n in names), f"{module.__name__}.__all__ holds a non-name"
    return list(names)


@dataclass(frozen=True)
class CoreImport:
    """``from <module> import <name>`` (or ``import <module>``) at ``file:line``."""

    file: str
    line: int
    module: str
    name: str | None

    def __str__(self) -> str:
        what = f"from {self.module} import {self.name}" if self.name else f"import {self.module}"
        return f"{self.file}:{self.line}: {what}"


def _core_imports(path: Path) -> Iterator[CoreImport]:
    """Every import of the core in ``path``, those inside functions too."""
    where = str(path.relative_to(ROOT))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
            node.module == "issuer.core" or node.module.startswith("issuer.core.")
        ):
            for alias in node.names:
                yield CoreImport(where, node.lineno, node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "issuer.core" or alias.name.startswith("issuer.core."):
                    yield CoreImport(where, node.lineno, alias.name, None)


def _problem(found: CoreImport) -> str | None:
    """Why ``found`` reaches past the core's public surface; None when it does not."""
    if found.module not in CORE_MODULES:
        return "no such core module"
    if not _is_public(found.module):
        return "a private module"
    if found.name is None:
        return None
    submodule = f"{found.module}.{found.name}"
    if submodule in CORE_MODULES:
        return None if _is_public(submodule) else "a private module"
    if found.name == "*":
        return "a star import"
    if found.name not in _exported(importlib.import_module(found.module)):
        return f"{found.name!r} is not in {found.module}.__all__"
    return None


def test_the_walk_sees_the_layers_and_the_core() -> None:
    names = {str(p.relative_to(ROOT)) for p in OUTSIDE}
    assert {"issuer/app.py", "issuer/services/awards.py", "bench/canon.py"} <= names
    assert "issuer.core.verify" in PUBLIC_MODULES


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_core_module_declares_what_exists(module: str) -> None:
    loaded = importlib.import_module(module)
    exported = _exported(loaded)
    assert len(exported) == len(set(exported)), f"{module}.__all__ repeats a name"
    missing = [name for name in exported if not hasattr(loaded, name)]
    assert missing == [], f"{module}.__all__ names what the module does not have"
    private = [name for name in exported if name.startswith("_")]
    assert private == [], f"{module}.__all__ exports private names"


def test_other_layers_import_only_what_the_core_declares() -> None:
    problems = [
        f"{found}: {why}"
        for path in OUTSIDE
        for found in _core_imports(path)
        if (why := _problem(found)) is not None
    ]
    assert problems == []


def test_the_check_would_catch_a_private_or_undeclared_name() -> None:
    def problem(module: str, name: str | None) -> str | None:
        return _problem(CoreImport("x.py", 1, module, name))

    assert problem("issuer.core.verify", "Verifier") is None
    assert problem("issuer.core", "baking") is None
    assert problem("issuer.core.verify", "_as_list") is not None
    assert problem("issuer.core.verify", "json") is not None  # imported there, not declared
    assert problem("issuer.core.nowhere", "x") is not None
    assert problem("issuer.core", "canonicalize") is not None


def test_importing_the_core_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, issuer.core\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('issuer', 'pyld', 'jsonschema', 'referencing', 'cryptography'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert result.stdout.strip() == "issuer,issuer.core"
