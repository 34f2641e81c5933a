"""pyld is pinned to the series its internals were proven with, and a change of pyld shows.

``issuer.core.pyld_adapter`` is the one module that uses pyld's internals. These tests fail
when pyld is upgraded past the pin, when the pin and the adapter disagree, when the internals
the adapter calls change shape, and when the fast canonicalization path stops producing
byte for byte what pyld's own canonicalization produces on the bundled test documents.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from issuer.core import pyld_adapter
from issuer.core.bundled import bundled_loader
from issuer.core.canon import Unsupported, canonicalize, canonicalize_fast, canonicalize_general
from issuer.core.pyld_adapter import PROVEN_PYLD, PyldMismatch
from tests.core.canon.test_fast_path import FEATURES

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
LOADER = bundled_loader()
V2 = "https://www.w3.org/ns/credentials/v2"


def _declared(name: str) -> str:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"
    ]["dependencies"]
    found = [d for d in dependencies if re.match(rf"{name}\b", d, re.IGNORECASE)]
    assert len(found) == 1, dependencies
    return found[0]


# ----------------------------------------------------------------------------- the pin


def test_pyproject_pins_pyld_to_the_proven_series() -> None:
    major, minor = PROVEN_PYLD
    assert _declared("pyld").replace(" ", "") == f"pyld>={major}.{minor},<{major}.{minor + 1}"


def test_the_installed_pyld_is_the_proven_series() -> None:
    version = pyld_adapter.installed_pyld_version()
    assert tuple(int(part) for part in version.split(".")[:2]) == PROVEN_PYLD
    pyld_adapter.check_version(version)


@pytest.mark.parametrize("version", ["3.4.0", "4.0.0", "3.2.9", "2.0.4", "3", "dev"])
def test_another_pyld_series_is_refused(version: str) -> None:
    expected = rf"pyld {re.escape(version)} is installed.*pyld>=3\.3,<3\.4"
    with pytest.raises(PyldMismatch, match=expected):
        pyld_adapter.check_version(version)


@pytest.mark.parametrize("version", ["3.3.0", "3.3.12", "3.3.1.post1"])
def test_every_release_of_the_proven_series_is_accepted(version: str) -> None:
    pyld_adapter.check_version(version)


@pytest.mark.parametrize("module", ["issuer.core.canon", "issuer.core.jsonld"])
def test_importing_pylds_users_under_another_pyld_fails_loudly(module: str) -> None:
    code = (
        "import pyld.__about__\n"
        "pyld.__about__.__version__ = '3.4.0'\n"
        f"import {module}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode != 0
    assert "PyldMismatch: pyld 3.4.0 is installed" in result.stderr


# ----------------------------------------------------------------------------- the internals


def test_the_internals_the_adapter_uses_are_as_expected() -> None:
    pyld_adapter.check_signatures()
    pyld_adapter.check_behaviour()
    pyld_adapter.check_pyld()


def test_a_changed_signature_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def expand_iri(self: Any, active_ctx: Any, value: Any, *, vocab: bool = False) -> Any:
        return value

    monkeypatch.setattr(jsonld.JsonLdProcessor, "_expand_iri", expand_iri)
    with pytest.raises(PyldMismatch, match="_expand_iri takes"):
        pyld_adapter.check_signatures()


def test_a_changed_context_layout_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    process_context = jsonld.JsonLdProcessor._process_context

    def renamed(self: Any, *args: Any, **kwargs: Any) -> Any:
        active = dict(process_context(self, *args, **kwargs))
        if "previousContext" in active:
            active["revertTo"] = active.pop("previousContext")
        return active

    monkeypatch.setattr(jsonld.JsonLdProcessor, "_process_context", renamed)
    with pytest.raises(PyldMismatch, match="reverts to"):
        pyld_adapter.check_behaviour()


def test_a_changed_drop_hook_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonld.JsonLdProcessor, "_expand_object", _expand_object_keeping_all)
    with pytest.raises(PyldMismatch, match="dropped keys"):
        pyld_adapter.check_behaviour()


_original_expand_object = jsonld.JsonLdProcessor._expand_object


def _expand_object_keeping_all(self: Any, *args: Any, **kwargs: Any) -> Any:
    # A pyld that no longer calls the drop hook.
    hook, self.on_property_dropped = self.on_property_dropped, lambda _: None
    try:
        return _original_expand_object(self, *args, **kwargs)
    finally:
        self.on_property_dropped = hook


# ----------------------------------------------------------------------------- the output


def _documents() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(VECTORS.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(document, dict) and "@context" in document:
            document.pop("proof", None)
            found[str(path.relative_to(VECTORS))] = document
    for name, document in FEATURES.items():
        found[f"feature: {name}"] = document
    return found


DOCUMENTS = _documents()


# Canonical N-Quads (RDF 1.2 N-Triples §3) writes DEL, U+FFFE and U+FFFF in literals as \u
# escapes, pyld's writer as themselves: documents holding them are compared with the general
# path (pyld's expansion and RDF conversion, this product's writer) instead.
_ESCAPED_HERE_ONLY = re.compile("[\x7f\ufffe\uffff]")


def _comparable_with_pyld(document: Any) -> bool:
    return _ESCAPED_HERE_ONLY.search(json.dumps(document, ensure_ascii=False)) is None


def _pyld_normalize(document: Any) -> str:
    return jsonld.normalize(
        copy.deepcopy(document),
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": LOADER},
    )


def test_the_fast_path_and_pyld_agree_byte_for_byte_on_the_test_documents() -> None:
    compared = []
    for name, document in DOCUMENTS.items():
        try:
            ours = canonicalize_fast(copy.deepcopy(document), LOADER)
        except Unsupported:
            continue
        if _comparable_with_pyld(document):
            assert ours == _pyld_normalize(document), name
            compared.append(name)
        else:
            assert ours == canonicalize_general(copy.deepcopy(document), LOADER), name
    # Most of them must take the fast path, or the comparison says little.
    assert len(compared) >= 40, compared
    assert any("1edtech-impl-guide-ob30" in name for name in compared)
    assert "feature: json literals" in compared


# JSON values pyld writes as rdf:JSON literals with its own JCS: keys ordered by UTF-16 code
# units (U+E000 sorts after U+1F600, whose surrogates start at U+D83D), numbers in the
# ECMAScript form, escapes.
JSON_VALUES: list[Any] = [
    {"\ue000": 1, "\U0001f600": 2, "a": 3, "é": 4, "A": 5, "": 6},
    [0, -0.0, 1.0, 1e21, 1e-7, 1.5e-6, 123456.789, 5e-324, 1.7976931348623157e308, -2.5],
    [2**53 - 1, -(2**53 - 1), 10**15, 0.1 + 0.2],
    {"s": 'quote" backslash\\ \b\f\n\r\t \x00\x1f \x7f \ufffe \u2028 😀'},
    {"nested": {"z": [True, False, None, {}, []], "y": {"x": "w"}}},
    "a string",
    12,
    None,
]


@pytest.mark.parametrize("value", JSON_VALUES, ids=range(len(JSON_VALUES)))
def test_json_literals_are_written_as_pyld_writes_them(value: Any) -> None:
    document = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "https://example.edu/issuers/1",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSchema": {"id": "https://example.org/s", "type": "JsonSchema",
                             "jsonSchema": value},
    }
    ours = canonicalize_fast(copy.deepcopy(document), LOADER)
    assert ours == canonicalize_general(copy.deepcopy(document), LOADER)
    if _comparable_with_pyld(document):
        assert ours == _pyld_normalize(document)


def test_an_integer_beyond_json_precision_goes_to_pylds_writer() -> None:
    # RFC 8785 refuses it; pyld writes it through a double. The general path decides.
    document = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "https://example.edu/issuers/1",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSchema": {"id": "https://example.org/s", "type": "JsonSchema",
                             "jsonSchema": {"big": 2**60}},
    }
    with pytest.raises(Unsupported):
        canonicalize_fast(copy.deepcopy(document), LOADER)
    expected = canonicalize_general(copy.deepcopy(document), LOADER)
    assert canonicalize(document, LOADER) == expected == _pyld_normalize(document)
