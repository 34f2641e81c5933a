"""Every third-party module the package imports comes from a declared dependency.

A module that arrives only as a dependency of a dependency (or inside another distribution)
works until that other package changes; declaring it in ``[project] dependencies`` makes the
installation say what the code needs. Imports are read from the source, those inside
functions included, and mapped to distributions with
:func:`importlib.metadata.packages_distributions`.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "issuer"


def _normalized(name: str) -> str:
    """PEP 503 normalisation of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions(pyproject: Path = ROOT / "pyproject.toml") -> set[str]:
    requirements = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    names = set()
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        assert match is not None, requirement
        names.add(_normalized(match.group(1)))
    return names


def imported_top_level_modules(files: Iterable[Path]) -> dict[str, set[str]]:
    """Top-level module → the files importing it, for absolute imports outside the stdlib."""
    found: dict[str, set[str]] = {}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != "__future__":
                    found.setdefault(top, set()).add(str(path.relative_to(path.parents[1])))
    return found


def undeclared(package: Path, declared: set[str]) -> dict[str, str]:
    """Modules imported under ``package`` that no declared distribution provides, with why."""
    providers = importlib.metadata.packages_distributions()
    problems = {}
    for module, files in sorted(imported_top_level_modules(package.rglob("*.py")).items()):
        if module == package.name:
            continue
        distributions = {_normalized(d) for d in providers.get(module, ())}
        where = ", ".join(sorted(files)[:3])
        if not distributions:
            problems[module] = f"no installed distribution provides it (imported in {where})"
        elif not distributions & declared:
            problems[module] = (
                f"provided by {', '.join(sorted(distributions))}, which pyproject.toml does "
                f"not declare (imported in {where})"
            )
    return problems


def test_every_third_party_import_is_a_declared_dependency() -> None:
    assert undeclared(PACKAGE, declared_distributions()) == {}


def test_the_walk_sees_the_imports() -> None:
    modules = imported_top_level_modules(PACKAGE.rglob("*.py"))
    # Module-level and function-level imports of the libraries the product is built on.
    assert {"flask", "sqlalchemy", "pyld", "rfc8785", "cryptography", "click"} <= set(modules)
    assert "os" not in modules and "issuer" in modules


def test_an_undeclared_import_is_reported(tmp_path: Path) -> None:
    package = tmp_path / "issuer"
    package.mkdir()
    (package / "__init__.py").write_text("import json\nfrom issuer import x\n", encoding="utf-8")
    (package / "x.py").write_text(
        "def load():\n    import yaml\n    from pyld import jsonld\n", encoding="utf-8"
    )
    (package / "y.py").write_text("import surely_not_installed_anywhere\n", encoding="utf-8")
    problems = undeclared(package, declared_distributions())
    assert set(problems) == {"yaml", "surely_not_installed_anywhere"}
    assert "pyyaml" in problems["yaml"].lower()
    assert "no installed distribution" in problems["surely_not_installed_anywhere"]
