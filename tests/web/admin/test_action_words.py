"""Every audit action the application can write has words on the reviewer's claim page.

The actions are read from the source: each call of the audit helper
(:func:`issuer.services.audit.record`) and what its ``action`` can be — a literal, a choice
between literals, an f-string over a parameter, or a parameter that a helper in the same
module passes on (followed to the literals its callers give). An action the reader cannot
follow fails the test, so a new way of naming one is taught here rather than missed.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from issuer.web.admin.reviews import ACTION_WORDS

PACKAGE = Path(__file__).resolve().parents[3] / "issuer"


class Unresolved(Exception):
    """An action expression this reader cannot turn into literals."""


@dataclass
class Module:
    path: Path
    tree: ast.Module

    def functions(self) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield node

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', '?')}"


def _record_names(tree: ast.Module) -> tuple[bool, bool]:
    """Whether the module imports ``audit`` (``audit.record``) and ``record`` itself."""
    module_import = name_import = False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "issuer.services":
            module_import |= any(a.name == "audit" and a.asname is None for a in node.names)
        if isinstance(node, ast.ImportFrom) and node.module == "issuer.services.audit":
            name_import |= any(a.name == "record" and a.asname is None for a in node.names)
    return module_import, name_import


def _is_record(call: ast.Call, module_import: bool, name_import: bool) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        return (module_import and func.attr == "record" and isinstance(func.value, ast.Name)
                and func.value.id == "audit")
    return name_import and isinstance(func, ast.Name) and func.id == "record"


def _argument(call: ast.Call, function: ast.FunctionDef | ast.AsyncFunctionDef,
              name: str) -> ast.expr | None:
    """The expression ``call`` passes for ``function``'s parameter ``name``."""
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if name in positional and positional.index(name) < len(call.args):
        return call.args[positional.index(name)]
    return None


def _resolve(module: Module, function: ast.FunctionDef | ast.AsyncFunctionDef | None,
             expr: ast.expr, depth: int = 0) -> set[str]:
    if depth > 5:
        raise Unresolved(module.where(expr))
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return (_resolve(module, function, expr.body, depth + 1)
                | _resolve(module, function, expr.orelse, depth + 1))
    if isinstance(expr, ast.JoinedStr):
        parts: list[set[str]] = []
        for value in expr.values:
            if isinstance(value, ast.FormattedValue):
                if value.format_spec is not None or value.conversion != -1:
                    raise Unresolved(module.where(expr))
                parts.append(_resolve(module, function, value.value, depth + 1))
            else:
                parts.append(_resolve(module, function, value, depth + 1))
        return {"".join(p) for p in itertools.product(*parts)}
    if isinstance(expr, ast.Name) and function is not None:
        return _resolve_name(module, function, expr, depth)
    raise Unresolved(module.where(expr))


def _resolve_name(module: Module, function: ast.FunctionDef | ast.AsyncFunctionDef,
                  name: ast.Name, depth: int) -> set[str]:
    assigned = [node.value for node in ast.walk(function)
                if isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name.id]
    if assigned:
        return set().union(*(_resolve(module, function, v, depth + 1) for v in assigned))
    parameters = {a.arg for a in (*function.args.posonlyargs, *function.args.args,
                                  *function.args.kwonlyargs)}
    if name.id not in parameters:
        raise Unresolved(module.where(name))
    # A helper that passes its parameter on: the values its callers in the module give.
    found: set[str] = set()
    for caller in module.functions():
        for call in ast.walk(caller):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id == function.name):
                given = _argument(call, function, name.id)
                if given is None:
                    raise Unresolved(module.where(call))
                found |= _resolve(module, caller, given, depth + 1)
    if not found:
        raise Unresolved(module.where(name))
    return found


def written_actions() -> dict[str, str]:
    """Every action some module of the application can record → where it is written."""
    actions: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module_import, name_import = _record_names(tree)
        if not (module_import or name_import):
            continue
        module = Module(path, tree)
        if path == PACKAGE / "services" / "audit.py":
            continue  # the helper itself
        for function in module.functions():
            for call in ast.walk(function):
                if isinstance(call, ast.Call) and _is_record(call, module_import, name_import):
                    action = next((k.value for k in call.keywords if k.arg == "action"), None)
                    if action is None:
                        raise Unresolved(module.where(call))
                    for name in _resolve(module, function, action):
                        actions.setdefault(name, module.where(call))
    return actions


def test_the_reader_finds_the_actions_of_every_kind_of_call() -> None:
    actions = written_actions()
    # A literal, a helper's parameter (claims), an f-string over a parameter and a choice
    # (reviews), the function imported by name (profiles), and the suggestion workflow.
    for expected in ("credential.issued", "claim.started", "claim.withdrawn",
                     "claim.rejected", "claim.returned", "claim.approved",
                     "claim.auto_approved", "profile.badge-hidden", "transcript.issued",
                     "claim.suggested", "suggestions.uploaded", "policy.measures_updated"):
        assert expected in actions, expected


def test_every_action_written_has_words_for_the_claim_history() -> None:
    actions = written_actions()
    missing = {name: where for name, where in actions.items() if name not in ACTION_WORDS}
    assert missing == {}, "audit actions without words in ACTION_WORDS"
    assert all(ACTION_WORDS[name].strip() for name in actions)


def test_no_words_are_kept_for_actions_nothing_writes() -> None:
    assert sorted(set(ACTION_WORDS) - set(written_actions())) == []


def test_an_action_the_reader_cannot_follow_fails() -> None:
    source = ("from issuer.services import audit\n"
              "def f(session, ctx, kind):\n"
              "    audit.record(session, ctx, actor='system', action=kind.upper())\n")
    tree = ast.parse(source)
    module = Module(PACKAGE / "services" / "example.py", tree)
    function = next(module.functions())
    call = next(c for c in ast.walk(function) if isinstance(c, ast.Call)
                and _is_record(c, True, False))
    with pytest.raises(Unresolved):
        _resolve(module, function, call.keywords[-1].value)
