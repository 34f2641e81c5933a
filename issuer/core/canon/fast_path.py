"""Compacted JSON-LD → RDF dataset in one pass, for documents that use only bundled contexts.

The general path (:mod:`issuer.core.canon`) runs pyld's expansion, then pyld's
"Deserialize JSON-LD to RDF", then RDFC-1.0. Almost all of its time goes into the first two
steps: every call re-derives the active context of each node from the context documents,
builds the expanded document, re-expands it, builds a node map and turns that into quads.

This module fuses those steps for the closed world the product works in:

* **Contexts are processed once per loader.** The context of a document (a list of bundled
  context URLs), every property-scoped context (JSON-LD 1.1 §4.1 Context Processing, with
  ``override protected``) and every chain of type-scoped contexts (``propagate`` false) is
  derived by pyld's own context processing the first time it is met and then reused, together
  with each term's compiled definition and the expansion of every key and type seen under it.
  Term definitions therefore cannot drift from the general path: they *are* pyld's. Those are
  pyld internals, reached only through :mod:`issuer.core.pyld_adapter`, which refuses to load
  under a pyld other than the one they were proven with.
* **Expansion (§5.1 Expansion Algorithm, §5.2 IRI Expansion, §5.3 Value Expansion), node map
  generation (§7.2) and §8.1 Deserialize JSON-LD to RDF / §8.2 Object to RDF Conversion /
  §8.3 List to RDF Conversion are done in a single walk** that writes each statement straight
  into the form RDFC-1.0 (:mod:`issuer.core.canon.rdfc`) reads. Node map generation only merges the
  statements of nodes that share an identifier, and a dataset is a set, so emitting every
  statement where it is found and dropping repeats yields the same dataset.
* **Blank node labels are whatever is convenient.** RDFC-1.0 output does not depend on the
  input labels (RDFC-1.0 §4.4: the canonical labels come from hashes of the data), so only the
  dataset has to equal the general path's, not its labelling.

The walk follows pyld's expansion step for step (type-scoped context reversion, property-scoped
contexts applied after it, type-scoped contexts applied in lexicographic order of the types,
``@type`` values expanded under the context from before the type-scoped ones, value expansion
and the numeric conversions of §8.6 Data Round Tripping). Anything outside that well-trodden
subset raises :class:`Unsupported`, and the caller runs the general path, which then produces
the result or the error the safe-mode rules call for (:mod:`issuer.core.jsonld`). That is how
the fast path matches every error of the general path without reproducing any: it reports
only :class:`~issuer.core.errors.InputError` for nesting deeper than :data:`MAX_JSON_DEPTH`
(which :func:`check_json_depth` applies to the general path too) and, from RDFC-1.0 itself,
:class:`~issuer.core.errors.WorkLimitExceeded`.

Handled: ``@context`` as a URL or a list of URLs (at the top and in embedded documents), term
definitions with ``@type`` ``@id``/``@vocab``/``@json``/``@none``/a datatype, ``@container``
``@set``/``@list``/``@graph``, type-scoped and property-scoped contexts (``@context: null``
included), ``@protected``, ``@vocab``, prefixes and compact IRIs, blank node identifiers,
value objects with ``@value`` and ``@type`` or ``@language``, and JSON strings, numbers,
booleans and nulls.

Left to the general path: inline context definitions, the keywords ``@graph``, ``@list``,
``@set``, ``@reverse``, ``@included``, ``@nest``, ``@index`` and ``@direction`` in documents,
language/index/id/type maps, reverse properties, base directions, ``@json`` value objects,
nested arrays, numbers that are not finite doubles, strings typed ``xsd:double``, keys,
types and identifiers that are not plain absolute IRIs (or blank node identifiers), and
anything else that makes the general path drop data or raise.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections.abc import Mapping
from typing import Any

from cachetools import LRUCache

from issuer.core import pyld_adapter
from issuer.core.canon.jcs import jcs
from issuer.core.canon.nquads import (
    RDF_DIR_LANG_STRING,
    RDF_LANG_STRING,
    RDF_NS,
    XSD_STRING,
    escape_literal,
)
from issuer.core.canon.rdfc import Statement, WorkBudget, canonicalize_statements
from issuer.core.errors import InputError, IssuerError
from issuer.core.jsonld import ContextLoader
from issuer.core.pyld_adapter import (
    ActiveContext,
    ContextProcessor,
    ContextResolver,
    TermDefinition,
)

__all__ = [
    "MAX_JSON_DEPTH",
    "Unsupported",
    "canonicalize_fast",
    "check_json_depth",
    "dataset_entries",
]

#: Deepest JSON nesting (objects and arrays, the document itself being 1) either path accepts.
#: Credentials nest a handful of levels; refusing far deeper input up front keeps a hostile
#: document from exhausting the interpreter stack, and makes the refusal independent of how
#: deep the caller's own stack already is.
MAX_JSON_DEPTH = 100

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_BOOLEAN = XSD + "boolean"
XSD_DOUBLE = XSD + "double"
XSD_INTEGER = XSD + "integer"
RDF_TYPE = RDF_NS + "type"
RDF_FIRST = RDF_NS + "first"
RDF_REST = RDF_NS + "rest"
RDF_NIL = RDF_NS + "nil"
RDF_JSON = RDF_NS + "JSON"

# Caps on what one loader's compiled state may grow to. Past them results are still correct,
# only no longer remembered, so hostile variety costs time, not memory.
_MAX_CONTEXTS = 256
_MAX_CHILDREN_PER_CONTEXT = 256
_MAX_KEYS = 32_768  # over all contexts of one loader
_MAX_RESOLVED_CONTEXTS = 256


class Unsupported(Exception):
    """The fast path does not handle this input; the general path must."""


def _too_deep() -> InputError:
    return InputError("the document is nested too deeply to process")


def check_json_depth(document: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested more than ``limit`` containers deep, without recursing."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            raise _too_deep()
        stack.extend((child, depth + 1) for child in children)


# A plain absolute IRI (RFC 3987 scheme, then no character that IRIs exclude or that any layer
# of the general path treats specially: whitespace in pyld's absolute-IRI test, the characters
# the RDF writer refuses, DEL and lone surrogates, which cannot be hashed as UTF-8).
_SAFE_IRI = re.compile(r'[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>"{}|^`\\\x00-\x20\x7f\ud800-\udfff]*\Z')
# rdf.Literal's language-tag rule.
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*\Z")
_DOUBLE_TIDY = re.compile(r"(\d)0*E\+?(-)?0*(\d)")


def _canonical_double(value: float | int) -> str:
    """JSON-LD 1.1 §8.6 Data Round Tripping: the canonical lexical form of an xsd:double
    (``%1.15E``, then without the exponent's ``+`` and leading zeros and without trailing
    zeros of the mantissa past the first decimal), exactly as the general path writes it."""
    return _DOUBLE_TIDY.sub(r"\1E\2\3", f"{value:1.15E}")


# ----------------------------------------------------------------------------- compiled contexts

_PROP, _ID, _TYPE, _VALUE, _LANGUAGE, _BNODE, _BAD = range(7)


class _Term:
    """What expansion reads from one term definition (JSON-LD 1.1 §4.2 Create Term Definition)."""

    __slots__ = (
        "direction",
        "has_direction",
        "has_language",
        "is_graph",
        "is_list",
        "language",
        "odd",
        "scoped",
        "type",
        "type_scoped",
    )

    def __init__(self, definition: TermDefinition) -> None:
        containers = definition.containers - {"@set"}
        self.is_list = "@list" in containers
        self.is_graph = "@graph" in containers
        type_mapping = definition.type_mapping
        self.type: str | None = type_mapping
        # A property-scoped context is applied when it is not None (False resets the context);
        # a type-scoped one only when it is neither None nor False (pyld's reading of §4.1).
        self.scoped: Any = definition.local_context
        self.type_scoped: Any = None if self.scoped is False else self.scoped
        self.has_language = definition.has_language
        self.language: str | None = definition.language
        self.has_direction = definition.has_direction
        self.direction: str | None = definition.direction
        # Definitions this walk leaves to the general path: reverse properties, maps
        # (language, index, id, type), a list that is also a graph, datatypes the RDF layer
        # would refuse, JSON literals in containers, base directions.
        self.odd = bool(
            definition.reverse
            or containers - {"@list", "@graph"}
            or (self.is_list and self.is_graph)
            or (
                type_mapping is not None
                and type_mapping not in ("@id", "@vocab", "@json", "@none")
                and (
                    _SAFE_IRI.match(type_mapping) is None
                    or type_mapping in (RDF_LANG_STRING, RDF_DIR_LANG_STRING)
                )
            )
            or (
                type_mapping == "@json"
                and (self.is_list or self.is_graph or self.scoped is not None)
            )
            or (self.language is not None and _LANGUAGE_TAG.match(self.language) is None)
            or self.direction is not None
        )


class _Key:
    """What one string means under one active context when read vocabulary-relative: as an
    entry key, a ``@type`` value or the value of a ``@type: @vocab`` term (§5.2 IRI Expansion
    with ``vocab`` true).

    For a property whose values expand in place (no scoped context, no container that
    changes the statements), ``lit`` is what follows the quoted lexical form of a string
    value (``""``, ``"@lang"`` or ``"^^<datatype>"``, §5.3 Value Expansion + §8.2), and
    ``ref`` says that a string value is a node identifier (``@type: @id``).
    """

    __slots__ = ("iri", "kind", "lit", "name", "ref", "simple", "term", "text")

    def __init__(self, ctx: _Ctx, name: str, kind: int, iri: str, term: _Term | None) -> None:
        self.name = name
        self.kind = kind
        self.iri = iri  # "" when the string expands to nothing
        self.text = f"<{iri}>" if kind == _PROP else ""
        self.term = term
        self.simple = kind == _PROP and (
            term is None
            or not (
                term.odd
                or term.scoped is not None
                or term.type == "@json"
                or term.is_list
                or term.is_graph
            )
        )
        type_mapping = term.type if term is not None else None
        self.ref = self.simple and type_mapping == "@id"
        self.lit: str | None = None
        if not self.simple:
            return
        if type_mapping is None or type_mapping == "@none":
            language = term.language if term is not None and term.has_language else ctx.language
            direction = term.direction if term is not None and term.has_direction else ctx.direction
            if direction is not None:
                return
            if language is None:
                self.lit = ""
            elif _LANGUAGE_TAG.match(language) is not None:
                self.lit = f"@{language}"
        elif type_mapping == XSD_STRING:
            self.lit = ""
        elif type_mapping not in ("@id", "@vocab", XSD_DOUBLE):
            self.lit = f"^^<{type_mapping}>"


_KEYWORD_KINDS = {"@id": _ID, "@type": _TYPE, "@value": _VALUE, "@language": _LANGUAGE}

_RDF_TYPE_TEXT = f"<{RDF_TYPE}>"
_RDF_FIRST_TEXT = f"<{RDF_FIRST}>"
_RDF_REST_TEXT = f"<{RDF_REST}>"
_NIL_TEXT = f"<{RDF_NIL}>"


class _Ctx:
    """One of pyld's active contexts plus everything derived from it so far."""

    __slots__ = (
        "compiler",
        "direction",
        "keys",
        "language",
        "local_children",
        "prefixes",
        "previous",
        "prop_children",
        "py",
        "type_children",
        "typed",
    )

    def __init__(self, compiler: _Compiler, py: ActiveContext) -> None:
        self.compiler = compiler
        self.py = py
        self.keys: dict[str, _Key] = {}
        self.local_children: dict[tuple[str, ...], _Ctx] = {}
        self.prop_children: dict[int, tuple[Any, _Ctx]] = {}
        self.type_children: dict[tuple[int, ...], tuple[tuple[Any, ...], _Ctx]] = {}
        self.typed: dict[tuple[str, ...], tuple[_Ctx, tuple[_RdfTerm, ...] | None]] = {}
        self.language: str | None = pyld_adapter.default_language(py)
        self.direction: str | None = pyld_adapter.default_direction(py)
        # §5.2 step 6.4: a term whose definition may serve as a prefix expands "term:suffix".
        self.prefixes: dict[str, str] = pyld_adapter.prefix_iris(py)
        previous = pyld_adapter.previous_context(py)
        self.previous: _Ctx | None = None if previous is None else compiler.wrap(previous)

    def key(self, name: str) -> _Key:
        found = self.keys.get(name)
        if found is None:
            found = self._make_key(name)
            compiler = self.compiler
            if compiler.cached_keys < _MAX_KEYS:
                compiler.cached_keys += 1
                self.keys[name] = found
        return found

    def _make_key(self, name: str) -> _Key:
        if type(name) is not str:
            raise Unsupported("a key that is not a string")
        definition = pyld_adapter.term_definition(self.py, name)
        term = _Term(definition) if definition is not None else None
        iri = self.compiler.processor.expand_vocab(self.py, name)
        if not isinstance(iri, str):
            return _Key(self, name, _BAD, "", term)
        if iri.startswith("@"):
            return _Key(self, name, _KEYWORD_KINDS.get(iri, _BAD), iri, term)
        if iri.startswith("_:"):
            return _Key(self, name, _BNODE, iri, term)
        if _SAFE_IRI.match(iri) is None:
            return _Key(self, name, _BAD, iri, term)
        return _Key(self, name, _PROP, iri, term)


class _Compiler:
    """Per-loader state: pyld's context processing, run once per distinct context."""

    def __init__(self, loader: ContextLoader) -> None:
        self.processor = ContextProcessor()
        # The same options the general path's expansion ends up with (pyld's expand() defaults
        # plus the loader's): only bundled contexts, and no base IRI.
        self.options: dict[str, Any] = loader.options(
            isFrame=False,
            keepFreeFloatingNodes=False,
            extractAllScripts=False,
            processingMode="json-ld-1.1",
        )
        # Compilers are kept per loader in a WeakKeyDictionary, so they must not keep their
        # loader alive; they reach it through a weak proxy.
        proxy = weakref.proxy(loader)
        self.options["documentLoader"] = proxy
        self.options["contextResolver"] = ContextResolver(
            LRUCache(maxsize=_MAX_RESOLVED_CONTEXTS), proxy
        )
        # pyld's context processing and resolver caches are not safe to share between threads;
        # everything already derived is read without the lock.
        self.lock = threading.RLock()
        self.contexts: dict[int, _Ctx] = {}
        self.roots: dict[tuple[str, ...], _Ctx] = {}
        self.cached_keys = 0
        self.initial = self.processor.initial_context(self.options)

    def wrap(self, py: ActiveContext) -> _Ctx:
        found = self.contexts.get(id(py))
        if found is not None and found.py is py:
            return found
        ctx = _Ctx(self, py)
        if len(self.contexts) < _MAX_CONTEXTS:
            self.contexts[id(py)] = ctx
        return ctx

    def _process(self, active: _Ctx, local: Any, **flags: bool) -> _Ctx:
        with self.lock:
            try:
                py = self.processor.process(active.py, local, self.options, **flags)
            except Exception as exc:  # noqa: BLE001 - the general path reports the error
                raise Unsupported(f"context processing failed: {exc}") from None
            return self.wrap(py)

    def root(self, urls: tuple[str, ...]) -> _Ctx:
        """The active context after a document's ``@context`` (a list of URLs)."""
        found = self.roots.get(urls)
        if found is None:
            found = self._process(self.wrap(self.initial), list(urls))
            if len(self.roots) < _MAX_CONTEXTS:
                self.roots[urls] = found
        return found

    def local(self, active: _Ctx, urls: tuple[str, ...]) -> _Ctx:
        """§4.1 for an embedded ``@context`` that lists context URLs."""
        found = active.local_children.get(urls)
        if found is None:
            found = self._process(active, list(urls))
            if len(active.local_children) < _MAX_CHILDREN_PER_CONTEXT:
                active.local_children[urls] = found
        return found

    def property_scoped(self, active: _Ctx, local: Any) -> _Ctx:
        """§4.1 with ``override protected`` true: a term's scoped context applied to a value."""
        memo = active.prop_children.get(id(local))
        if memo is not None and memo[0] is local:
            return memo[1]
        derived = self._process(active, local, override_protected=True)
        if len(active.prop_children) < _MAX_CHILDREN_PER_CONTEXT:
            active.prop_children[id(local)] = (local, derived)
        return derived

    def type_scoped(self, active: _Ctx, locals_: tuple[Any, ...]) -> _Ctx:
        """§4.1 with ``propagate`` false, once per type in order (§5.1.2 step 11)."""
        memo_key = tuple(map(id, locals_))
        memo = active.type_children.get(memo_key)
        if memo is not None and all(a is b for a, b in zip(memo[0], locals_, strict=True)):
            return memo[1]
        derived = active
        for local in locals_:
            derived = self._process(derived, local, propagate=False)
        if len(active.type_children) < _MAX_CHILDREN_PER_CONTEXT:
            active.type_children[memo_key] = (locals_, derived)
        return derived

    def typed(
        self, active: _Ctx, types: tuple[str, ...]
    ) -> tuple[_Ctx, tuple[_RdfTerm, ...] | None]:
        """The context a node with these (compact) types is expanded under, and its
        ``rdf:type`` objects when they are all IRIs (§5.1.2 step 11: the types' scoped
        contexts, looked up in the context from before any of them, applied in
        lexicographic order of the types)."""
        found = active.typed.get(types)
        if found is not None:
            return found
        ordered = sorted(types) if len(types) > 1 else types
        scoped = []
        for name in ordered:
            term = active.key(name).term
            if term is not None and term.type_scoped is not None:
                scoped.append(term.type_scoped)
        derived = self.type_scoped(active, tuple(scoped)) if scoped else active
        if types and derived.key(types[0]).iri == "@json":
            raise Unsupported("a @json value object")
        keys = [active.key(name) for name in types]
        objects = (
            tuple((key.text, None) for key in keys)
            if all(key.kind == _PROP for key in keys)
            else None
        )
        found = (derived, objects)
        if len(active.typed) < _MAX_CHILDREN_PER_CONTEXT:
            active.typed[types] = found
        return found


_COMPILERS: weakref.WeakKeyDictionary[ContextLoader, _Compiler] = weakref.WeakKeyDictionary()
_COMPILERS_LOCK = threading.Lock()


def _compiler_for(loader: ContextLoader) -> _Compiler:
    compiler = _COMPILERS.get(loader)
    if compiler is None:
        with _COMPILERS_LOCK:
            compiler = _COMPILERS.get(loader)
            if compiler is None:
                compiler = _COMPILERS[loader] = _Compiler(loader)
    return compiler


# ----------------------------------------------------------------------------- the walk

# A term in subject/object/graph position: (serialised form, None) for IRIs and literals,
# ("", label) for blank nodes, the graph name ("", None) for the default graph; the split
# rdfc.Statement stores.
_RdfTerm = tuple[str, str | None]
_Row = tuple[str, str | None, str, str, str, str | None, str, str | None]
_NIL: _RdfTerm = (_NIL_TEXT, None)
_DEFAULT_GRAPH: _RdfTerm = ("", None)


class _Walk:
    """One document's conversion: its statements and its blank-node labels."""

    __slots__ = ("bnodes", "compiler", "counter", "json_seen", "rows")

    def __init__(self, compiler: _Compiler) -> None:
        self.compiler = compiler
        self.rows: list[_Row] = []
        self.bnodes: dict[str, str] = {}
        self.counter = 0
        self.json_seen: dict[tuple[Any, ...], list[tuple[Any, str]]] = {}

    def new_bnode(self) -> _RdfTerm:
        self.counter += 1
        return ("", f"b{self.counter}")

    def doc_bnode(self, label: str) -> _RdfTerm:
        # §7.2 Node Map Generation relabels every blank node identifier of the document; the
        # same identifier names the same node everywhere, in any graph.
        found = self.bnodes.get(label)
        if found is None:
            self.counter += 1
            found = self.bnodes[label] = f"b{self.counter}"
        return ("", found)

    # ------------------------------------------------------------------ IRIs

    def node_id(self, ctx: _Ctx, value: str) -> _RdfTerm:
        """§5.2 IRI Expansion, document-relative, with no base IRI (``@id`` values and
        ``@type: @id`` terms). A relative IRI would be refused by safe mode."""
        if value.startswith("_:"):
            return self.doc_bnode(value)
        if value.startswith("@"):
            raise Unsupported("an identifier that looks like a keyword")
        colon = value.find(":")
        if colon > 0:
            suffix = value[colon + 1 :]
            if not suffix.startswith("//"):
                prefix_iri = ctx.prefixes.get(value[:colon])
                if prefix_iri is not None:
                    value = prefix_iri + suffix
        if _SAFE_IRI.match(value) is None:
            raise Unsupported("an identifier that is not a plain absolute IRI")
        return (f"<{value}>", None)

    def vocab_id(self, ctx: _Ctx, value: str) -> _RdfTerm:
        """§5.2 IRI Expansion, vocabulary-relative (``@type`` values, ``@type: @vocab``)."""
        key = ctx.key(value)
        if key.kind == _PROP:
            return (key.text, None)
        if key.kind == _BNODE:
            return self.doc_bnode(key.iri)
        raise Unsupported("a type or vocabulary value that is not an absolute IRI")

    # ------------------------------------------------------------------ literals

    def literal(self, value: Any, datatype: str | None, language: str | None) -> _RdfTerm:
        """§8.2 Object to RDF Conversion (with §8.6 for numbers), as the general path does it."""
        kind = type(value)
        if kind is str:
            if datatype is None:
                escaped = escape_literal(value)
                if language is not None:
                    return (f'"{escaped}"@{language}', None)
                return (f'"{escaped}"', None)
            if datatype == XSD_DOUBLE:
                # pyld rewrites a numeric *string* typed xsd:double; leave that to it.
                raise Unsupported("a string typed xsd:double")
            text = value
        elif kind is bool:
            text = "true" if value else "false"
            datatype = datatype or XSD_BOOLEAN
        elif kind is int:
            if datatype == XSD_DOUBLE or abs(value) >= 1e21:
                try:
                    text = _canonical_double(float(value) if datatype == XSD_DOUBLE else value)
                except OverflowError:
                    raise Unsupported("an integer too large for a double") from None
                datatype = datatype or XSD_DOUBLE
            else:
                text = str(value)
                datatype = datatype or XSD_INTEGER
        elif kind is float:
            if not math.isfinite(value):
                raise Unsupported("a non-finite number")
            if not value.is_integer() or datatype == XSD_DOUBLE or abs(value) >= 1e21:
                text = _canonical_double(value)
                datatype = datatype or XSD_DOUBLE
            else:
                text = str(int(value))
                datatype = datatype or XSD_INTEGER
        else:
            raise Unsupported("a value that is not JSON")
        if datatype == XSD_STRING:
            return (f'"{escape_literal(text)}"', None)
        if datatype in (RDF_LANG_STRING, RDF_DIR_LANG_STRING):
            raise Unsupported("a language-string datatype without a language")
        return (f'"{escape_literal(text)}"^^<{datatype}>', None)

    def json_literal(
        self, value: Any, subject: _RdfTerm, predicate: _Key, graph: _RdfTerm, depth: int
    ) -> _RdfTerm:
        """§8.2 step 5 (rdf:JSON): the JSON canonicalization of the value."""
        check_json_depth(value, MAX_JSON_DEPTH - depth)
        # The general path writes these with the JCS implementation shipped in the pyld
        # distribution. RFC 8785 gives the same text for every value it accepts; the values it
        # refuses and pyld's does not (integers beyond 2**53) go to the general path.
        try:
            text = jcs(value).decode("utf-8")
        except Exception as exc:  # noqa: BLE001 - the general path reports the error
            raise Unsupported(f"a JSON literal that cannot be canonicalized: {exc}") from None
        # Node map generation drops a value equal (by Python ==) to one the node already has;
        # for JSON values "equal" may still canonicalize differently (1 == true).
        seen = self.json_seen.setdefault((graph, subject, predicate.iri), [])
        for other, other_text in seen:
            if other_text != text and other == value:
                raise Unsupported("two JSON literals the general path would merge")
        seen.append((value, text))
        return (f'"{escape_literal(text)}"^^<{RDF_JSON}>', None)

    # ------------------------------------------------------------------ expansion

    def scalar(self, ctx: _Ctx, term: _Term | None, value: Any) -> _RdfTerm:
        """§5.3 Value Expansion followed by §8.2."""
        type_mapping = term.type if term is not None else None
        if type(value) is str:
            if type_mapping == "@id":
                return self.node_id(ctx, value)
            if type_mapping == "@vocab":
                return self.vocab_id(ctx, value)
        if type_mapping is not None and type_mapping not in ("@id", "@vocab", "@none"):
            if type_mapping == "@json":
                raise Unsupported("a @json term reached through a scoped redefinition")
            return self.literal(value, type_mapping, None)
        if type(value) is str:
            if term is not None and term.has_language:
                language = term.language
            else:
                language = ctx.language
            if term is not None and term.has_direction:
                direction = term.direction
            else:
                direction = ctx.direction
            if direction is not None:
                raise Unsupported("a base direction")
            if language is not None and _LANGUAGE_TAG.match(language) is None:
                raise Unsupported("a malformed default language")
            return self.literal(value, None, language)
        return self.literal(value, None, None)

    def item(
        self, ctx: _Ctx, term: _Term | None, value: Any, graph: _RdfTerm, depth: int
    ) -> _RdfTerm | None:
        """One member of a property value (never an array)."""
        if type(value) is dict:
            return self.node(ctx, term, value, graph, depth)
        if value is None:
            return None
        if type(value) is list:
            raise Unsupported("an array inside an array")
        return self.scalar(ctx, term, value)

    def node(
        self, ctx: _Ctx, term: _Term | None, element: dict[str, Any], graph: _RdfTerm, depth: int
    ) -> _RdfTerm | None:
        """§5.1.2 steps 7-8 for a map that is a property value: revert a type-scoped context
        unless the map is a value object or a bare reference, then apply the property's
        scoped context."""
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        previous = ctx.previous
        if previous is not None:
            revert = True
            if len(element) <= 2 and "@context" not in element:
                # pyld looks at the keys in order and stops at the first decisive one; which
                # one that is does not change the outcome.
                for name in element:
                    kind = ctx.key(name).kind
                    if kind == _VALUE or (kind == _ID and len(element) == 1):
                        revert = False
                        break
            if revert:
                ctx = previous
        if term is not None and term.scoped is not None:
            ctx = self.compiler.property_scoped(ctx, term.scoped)
        return self.body(ctx, element, graph, depth, top=False)

    def body(
        self, ctx: _Ctx, element: dict[str, Any], graph: _RdfTerm, depth: int, *, top: bool
    ) -> _RdfTerm | None:
        """§5.1.2 steps 9-14 and 15-20 for a map, then its statements (§7.2, §8.1)."""
        if not top and "@context" in element:
            # Step 9: a nested document (an embedded credential) may name its own contexts;
            # only lists of URLs are handled here, as at the top.
            ctx = self.compiler.local(ctx, _context_urls(element["@context"]))
        # Step 11: type-scoped contexts.
        type_ctx = ctx
        keys = ctx.keys
        type_name: str | None = None
        for name in element:
            key = keys.get(name) or ctx.key(name)
            if key.kind == _TYPE:
                if type_name is not None:
                    raise Unsupported("two keys that mean @type")
                type_name = name
        types: tuple[str, ...] = ()
        type_objects: tuple[_RdfTerm, ...] | None = ()
        if type_name is not None:
            raw = element[type_name]
            if type(raw) is str:
                types = (raw,)
            elif type(raw) is list and all(type(t) is str for t in raw):
                if depth >= MAX_JSON_DEPTH:
                    raise _too_deep()
                types = tuple(raw)
            else:
                raise Unsupported("a @type that is not a string or an array of strings")
            ctx, type_objects = self.compiler.typed(ctx, types)
            keys = ctx.keys

        subject: _RdfTerm | None = None
        has_value = has_language = False
        literal_value: Any = None
        language: Any = None
        properties: list[tuple[_Key, Any]] = []
        for name, value in element.items():
            if name == "@context":
                continue
            key = keys.get(name) or ctx.key(name)
            kind = key.kind
            if kind == _PROP:
                properties.append((key, value))
            elif kind == _ID:
                if subject is not None or type(value) is not str:
                    raise Unsupported("a second or non-string @id")
                subject = self.node_id(ctx, value)
            elif kind == _TYPE:
                if name != type_name:
                    raise Unsupported("a type-scoped context that aliases @type")
            elif kind == _VALUE:
                has_value = True
                literal_value = value
            elif kind == _LANGUAGE:
                has_language = True
                language = value
            else:
                # Dropped keys (safe mode refuses them), blank-node predicates and keywords
                # this walk does not implement.
                raise Unsupported(f"the key {name!r}")
        if type_name is not None and ctx.key(type_name).kind != _TYPE:
            raise Unsupported("a type-scoped context that redefines the @type alias")

        if has_value:
            return self.value_object(
                type_ctx,
                element,
                type_name,
                types,
                literal_value,
                has_language,
                language,
                bool(properties) or subject is not None or top,
            )
        if has_language:
            raise Unsupported("@language outside a value object")

        # A node object: §7.2 gives it a blank node identifier when it has no @id.
        if subject is None:
            self.counter += 1
            subject = ("", f"b{self.counter}")
        s0, s1 = subject
        g0, g1 = graph
        append = self.rows.append
        if type_objects is None:
            type_objects = tuple(self.vocab_id(type_ctx, t) for t in types)
        for o0, o1 in type_objects:
            append((s0, s1, RDF_TYPE, _RDF_TYPE_TEXT, o0, o1, g0, g1))
        for key, value in properties:
            # Most entries are one string under a term that needs nothing else.
            if type(value) is str and key.simple:
                lit = key.lit
                if lit is not None:
                    append(
                        (
                            s0,
                            s1,
                            key.iri,
                            key.text,
                            f'"{escape_literal(value)}"{lit}',
                            None,
                            g0,
                            g1,
                        )
                    )
                    continue
                if key.ref:
                    o0, o1 = self.node_id(ctx, value)
                    append((s0, s1, key.iri, key.text, o0, o1, g0, g1))
                    continue
            self.property(ctx, key, value, subject, graph, depth)
        return subject

    def value_object(
        self,
        type_ctx: _Ctx,
        element: dict[str, Any],
        type_name: str | None,
        types: tuple[str, ...],
        value: Any,
        has_language: bool,
        language: Any,
        extra: bool,
    ) -> _RdfTerm:
        """§5.1.2 step 15: a value object with ``@value`` and at most ``@type`` or
        ``@language``."""
        if extra:
            raise Unsupported("a value object with other entries, or at the top level")
        if value is None or type(value) in (dict, list):
            raise Unsupported("a null or structured @value")
        if has_language and language is None:
            has_language = False  # a null @language is as if absent
        datatype: str | None = None
        if type_name is not None:
            if has_language or type(element[type_name]) is not str:
                raise Unsupported("a value object with two or several types")
            key = type_ctx.key(types[0])
            if key.kind != _PROP:
                raise Unsupported("a value object whose type is not an absolute IRI")
            datatype = key.iri
        if has_language:
            if type(language) is not str or type(value) is not str:
                raise Unsupported("a language tag on a non-string")
            language = language.lower()
            if _LANGUAGE_TAG.match(language) is None:
                raise Unsupported("a malformed language tag")
            return self.literal(value, None, language)
        return self.literal(value, datatype, None)

    def property(
        self, ctx: _Ctx, key: _Key, value: Any, subject: _RdfTerm, graph: _RdfTerm, depth: int
    ) -> None:
        """§5.1.2 step 13 for one entry whose key is a property, then its statements."""
        s0, s1 = subject
        g0, g1 = graph
        iri, text = key.iri, key.text
        append = self.rows.append
        term = key.term
        if term is not None:
            if term.odd:
                raise Unsupported(f"the term {key.name!r} uses a feature this walk skips")
            if term.type == "@json":
                o0, o1 = self.json_literal(value, subject, key, graph, depth)
                append((s0, s1, iri, text, o0, o1, g0, g1))
                return
        if value is None:
            return
        # The value is expanded under the context with the term's scoped context applied,
        # and with the term as that context defines it.
        value_ctx = ctx
        value_term = term
        if term is not None and term.scoped is not None:
            value_ctx = self.compiler.property_scoped(ctx, term.scoped)
            value_key = value_ctx.key(key.name)
            value_term = value_key.term
            # Only the predicate comes from the outer definition; how values expand (and
            # whether an array is a list) comes from this one, which may be absent (a
            # context reset by "@context": null) but must not make the key a keyword.
            if (
                value_key.iri.startswith("@")
                or (value_term is not None and value_term.odd)
                or (value_term is not None and value_term.is_list) != term.is_list
            ):
                raise Unsupported("a scoped context that redefines its own term")
        child = depth + 1
        if type(value) is list:
            if child > MAX_JSON_DEPTH:
                raise _too_deep()
            members: list[Any] | tuple[Any] = value
            member_depth = child + 1
        else:
            members = (value,)
            member_depth = child
        if term is not None and term.is_graph:
            # §5.1.2 step 13.8 / §7.2: each value becomes a graph object with a fresh blank
            # node name; the node inside is described in that graph.
            for member in members:
                name = self.new_bnode()
                if self.item(value_ctx, value_term, member, name, member_depth) is not None:
                    append((s0, s1, iri, text, name[0], name[1], g0, g1))
            return
        if term is not None and term.is_list:
            # §5.1.2 step 13.7 and §8.3 List to RDF Conversion.
            cells = []
            for member in members:
                obj = self.item(value_ctx, value_term, member, graph, member_depth)
                if obj is not None:
                    cells.append(obj)
            if type(value) is not list and not cells:
                return
            o0, o1 = self.rdf_list(cells, graph)
            append((s0, s1, iri, text, o0, o1, g0, g1))
            return
        for member in members:
            obj = self.item(value_ctx, value_term, member, graph, member_depth)
            if obj is not None:
                append((s0, s1, iri, text, obj[0], obj[1], g0, g1))

    def rdf_list(self, members: list[_RdfTerm], graph: _RdfTerm) -> _RdfTerm:
        """§8.3 List to RDF Conversion: rdf:first/rdf:rest cells ending in rdf:nil."""
        if not members:
            return _NIL
        g0, g1 = graph
        append = self.rows.append
        head = cell = self.new_bnode()
        last = len(members) - 1
        for index, (o0, o1) in enumerate(members):
            append((cell[0], cell[1], RDF_FIRST, _RDF_FIRST_TEXT, o0, o1, g0, g1))
            following = _NIL if index == last else self.new_bnode()
            append((cell[0], cell[1], RDF_REST, _RDF_REST_TEXT, following[0], following[1], g0, g1))
            cell = following
        return head


def _context_urls(contexts: Any) -> tuple[str, ...]:
    if type(contexts) is str:
        return (contexts,)
    if type(contexts) is list and contexts and all(type(c) is str for c in contexts):
        return tuple(contexts)
    raise Unsupported("no @context, or one that is not a list of URLs")


def _rows(document: Any, loader: ContextLoader) -> list[_Row]:
    if not isinstance(document, Mapping):
        raise Unsupported("not a JSON object")
    if type(document) is not dict:
        document = dict(document)
    urls = _context_urls(document.get("@context"))
    compiler = _compiler_for(loader)
    walk = _Walk(compiler)
    walk.body(compiler.root(urls), document, _DEFAULT_GRAPH, 1, top=True)
    return walk.rows


def dataset_entries(document: Any, loader: ContextLoader) -> list[Statement]:
    """The RDF dataset of ``document`` as RDFC-1.0 input rows, each statement once.

    Raises :class:`Unsupported` when the general path must handle the document, and
    :class:`~issuer.core.errors.InputError` when it is nested deeper than
    :data:`MAX_JSON_DEPTH`.
    """
    try:
        rows = _rows(document, loader)
    except (Unsupported, IssuerError):
        raise
    except RecursionError:
        raise Unsupported("the caller's stack is too deep for the walk") from None
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the general path decides
        raise Unsupported(f"{type(exc).__name__}: {exc}") from None
    return [Statement(*row) for row in dict.fromkeys(rows)]


def canonicalize_fast(
    document: Any, loader: ContextLoader, *, budget: WorkBudget | None = None
) -> str:
    """RDFC-1.0 canonical N-Quads of ``document`` by the fast path.

    Raises :class:`Unsupported` when the general path must handle the document.
    """
    # Rows built here go to RDFC-1.0 as they are, skipping a Quad object per statement.
    return canonicalize_statements(dataset_entries(document, loader), budget=budget)
