"""axe-core in the browser tests: run it on the page as it is shown, report what it finds.

The engine is axe-core's published ``axe.min.js`` as the ``axe-playwright-python`` package
ships it (a dev dependency), read from the installed package, never downloaded by a test.
Pages are opened in a context that bypasses the app's Content-Security-Policy, which would
(rightly) refuse an injected script.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

#: Impacts as axe-core grades them, from least to most severe.
IMPACTS = ("minor", "moderate", "serious", "critical")


@cache
def axe_source() -> str:
    source = files("axe_playwright_python").joinpath("axe.min.js").read_text("utf-8")
    assert source.startswith("/*! axe v4."), "axe_playwright_python ships no axe-core 4"
    return source


def violations(page: Any, at_least: str = "serious") -> list[str]:
    """axe-core's violations on ``page`` of impact ``at_least`` or worse, one line each."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source())
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    worst = IMPACTS[IMPACTS.index(at_least):]
    return [
        f"{v['impact']} {v['id']}: {v['help']} — "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in found if v.get("impact") in worst
    ]


def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than its window (0: no sideways scrolling)."""
    return int(page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"))
