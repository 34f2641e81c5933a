"""The package's shape: no import cycle between modules, and arrows that point down only.

Layers, bottom to top: ``issuer.core`` (framework-free) → ``issuer.storage`` →
``issuer.services`` → the edges ``issuer.web``, ``issuer.cli`` and ``issuer.jobs``;
``issuer.config`` sits beside the core (every layer above it may read settings),
``issuer.net`` (the verifier's guarded HTTP client) beside storage, on core and config,
``issuer.runtime`` builds the framework-free half of the composition root and
``issuer.app`` the web half. The import graph is read from the source (every ``import``
statement, those inside functions too), not from what happens to be imported at run time,
so an import hidden in a function to dodge a cycle still counts.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "issuer"

#: The layer of a module is decided by the longest of these prefixes its name starts with.
LAYERS: Mapping[str, str] = {
    "issuer": "root",
    "issuer.core": "core",
    "issuer.config": "config",
    "issuer.storage": "storage",
    "issuer.net": "net",
    "issuer.services": "services",
    "issuer.runtime": "runtime",
    "issuer.web": "web",
    "issuer.jobs": "jobs",
    "issuer.cli": "cli",
    "issuer.app": "app",
    "issuer.wsgi_server": "wsgi_server",
}

#: Which layers each layer may import (its own always). Web, cli and jobs are edges: none
#: imports another, except that the command line serves the app and runs the jobs; the web
#: gets the runners it starts from the composition root (``issuer.app``).
ALLOWED: Mapping[str, frozenset[str]] = {
    "root": frozenset(),
    "core": frozenset(),
    "config": frozenset({"core"}),
    "storage": frozenset({"core"}),
    "net": frozenset({"core", "config"}),
    "services": frozenset({"storage", "net", "core", "config"}),
    "runtime": frozenset({"services", "storage", "net", "core", "config"}),
    "web": frozenset({"runtime", "services", "storage", "net", "core", "config"}),
    "jobs": frozenset({"runtime", "services", "storage", "net", "core", "config"}),
    "cli": frozenset({"app", "jobs", "wsgi_server", "runtime", "services", "storage", "net",
                      "core", "config"}),
    "app": frozenset({"web", "jobs", "runtime", "services", "storage", "net", "core",
                      "config"}),
    "wsgi_server": frozenset({"app", "runtime", "config"}),
}

#: Web frameworks and the database toolkit, which only some layers may use.
WEB_FRAMEWORK = frozenset({"flask", "flask_wtf"})
FLASK = WEB_FRAMEWORK | {"werkzeug", "jinja2"}
SQLALCHEMY = frozenset({"sqlalchemy", "alembic"})
#: Third-party packages each layer must not import (the core stays usable anywhere).
#: (Services render mail with jinja2 and hash passwords with werkzeug.security: libraries,
#: not the web framework.)
FORBIDDEN: Mapping[str, frozenset[str]] = {
    "core": FLASK | SQLALCHEMY,
    "config": FLASK | SQLALCHEMY,
    "storage": WEB_FRAMEWORK,
    "net": FLASK | SQLALCHEMY,
    "services": WEB_FRAMEWORK,
    "runtime": WEB_FRAMEWORK,
}


@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``source`` (at ``file:line``) imports ``target``."""

    source: str
    target: str
    #: The file, relative to the folder that holds the package, and the statement's line.
    file: str
    line: int

    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where()}: {self.source} imports {self.target}"


def module_files(package: Path) -> dict[str, Path]:
    """Every module of ``package`` by dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _resolve_relative(source: str, path: Path, level: int, module: str | None) -> str:
    base = source.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([module] if module else [])])


def imports_of(source: str, path: Path, modules: Mapping[str, Path]) -> Iterator[Import]:
    """Every module ``source`` imports, at any depth of its code, third-party ones included.

    ``from pkg import name`` is an edge to ``pkg.name`` when that is a module of the package
    and to ``pkg`` otherwise; ``import a.b.c`` is an edge to ``a.b.c``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    file = path.relative_to(path.parents[source.count(".") + (path.name == "__init__.py")])
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = (_resolve_relative(source, path, node.level, node.module) if node.level
                    else node.module or "")
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        for target in dict.fromkeys(targets):
            yield Import(source, target, file.as_posix(), node.lineno)


def graph(package: Path) -> tuple[dict[str, Path], list[Import]]:
    modules = module_files(package)
    edges = [edge for name, path in modules.items() for edge in imports_of(name, path, modules)]
    return modules, edges


def internal(edges: Iterable[Import], modules: Mapping[str, Path]) -> list[Import]:
    """The edges between two modules of the package, each named by the module it reaches."""
    found = []
    for edge in edges:
        target = edge.target
        while target and target not in modules:  # ``import issuer.x.name``: a name, not a module
            target = target.rpartition(".")[0]
        if target and target != edge.source:
            found.append(Import(edge.source, target, edge.file, edge.line))
    return found


def cycles(modules: Mapping[str, Path], edges: Iterable[Import]) -> list[list[Import]]:
    """One cycle of edges for every strongly connected group of modules (Tarjan)."""
    out: dict[str, list[Import]] = {name: [] for name in modules}
    for edge in internal(edges, modules):
        out[edge.source].append(edge)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for edge in out[name]:
            if edge.target not in index:
                visit(edge.target)
                low[name] = min(low[name], low[edge.target])
            elif edge.target in on_stack:
                low[name] = min(low[name], index[edge.target])
        if low[name] == index[name]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == name:
                    break
            if len(group) > 1:
                groups.append(group)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(out) + 100))
    try:
        for name in sorted(out):
            if name not in index:
                visit(name)
    finally:
        sys.setrecursionlimit(limit)
    return [_one_cycle(sorted(group)[0], group, out) for group in groups]


def _one_cycle(start: str, group: set[str], out: Mapping[str, list[Import]]) -> list[Import]:
    """The shortest way round from ``start`` back to itself, within ``group``."""
    paths: dict[str, list[Import]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for name in frontier:
            for edge in out[name]:
                if edge.target == start:
                    return [*paths[name], edge]
                if edge.target in group and edge.target not in paths:
                    paths[edge.target] = [*paths[name], edge]
                    following.append(edge.target)
        frontier = following
    raise AssertionError(f"{start} is in a cycle but no way round was found")


def layer(name: str) -> str:
    """The layer of a module of the package; a third-party module is its own package."""
    matches = [prefix for prefix in LAYERS if name == prefix or name.startswith(prefix + ".")]
    return LAYERS[max(matches, key=len)] if matches else name.split(".")[0]


def explain(edge: Import) -> str:
    return f"{edge} ({layer(edge.source)} → {layer(edge.target)})"


def layer_violations(modules: Mapping[str, Path], edges: Iterable[Import]) -> list[Import]:
    """Edges from a module to a layer, or a third-party package, its layer may not use."""
    edges = list(edges)
    # Every module may read the root package (its version); the root imports nothing.
    bad = [edge for edge in internal(edges, modules)
           if layer(edge.target) not in {layer(edge.source), "root"}
           and layer(edge.target) not in ALLOWED[layer(edge.source)]]
    root = min(modules).split(".")[0]
    bad += [edge for edge in edges
            if edge.target.split(".")[0] != root
            and edge.target.split(".")[0] in FORBIDDEN.get(layer(edge.source), frozenset())]
    return sorted(bad, key=lambda edge: (edge.file, edge.line))


#: The one module that reads the environment (``Settings.from_env``).
SETTINGS_MODULE = "issuer.config"
_ENVIRONMENT = frozenset({"environ", "environb", "getenv", "getenvb"})


def environment_reads(modules: Mapping[str, Path]) -> list[str]:
    """``file:line`` of every read of the environment outside :data:`SETTINGS_MODULE`.

    One read is the command line's own: a variable the user names at call time (``issuer
    sign --passphrase-env VAR``) cannot be a setting, so ``os.environ.get(name)`` and
    ``os.environ[name]`` with ``name`` a variable (not a constant, not an expression) are
    allowed in the cli layer.
    """
    found = []
    for source, path in modules.items():
        if source == SETTINGS_MODULE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        file = path.relative_to(path.parents[source.count(".") + (path.name == "__init__.py")])
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                    alias.name in _ENVIRONMENT for alias in node.names):
                found.append(f"{file.as_posix()}:{node.lineno}")
            elif (isinstance(node, ast.Attribute) and node.attr in _ENVIRONMENT
                  and isinstance(node.value, ast.Name) and node.value.id == "os"
                  and not (layer(source) == "cli" and _names_a_variable(node, parents))):
                found.append(f"{file.as_posix()}:{node.lineno}")
    return found


def _names_a_variable(environ: ast.Attribute, parents: Mapping[ast.AST, ast.AST]) -> bool:
    """``os.environ.get(name)`` or ``os.environ[name]``, ``name`` a variable, not a constant."""
    if environ.attr != "environ":
        return False
    above = parents.get(environ)
    if isinstance(above, ast.Subscript):
        key: ast.AST = above.slice
    elif (isinstance(above, ast.Attribute) and above.attr == "get"
          and isinstance(call := parents.get(above), ast.Call) and call.func is above
          and len(call.args) == 1 and not call.keywords):
        key = call.args[0]
    else:
        return False
    return isinstance(key, ast.Name) and not key.id.isupper()


# --- the package -------------------------------------------------------------------------


def test_the_package_has_no_import_cycle() -> None:
    modules, edges = graph(PACKAGE)
    assert "issuer.core.verify" in modules and len(modules) > 50
    found = cycles(modules, edges)
    assert found == [], "import cycles:\n" + "\n\n".join(
        "\n".join(f"  {edge}" for edge in cycle) for cycle in found)


def test_every_layer_imports_only_the_layers_below_it() -> None:
    modules, edges = graph(PACKAGE)
    unknown = [name for name in modules if name != "issuer" and layer(name) == "root"]
    assert unknown == [], f"modules of no layer (add them to LAYERS): {unknown}"
    found = layer_violations(modules, edges)
    assert found == [], "imports across layers:\n" + "\n".join(
        f"  {explain(edge)}" for edge in found)


def test_settings_are_read_from_the_environment_in_one_place() -> None:
    modules, _ = graph(PACKAGE)
    found = environment_reads(modules)
    assert found == [], (
        "the environment is read outside issuer.config (make it a field of Settings): "
        + ", ".join(found))


# --- the checks themselves, on a package made for them -----------------------------------


def _write(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "issuer"


@pytest.fixture()
def synthetic(tmp_path: Path) -> Path:
    """A tiny package with one module in each layer, all imports pointing down."""
    return _write(tmp_path, {
        "issuer/__init__.py": "",
        "issuer/core/__init__.py": "from issuer.core import canon\n",
        "issuer/core/canon.py": "import json\n",
        "issuer/core/verify.py": "from .canon import json\nfrom . import canon\n",
        "issuer/config.py": "from issuer.core.verify import canon\n",
        "issuer/storage/__init__.py": "import sqlalchemy\nimport issuer.core.canon\n",
        "issuer/net/__init__.py": "import httpx\nfrom issuer import config\n",
        "issuer/services/verification.py": "from issuer.net import fetcher\n",
        "issuer/services/__init__.py": "",
        "issuer/services/users.py": (
            "from issuer import config\nfrom issuer.storage import x\n"
            "from werkzeug.security import check_password_hash\n"),
        "issuer/runtime.py": "from issuer.services import users\n",
        "issuer/web/__init__.py": "import flask\nfrom issuer.runtime import Runtime\n",
        "issuer/jobs/__init__.py": "from issuer.services.users import create_user\n",
        "issuer/app.py": "from issuer.web import blueprints\n",
        "issuer/cli/__init__.py": (
            "def serve():\n    from issuer.app import create_app\n"
            "    from issuer.jobs import run\n"),
    })


def test_the_checks_pass_a_package_whose_arrows_point_down(synthetic: Path) -> None:
    modules, edges = graph(synthetic)
    assert cycles(modules, edges) == []
    assert layer_violations(modules, edges) == []
    names = {(edge.source, edge.target) for edge in internal(edges, modules)}
    # Relative imports, ``from pkg import module`` and ``import a.b`` all resolve to modules.
    assert ("issuer.core.verify", "issuer.core.canon") in names
    assert ("issuer.config", "issuer.core.verify") in names
    assert ("issuer.services.users", "issuer.config") in names
    assert ("issuer.storage", "issuer.core.canon") in names
    assert ("issuer.cli", "issuer.app") in names  # an import inside a function counts


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("issuer/core/bad.py", "from issuer.storage import x\n", "core → storage"),
    ("issuer/core/bad.py", "def f():\n    import sqlalchemy.orm\n", "core → sqlalchemy"),
    ("issuer/storage/bad.py", "from issuer.services import users\n", "storage → services"),
    ("issuer/services/bad.py", "from issuer.web import app\n", "services → web"),
    ("issuer/services/bad.py", "from flask import g\n", "services → flask"),
    ("issuer/web/bad.py", "import issuer.app\n", "web → app"),
    ("issuer/web/bad.py", "from issuer.cli import main\n", "web → cli"),
    ("issuer/jobs/bad.py", "from issuer import web\n", "jobs → web"),
    ("issuer/cli/bad.py", "from issuer.web.context import db\n", "cli → web"),
    ("issuer/config.py", "from issuer.storage import x\n", "config → storage"),
    ("issuer/net/bad.py", "from issuer.storage import x\n", "net → storage"),
    ("issuer/net/bad.py", "from issuer.services import users\n", "net → services"),
    ("issuer/net/bad.py", "import sqlalchemy\n", "net → sqlalchemy"),
    ("issuer/core/bad.py", "from issuer.net import fetcher\n", "core → net"),
])
def test_the_layer_check_finds_an_import_that_points_up(
        synthetic: Path, name: str, text: str, expected: str) -> None:
    _write(synthetic.parent, {name: text})
    modules, edges = graph(synthetic)
    found = layer_violations(modules, edges)
    assert len(found) == 1, found
    assert expected in explain(found[0])
    assert found[0].where() == f"{name}:{text.count(chr(10))}"


def test_the_cycle_check_finds_a_cycle_through_a_function_level_import(
        synthetic: Path) -> None:
    _write(synthetic.parent, {
        "issuer/services/a.py": "from issuer.services.b import f\n",
        "issuer/services/b.py": "def f():\n    from issuer.services import c\n",
        "issuer/services/c.py": "import issuer.services.a\n",
    })
    modules, edges = graph(synthetic)
    (cycle,) = cycles(modules, edges)
    assert [str(edge) for edge in cycle] == [
        "issuer/services/a.py:1: issuer.services.a imports issuer.services.b",
        "issuer/services/b.py:2: issuer.services.b imports issuer.services.c",
        "issuer/services/c.py:1: issuer.services.c imports issuer.services.a",
    ]


def test_a_package_importing_its_modules_is_a_cycle_only_if_one_imports_back(
        synthetic: Path) -> None:
    modules, edges = graph(synthetic)
    assert cycles(modules, edges) == []  # issuer.core imports issuer.core.canon
    _write(synthetic.parent, {"issuer/core/canon.py": "from issuer.core import VERSION\n"})
    modules, edges = graph(synthetic)
    (cycle,) = cycles(modules, edges)
    assert {(edge.source, edge.target) for edge in cycle} == {
        ("issuer.core", "issuer.core.canon"), ("issuer.core.canon", "issuer.core")}


@pytest.mark.parametrize(("name", "text", "allowed"), [
    ("issuer/services/bad.py", "import os\nos.environ.get('ISSUER_X')\n", False),
    ("issuer/runtime.py", "import os\nos.getenv('ISSUER_X')\n", False),
    ("issuer/web/bad.py", "from os import environ\n", False),
    ("issuer/cli/bad.py", "import os\nenv = dict(os.environ)\n", False),
    ("issuer/cli/bad.py", "import os\nos.environ.get(PASSPHRASE_ENV)\n", False),
    ("issuer/cli/bad.py", "import os\nos.environ.get(name or DEFAULT)\n", False),
    ("issuer/cli/bad.py", "import os\nos.environ.get('ISSUER_KEY_PASSPHRASE')\n", False),
    ("issuer/jobs/bad.py", "import os\ndef f(name):\n    os.environ.get(name)\n", False),
    ("issuer/cli/ok.py", "import os\ndef f(name):\n    return os.environ.get(name)\n", True),
    ("issuer/cli/ok.py", "import os\ndef f(name):\n    return os.environ[name]\n", True),
    ("issuer/config.py", "import os\nos.environ.get('ISSUER_X')\n", True),
])
def test_the_environment_check_finds_every_read_but_a_variable_named_by_the_user(
        synthetic: Path, name: str, text: str, allowed: bool) -> None:
    _write(synthetic.parent, {name: text})
    modules, _ = graph(synthetic)
    found = environment_reads(modules)
    assert found == ([] if allowed else [f"{name}:{text.count(chr(10))}"])  # the last line
