"""Every use of pyld's internals, and the check that they are what this product expects.

Two parts of the core need more of pyld than its public API offers:

* the fast JSON-LD → RDF path (:mod:`issuer.core.canon.fast_path`) derives every active
  context with pyld's own Context Processing (JSON-LD 1.1 §4.1) and IRI Expansion (§5.2), so
  term definitions cannot drift from the general path. That means calling
  ``JsonLdProcessor._get_initial_context``, ``._process_context`` and ``._expand_iri`` and
  reading the active contexts they return (term definitions under ``"mappings"``, the prefix
  flag ``"_prefix"``, the context a type-scoped one reverts to under ``"previousContext"``);
* safe mode (:func:`issuer.core.jsonld.expand_safe`) must name each key that expansion drops
  (VC Data Integrity §2.4), and pyld's drop hook receives only the failed expansion: the key
  itself is the value of the vocabulary-relative ``._expand_iri`` call that pyld makes just
  before the hook, so :class:`SafeModeProcessor` watches that call.

Both also correct one pyld defect: JSON-LD 1.1 §4.1.2 step 5.8.2 says ``"@vocab": null``
removes *any* vocabulary mapping, but pyld 3.3 deletes the mapping unconditionally and fails
with ``KeyError: '@vocab'`` when the active context has none (the VCDM 2.0 base context
defines no ``@vocab``). The active contexts pyld clones while processing a context are
therefore :class:`_VocabResettable`, where removing an absent mapping does nothing, so
such a document is judged on its terms instead of failing in the processor.

pyld itself is loaded here, and only here, without what it loads for fetching documents
(:func:`_load_pyld`). Every call passes pyld a loader that serves only bundled contexts
(:class:`issuer.core.jsonld.ContextLoader`), yet importing ``pyld`` loads all of its document
loaders and ``pyld.jsonld`` builds a ``requests`` session as its default loader: most of the
time ``issuer verify`` takes to start. Here pyld's default loader is one that refuses every
URL, whichever module imported pyld first, so a call that forgot its loader fails instead of
fetching.

None of this is pyld's public API. pyld is therefore pinned to the minor version these uses
were proven against (``PROVEN_PYLD``, and ``pyproject.toml``), and this module checks on
import that the installed pyld is that version, that the functions have the signatures
called here and that an active context is laid out as read here. Any difference raises
:class:`PyldMismatch`: a changed internal would otherwise make the fast path decline every
document (silently slower) or misread a context (a wrong canonical form, hence signatures
nobody else can verify).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from cachetools import LRUCache

__all__ = [
    "PROVEN_PYLD",
    "ActiveContext",
    "ContextProcessor",
    "ContextResolver",
    "PyldMismatch",
    "SafeModeProcessor",
    "TermDefinition",
    "check_behaviour",
    "check_pyld",
    "check_signatures",
    "check_version",
    "default_direction",
    "default_language",
    "installed_pyld_version",
    "jsonld",
    "prefix_iris",
    "previous_context",
    "term_definition",
]

#: The pyld release series (major, minor) whose internals this module was proven against.
PROVEN_PYLD: tuple[int, int] = (3, 3)

#: An active context as pyld builds it; opaque outside this module.
ActiveContext = Mapping[str, Any]


class PyldMismatch(RuntimeError):
    """The installed pyld is not the one this product's JSON-LD processing was proven with."""


# ----------------------------------------------------------------------------- loading pyld

#: pyld's loaders that fetch over the network. ``pyld.jsonld`` makes one of them its default
#: document loader when it is imported, which imports ``requests`` (or ``aiohttp``).
_FETCHING_LOADERS = ("pyld.documentloader.requests", "pyld.documentloader.aiohttp")


def _refuse_fetch(url: str, options: Any = None) -> Any:
    """pyld's default document loader here: nothing is fetched (JSON-LD contexts come from
    the bundled set only, OB 3.0 §A.2, VC Data Model 2.0 §4.1)."""
    raise jsonld.JsonLdError(
        "No document is fetched: JSON-LD contexts are loaded from the bundled set only",
        "jsonld.LoadDocumentError", {"url": url}, code="loading document failed",
    )


def _lazy_package(name: str) -> ModuleType:
    """The package ``name`` registered without running its ``__init__``, which runs when
    the package is first asked for a name that is not one of its submodules (a PEP 562
    module ``__getattr__``): a later ``import pyld`` elsewhere gets the whole package, as
    the same module object."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise PyldMismatch(f"{name} is not an installed package")
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader
    lock = threading.Lock()

    def __getattr__(attribute: str) -> Any:
        # ``from pyld import x`` asks the package for ``x`` before importing the submodule
        # (and while one is being imported, as pyld's modules import each other): a
        # submodule is answered as the import system would answer it, not by ``__init__``.
        submodule = f"{name}.{attribute}"
        if submodule in sys.modules:
            return sys.modules[submodule]
        if importlib.util.find_spec(submodule) is not None:
            raise AttributeError(attribute)
        with lock:
            if package.__dict__.pop("__getattr__", None) is not None:
                loader.exec_module(package)
        try:
            return package.__dict__[attribute]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}") from None

    package.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules[name] = package
    return package


@contextmanager
def _without_fetching_loaders() -> Iterator[None]:
    """Import pyld inside this block without its fetching loaders.

    ``pyld/__init__`` imports every document loader (aiohttp's imports asyncio) and
    ``pyld.jsonld`` builds its default loader from ``requests`` when imported, falling back
    to aiohttp's and then to one that refuses. Neither is ever used here, so the package is
    registered without its ``__init__`` and the fetching loaders are absent (an import of
    them fails) until the block ends; then they are importable again, for anything that
    wants them later. Where pyld was already imported it is used as it is.
    """
    if "pyld" not in sys.modules:
        _lazy_package("pyld")
    hidden = [name for name in _FETCHING_LOADERS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment] - makes its import fail
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


with _without_fetching_loaders():
    from pyld import jsonld
    from pyld.context_resolver import ContextResolver

jsonld.set_document_loader(_refuse_fetch)


# ----------------------------------------------------------------------------- processors


class _VocabResettable(dict[str, Any]):
    """An active context in which removing an absent vocabulary mapping is a no-op, as
    JSON-LD 1.1 §4.1.2 step 5.8.2 ("remove any vocabulary mapping") requires."""

    def __delitem__(self, key: str) -> None:
        if key == "@vocab" and key not in self:
            return
        super().__delitem__(key)


class _Processor(jsonld.JsonLdProcessor):
    """pyld's processor with the ``"@vocab": null`` correction (module docstring)."""

    def _clone_active_context(self, active_ctx: Any) -> Any:
        # Every context entry is processed on a clone made here (pyld 3.3, _process_context),
        # and its "@vocab": null handling deletes from that clone.
        return _VocabResettable(super()._clone_active_context(active_ctx))


class ContextProcessor:
    """pyld's Context Processing and IRI Expansion, as its expansion algorithm runs them."""

    __slots__ = ("_processor",)

    def __init__(self) -> None:
        self._processor = _Processor()

    def initial_context(self, options: Mapping[str, Any]) -> ActiveContext:
        """The active context a document starts from (JSON-LD 1.1 §5.1, initial context)."""
        return self._processor._get_initial_context(options)

    def process(
        self,
        active: ActiveContext,
        local: Any,
        options: Mapping[str, Any],
        *,
        override_protected: bool = False,
        propagate: bool = True,
    ) -> ActiveContext:
        """JSON-LD 1.1 §4.1 Context Processing of ``local`` on top of ``active``."""
        return self._processor._process_context(
            active, local, options, override_protected=override_protected, propagate=propagate
        )

    def expand_vocab(self, active: ActiveContext, value: str) -> Any:
        """JSON-LD 1.1 §5.2 IRI Expansion with ``vocab`` true (keys and types): an IRI, a
        keyword, a blank node identifier, or what pyld returns for a string it cannot expand."""
        return self._processor._expand_iri(active, value, vocab=True)


class SafeModeProcessor(_Processor):
    """pyld's processor, recording in :attr:`dropped` each key its expansion drops."""

    def __init__(self) -> None:
        super().__init__(on_property_dropped=self._record_drop)
        self._last_vocab_value: Any = None
        self.dropped: list[str] = []

    def _expand_iri(self, active_ctx: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        # Positional arguments after ``value`` are (base, vocab, ...): see check_signatures.
        if kwargs.get("vocab") or (len(args) >= 2 and args[1]):
            self._last_vocab_value = value
        return super()._expand_iri(active_ctx, value, *args, **kwargs)

    def _record_drop(self, expanded_property: Any) -> None:
        name = self._last_vocab_value
        if not isinstance(name, str):
            name = "" if expanded_property is None else str(expanded_property)
        if name not in self.dropped:
            self.dropped.append(name)


# ----------------------------------------------------------------------------- active contexts


@dataclass(frozen=True, slots=True)
class TermDefinition:
    """The parts of a term definition (JSON-LD 1.1 §4.2 Create Term Definition) that the
    fast path reads, taken from pyld's representation of it.

    ``local_context`` is the term's scoped context as pyld keeps it: ``None`` when the
    definition has none, ``False`` when pyld records a reset.
    """

    reverse: bool
    containers: frozenset[str]
    type_mapping: Any
    local_context: Any
    has_language: bool
    language: Any
    has_direction: bool
    direction: Any


def term_definition(active: ActiveContext, term: str) -> TermDefinition | None:
    """The definition of ``term`` in ``active``, or ``None`` when it has none (or a null
    one)."""
    mapping = active["mappings"].get(term)
    if not mapping:
        return None
    return TermDefinition(
        reverse=bool(mapping.get("reverse")),
        containers=frozenset(mapping.get("@container") or ()),
        type_mapping=mapping.get("@type"),
        local_context=mapping.get("@context"),
        has_language="@language" in mapping,
        language=mapping.get("@language"),
        has_direction="@direction" in mapping,
        direction=mapping.get("@direction"),
    )


def prefix_iris(active: ActiveContext) -> dict[str, str]:
    """Term → IRI for every term that may serve as a prefix of a compact IRI (§5.2 step 6.4,
    §4.2 step 14: the term's prefix flag)."""
    return {
        term: mapping["@id"]
        for term, mapping in active["mappings"].items()
        if mapping and mapping.get("_prefix") and isinstance(mapping.get("@id"), str)
    }


def previous_context(active: ActiveContext) -> ActiveContext | None:
    """The context a type-scoped context reverts to in a nested node (§4.1 step 3), if any."""
    return active.get("previousContext")


def default_language(active: ActiveContext) -> str | None:
    """The active context's default language (``@language``)."""
    return active.get("@language")


def default_direction(active: ActiveContext) -> str | None:
    """The active context's default base direction (``@direction``)."""
    return active.get("@direction")


# ----------------------------------------------------------------------------- the checks

# Leading parameters of the internals called above, in order, as pyld 3.3 declares them.
_EXPECTED_PARAMETERS: dict[str, tuple[str, ...]] = {
    "_get_initial_context": ("self", "options"),
    "_process_context": (
        "self",
        "active_ctx",
        "local_ctx",
        "options",
        "override_protected",
        "propagate",
    ),
    "_expand_iri": ("self", "active_ctx", "value", "base", "vocab"),
    "_clone_active_context": ("self", "active_ctx"),
    "__init__": ("self", "on_property_dropped"),
}


def installed_pyld_version() -> str:
    """The version the imported pyld states (``pyld.__about__``): that of the code whose
    internals are used here. (Reading the distribution's metadata instead would cost more
    than the rest of this module.)"""
    version = getattr(importlib.import_module("pyld.__about__"), "__version__", None)
    if not isinstance(version, str):
        raise PyldMismatch("pyld does not state its version")
    return version


def _advice() -> str:
    major, minor = PROVEN_PYLD
    return (
        f"JSON-LD processing here relies on pyld internals proven with pyld {major}.{minor}.x; "
        f"install pyld>={major}.{minor},<{major}.{minor + 1} (as pyproject.toml requires)"
    )


def check_version(version: str) -> None:
    """Raise :class:`PyldMismatch` unless ``version`` is in the ``PROVEN_PYLD`` series."""
    parts = version.split(".")
    try:
        series = (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        series = None
    if series != PROVEN_PYLD:
        raise PyldMismatch(f"pyld {version} is installed. {_advice()}")


def check_signatures() -> None:
    """Raise :class:`PyldMismatch` unless the pyld internals called here take the
    parameters they are called with."""
    for name, expected in _EXPECTED_PARAMETERS.items():
        function = getattr(jsonld.JsonLdProcessor, name, None)
        if function is None:
            raise PyldMismatch(f"pyld's JsonLdProcessor has no {name}. {_advice()}")
        found = tuple(inspect.signature(function).parameters)[: len(expected)]
        if found != expected:
            raise PyldMismatch(
                f"pyld's JsonLdProcessor.{name} takes {found}, not {expected}. {_advice()}"
            )


def _refuse(url: str, options: Any = None) -> Any:
    raise LookupError(f"no document is loaded while pyld is checked: {url}")


_PROBE_NS = "https://example.org/ns#"
_PROBE_CONTEXT = {
    "@version": 1.1,
    "@vocab": "https://example.org/vocab#",
    "@language": "en",
    "ex": _PROBE_NS,
    "back": {"@reverse": "ex:back"},
    "items": {"@id": "ex:items", "@container": "@list"},
    "Kind": {
        "@id": "ex:Kind",
        "@context": {
            "link": {"@id": "ex:link", "@type": "@id"},
            "plain": {"@id": "ex:plain", "@language": None},
        },
    },
}


def check_behaviour() -> None:
    """Raise :class:`PyldMismatch` unless pyld processes a small context into the layout
    the readers above expect, and its drop hook follows the key's vocabulary expansion."""
    try:
        problem = _probe()
    except Exception as exc:  # noqa: BLE001 - any failure of the probe is a mismatch
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        raise PyldMismatch(f"pyld's internals changed ({problem}). {_advice()}")


def _probe() -> str | None:
    options = {
        "documentLoader": _refuse,
        "contextResolver": ContextResolver(LRUCache(maxsize=4), _refuse),
        "base": None,
        "processingMode": "json-ld-1.1",
    }
    processor = ContextProcessor()
    initial = processor.initial_context(options)
    active = processor.process(initial, [_PROBE_CONTEXT], options)
    if prefix_iris(active) != {"ex": _PROBE_NS}:
        return f"prefix terms read as {prefix_iris(active)}"
    if default_language(active) != "en" or default_direction(active) is not None:
        return "the default language or direction is not where it was"
    if processor.expand_vocab(active, "ex:x") != _PROBE_NS + "x":
        return "a compact IRI does not expand"
    if processor.expand_vocab(active, "other") != "https://example.org/vocab#other":
        return "@vocab does not apply"
    if processor.expand_vocab(active, "@type") != "@type":
        return "a keyword does not expand to itself"
    back, items, kind = (term_definition(active, t) for t in ("back", "items", "Kind"))
    if back is None or not back.reverse:
        return "the reverse flag is not where it was"
    if items is None or items.containers != {"@list"}:
        return "the container mapping is not where it was"
    if kind is None or not isinstance(kind.local_context, Mapping):
        return "the scoped context is not where it was"
    scoped = processor.process(active, kind.local_context, options, propagate=False)
    if previous_context(scoped) is not active or previous_context(active) is not None:
        return "a type-scoped context does not keep the context it reverts to"
    link, plain = term_definition(scoped, "link"), term_definition(scoped, "plain")
    if link is None or link.type_mapping != "@id" or link.has_language:
        return "the type mapping is not where it was"
    if plain is None or not plain.has_language or plain.language is not None:
        return "the language mapping is not where it was"
    # Without @vocab, a key no context defines is dropped.
    expander = SafeModeProcessor()
    expander.expand(
        {"@context": {"ex": _PROBE_NS}, "ex:kept": 1, "undefinedTerm": 2},
        {**options, "contextResolver": ContextResolver(LRUCache(maxsize=4), _refuse)},
    )
    if expander.dropped != ["undefinedTerm"]:
        return f"dropped keys are reported as {expander.dropped}"
    # "@vocab": null removes a vocabulary mapping, and is a no-op where there is none.
    reset = processor.process(active, [{"@vocab": None}, {"@vocab": None}], options)
    if processor.expand_vocab(reset, "other") == "https://example.org/vocab#other":
        return "@vocab: null does not remove the vocabulary mapping"
    return None


def check_pyld() -> None:
    """All of the checks above, on the installed pyld."""
    check_version(installed_pyld_version())
    check_signatures()
    check_behaviour()


# On import, so that a mismatch stops the program before it canonicalizes or signs anything.
check_pyld()
