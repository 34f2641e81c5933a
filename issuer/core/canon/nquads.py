"""RDF terms, a strict N-Quads reader and the canonical N-Quads writer.

The writer produces the *canonical n-quads form* that RDFC-1.0 hashes and signs
(RDF Dataset Canonicalization §A / RDF 1.2 N-Triples §3 "A Canonical form of N-Triples"):

* single spaces between terms, `` .`` and a single LF at the end of every line;
* IRIs written as they are, never with ``\\u`` escapes;
* ``xsd:string`` literals without a datatype, ``rdf:langString`` literals as ``"…"@tag``;
* inside a literal, BS HT LF FF CR ``"`` and ``\\`` as ``\\b \\t \\n \\f \\r \\" \\\\``; the other
  C0 controls, DEL and the code points XML 1.1 does not allow as characters (U+FFFE, U+FFFF,
  lone surrogates) as ``\\uXXXX`` with upper-case hex; everything else as itself.

Language tags are written with the case they arrived in. RDFC-1.0 leaves their case to the data
(its introduction only recommends lower case to communities), and deployed Data Integrity
verifiers hash them unchanged, so changing case here would break signatures they check.

Triple terms (RDF 1.2 ``<<( … )>>``) are refused: RDFC-1.0 defines no canonical form for them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from issuer.core.errors import InputError

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_LANG_STRING = RDF_NS + "langString"
RDF_DIR_LANG_STRING = RDF_NS + "dirLangString"

__all__ = [
    "IRI",
    "RDF_DIR_LANG_STRING",
    "RDF_LANG_STRING",
    "RDF_NS",
    "XSD_STRING",
    "BlankNode",
    "GraphName",
    "Literal",
    "ObjectTerm",
    "Quad",
    "SubjectTerm",
    "escape_literal",
    "parse_nquads",
    "quads_from_pyld",
    "serialize_quad",
    "serialize_term",
]


# --------------------------------------------------------------------------- terms


# Terms check themselves when made: a term that cannot be written unambiguously (an IRI with
# a space or ">", a label with a space) would let two different datasets produce the same
# canonical text, and so the same signature.


@dataclass(frozen=True, slots=True)
class IRI:
    """An absolute IRI, stored unescaped. Raises ``ValueError`` for anything else."""

    value: str

    def __post_init__(self) -> None:
        problem = _iri_problem(self.value)
        if problem is not None:
            raise ValueError(problem)


@dataclass(frozen=True, slots=True)
class BlankNode:
    """A blank node; ``id`` is the label without the ``_:`` prefix (N-Quads label syntax)."""

    id: str

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or _blank_node_id().fullmatch(self.id) is None:
            raise ValueError(f"{self.id!r} is not a valid blank node label")


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal. A language-tagged string has ``datatype`` ``rdf:langString``, or
    ``rdf:dirLangString`` when it also has a ``direction`` (``"ltr"`` or ``"rtl"``);
    ``Literal("chat", language="fr")`` fills that datatype in."""

    value: str
    datatype: str = XSD_STRING
    language: str | None = None
    direction: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise ValueError(f"the lexical form of a literal is a string, not {self.value!r}")
        problem = _iri_problem(self.datatype)
        if problem is not None:
            raise ValueError(f"datatype: {problem}")
        if self.language is None:
            if self.direction is not None or self.datatype in (
                RDF_LANG_STRING,
                RDF_DIR_LANG_STRING,
            ):
                raise ValueError("a language-tagged string needs a language tag")
            return
        if not isinstance(self.language, str) or _LANGUAGE_TAG.fullmatch(self.language) is None:
            raise ValueError(f"{self.language!r} is not a valid language tag")
        if self.direction not in (None, "ltr", "rtl"):
            raise ValueError(f'a text direction is "ltr" or "rtl", not {self.direction!r}')
        expected = RDF_LANG_STRING if self.direction is None else RDF_DIR_LANG_STRING
        if self.datatype == XSD_STRING:
            object.__setattr__(self, "datatype", expected)
        elif self.datatype != expected:
            # It would be written as a language-tagged string and read back as another term.
            raise ValueError(
                "a literal with a language tag has the datatype rdf:langString "
                "(rdf:dirLangString with a direction)"
            )


SubjectTerm = IRI | BlankNode
ObjectTerm = IRI | BlankNode | Literal
GraphName = IRI | BlankNode | None


@dataclass(frozen=True, slots=True)
class Quad:
    """One statement of a dataset; ``graph`` is ``None`` for the default graph."""

    subject: SubjectTerm
    predicate: IRI
    object: ObjectTerm
    graph: GraphName = None

    def __post_init__(self) -> None:
        # A misplaced term would still serialise, into a line that is not N-Quads and would
        # then be hashed and signed; refuse it where it is made.
        if not isinstance(self.subject, IRI | BlankNode):
            raise TypeError(f"a subject is an IRI or a blank node, not {self.subject!r}")
        if not isinstance(self.predicate, IRI):
            raise TypeError(f"a predicate is an IRI, not {self.predicate!r}")
        if not isinstance(self.object, IRI | BlankNode | Literal):
            raise TypeError(f"not an RDF term: {self.object!r}")
        if self.graph is not None and not isinstance(self.graph, IRI | BlankNode):
            raise TypeError(f"a graph name is an IRI or a blank node, not {self.graph!r}")


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*")


def _iri_problem(value: object) -> str | None:
    if not isinstance(value, str) or _SCHEME.match(value) is None:
        return f"{value!r} is not an absolute IRI"
    if _NOT_IN_IRI.search(value) is not None:
        return (
            f"the IRI {value!r} contains a character IRIs do not allow "
            '(space, control character or one of <>"{}|^`\\)'
        )
    return None


# --------------------------------------------------------------------------- writer

# Built once: str.translate does the per-character work in C, and the search below lets the
# common case (nothing to escape) return the value untouched.
_LITERAL_ESCAPES: dict[int, str] = {cp: f"\\u{cp:04X}" for cp in range(0x20)}
_LITERAL_ESCAPES.update(
    {
        0x08: "\\b",
        0x09: "\\t",
        0x0A: "\\n",
        0x0C: "\\f",
        0x0D: "\\r",
        0x22: '\\"',
        0x5C: "\\\\",
        0x7F: "\\u007F",
        0xFFFE: "\\uFFFE",
        0xFFFF: "\\uFFFF",
    }
)
_LITERAL_ESCAPES.update({cp: f"\\u{cp:04X}" for cp in range(0xD800, 0xE000)})
_NEEDS_ESCAPE = re.compile('[\x00-\x1f\x7f"\\\\\ud800-\udfff\ufffe\uffff]')


def escape_literal(value: str) -> str:
    """The lexical form of a literal as canonical N-Quads writes it between its quotes
    (RDF 1.2 N-Triples §3 "A Canonical form of N-Triples"; the rules in the module docstring)."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return value.translate(_LITERAL_ESCAPES)


def serialize_term(term: IRI | BlankNode | Literal) -> str:
    """One term in canonical N-Quads form."""
    if isinstance(term, IRI):
        return f"<{term.value}>"
    if isinstance(term, BlankNode):
        return f"_:{term.id}"
    if isinstance(term, Literal):
        text = f'"{escape_literal(term.value)}"'
        if term.language is not None:
            if term.direction is not None:
                return f"{text}@{term.language}--{term.direction}"
            return f"{text}@{term.language}"
        if term.datatype == XSD_STRING:
            return text
        return f"{text}^^<{term.datatype}>"
    raise TypeError(f"not an RDF term: {term!r}")


def serialize_quad(quad: Quad) -> str:
    """One quad as a canonical N-Quads line, ending in ``" .\\n"``."""
    head = (
        f"{serialize_term(quad.subject)} {serialize_term(quad.predicate)} "
        f"{serialize_term(quad.object)}"
    )
    if quad.graph is None:
        return head + " .\n"
    return f"{head} {serialize_term(quad.graph)} .\n"


# --------------------------------------------------------------------------- reader

_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff"
    "\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
    "\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_:"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"

_WS = re.compile(r"[ \t]*")
# Both patterns below use the "unrolled loop" form: runs of plain characters separated by
# escapes. Escapes start with a backslash, which the runs exclude, so matching stays linear
# (no backtracking blow-up on an unterminated string) and runs are consumed in one step.
_IRIREF = re.compile(
    r'<([^\x00-\x20<>"{}|^`\\]*'
    r'(?:(?:\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})[^\x00-\x20<>"{}|^`\\]*)*)>'
)
_BLANK_NODE_ID = f"[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"


# Compiled on first use: their character classes span most of Unicode, and compiling the two
# costs more than importing everything else here, on paths (verification by the fast path)
# that never make a blank node term or read N-Quads.
@functools.cache
def _blank_node_id() -> re.Pattern[str]:
    return re.compile(_BLANK_NODE_ID)


@functools.cache
def _blank_node_label() -> re.Pattern[str]:
    return re.compile(f"_:({_BLANK_NODE_ID})")


_STRING_LITERAL_QUOTE = re.compile(
    r'"([^"\\\r\n]*(?:\\(?:[tbnrf"\'\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})[^"\\\r\n]*)*)"'
)
_LANG_DIR = re.compile(r"@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)(?:--([a-zA-Z]+))?")
_VERSION = re.compile(r'VERSION[ \t]+"(?:[^"\\\r\n]|\\.)*"[ \t]*(?:#.*)?$')
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_EOL = re.compile(r"\r\n|\r|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _LineError(Exception):
    """A syntax error inside one line; the caller adds the line number."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def _unescape(text: str, column: int) -> str:
    if "\\" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        hex_digits = match.group(1) or match.group(2)
        if hex_digits is None:
            return _ECHAR[match.group(3)]
        code_point = int(hex_digits, 16)
        if code_point > 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
            raise _LineError(f"the escape {match.group(0)} is not a Unicode scalar value", column)
        return chr(code_point)

    return _ESCAPE.sub(replace, text)


def _make_iri(value: str, column: int) -> IRI:
    try:
        return IRI(value)
    except ValueError as error:
        raise _LineError(str(error), column) from None


class _LineReader:
    __slots__ = ("line", "pos")

    def __init__(self, line: str) -> None:
        self.line = line
        self.pos = 0

    def skip_ws(self) -> None:
        self.pos = _WS.match(self.line, self.pos).end()  # type: ignore[union-attr]

    def at_end(self) -> bool:
        return self.pos >= len(self.line) or self.line[self.pos] == "#"

    def describe_here(self) -> str:
        if self.pos >= len(self.line):
            return "the end of the line"
        return repr(self.line[self.pos : self.pos + 20])

    def iri(self) -> IRI | None:
        match = _IRIREF.match(self.line, self.pos)
        if match is None:
            return None
        column = self.pos + 1
        self.pos = match.end()
        return _make_iri(_unescape(match.group(1), column), column)

    def blank_node(self) -> BlankNode | None:
        match = _blank_node_label().match(self.line, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return BlankNode(match.group(1))

    def literal(self) -> Literal | None:
        match = _STRING_LITERAL_QUOTE.match(self.line, self.pos)
        if match is None:
            return None
        column = self.pos + 1
        value = _unescape(match.group(1), column)
        self.pos = match.end()
        if self.line.startswith("^^", self.pos):
            self.pos += 2
            datatype = self.iri()
            if datatype is None:
                raise _LineError(
                    f"expected a datatype IRI after ^^, found {self.describe_here()}",
                    self.pos + 1,
                )
            if datatype.value in (RDF_LANG_STRING, RDF_DIR_LANG_STRING):
                raise _LineError(
                    "rdf:langString and rdf:dirLangString literals need a language tag, "
                    "not a datatype",
                    column,
                )
            return Literal(value, datatype.value)
        lang = _LANG_DIR.match(self.line, self.pos)
        if lang is None:
            return Literal(value)
        self.pos = lang.end()
        direction = lang.group(2)
        if direction is None:
            return Literal(value, RDF_LANG_STRING, lang.group(1))
        if direction not in ("ltr", "rtl"):
            raise _LineError(
                f'the text direction "{direction}" is neither "ltr" nor "rtl"', lang.start() + 1
            )
        return Literal(value, RDF_DIR_LANG_STRING, lang.group(1), direction)

    def term(self, what: str, *, literal: bool = False) -> IRI | BlankNode | Literal:
        self.skip_ws()
        found: IRI | BlankNode | Literal | None = self.iri() or self.blank_node()
        if found is None and literal:
            found = self.literal()
        if found is None:
            if self.line.startswith("<<", self.pos):
                raise _LineError(
                    "triple terms (RDF 1.2) are not supported: RDFC-1.0 defines no "
                    "canonical form for them",
                    self.pos + 1,
                )
            raise _LineError(f"expected {what}, found {self.describe_here()}", self.pos + 1)
        return found


def _parse_statement(line: str) -> Quad | None:
    reader = _LineReader(line)
    reader.skip_ws()
    if reader.at_end():
        return None
    if _VERSION.match(line, reader.pos):
        return None
    subject = reader.term("a subject (an IRI or a blank node)")
    predicate = reader.term("a predicate IRI")
    if not isinstance(predicate, IRI):
        raise _LineError("the predicate must be an IRI, not a blank node", reader.pos)
    obj = reader.term("an object (an IRI, a blank node or a literal)", literal=True)
    reader.skip_ws()
    graph: IRI | BlankNode | None = None
    if not line.startswith(".", reader.pos):
        graph_term = reader.term("a graph name or the final '.'")
        assert not isinstance(graph_term, Literal)  # term() only reads literals when asked
        graph = graph_term
        reader.skip_ws()
        if not line.startswith(".", reader.pos):
            raise _LineError(
                f"expected the final '.', found {reader.describe_here()}", reader.pos + 1
            )
    reader.pos += 1
    reader.skip_ws()
    if not reader.at_end():
        raise _LineError(
            f"unexpected text after the final '.': {reader.describe_here()}", reader.pos + 1
        )
    assert not isinstance(subject, Literal)
    return Quad(subject, predicate, obj, graph)


def parse_nquads(text: str) -> list[Quad]:
    """Read an N-Quads document (RDF 1.1, plus RDF 1.2 directional language tags and the
    ``VERSION`` directive). Repeated quads are kept once, in first-seen order.

    Raises :class:`~issuer.core.errors.InputError` naming the line and column of the first
    problem.
    """
    quads: dict[Quad, None] = {}
    for number, line in enumerate(_EOL.split(text), start=1):
        surrogate = _SURROGATE.search(line)
        if surrogate is not None:
            raise InputError(
                f"N-Quads line {number}, column {surrogate.start() + 1}: "
                "the text contains a lone surrogate, which is not a Unicode character"
            )
        try:
            quad = _parse_statement(line)
        except _LineError as error:
            raise InputError(
                f"N-Quads line {number}, column {error.column}: {error.message}"
            ) from None
        if quad is not None:
            quads[quad] = None
    return list(quads)


# --------------------------------------------------------------------------- pyld datasets


def _pyld_term(node: Any, where: str) -> IRI | BlankNode | Literal:
    if not isinstance(node, Mapping):
        raise InputError(f"{where}: expected an RDF term, found {node!r}")
    kind = node.get("type")
    value = node.get("value")
    try:
        if kind == "IRI":
            return IRI(value)
        if kind == "blank node":
            return _pyld_blank_node(value)
        if kind == "literal":
            datatype = node.get("datatype") or XSD_STRING
            if datatype == RDF_LANG_STRING:
                return Literal(value, RDF_LANG_STRING, node.get("language"))
            # pyld writes @direction either as an i18n datatype IRI or as an rdf:value /
            # rdf:direction node; both arrive here as ordinary literals and IRIs.
            return Literal(value, datatype)
    except ValueError as error:
        raise InputError(f"{where}: {error}") from None
    raise InputError(f"{where}: unknown RDF term type {kind!r}")


def _pyld_blank_node(value: object) -> BlankNode:
    if not isinstance(value, str) or not value.startswith("_:"):
        raise ValueError(f"{value!r} is not a blank node identifier")
    return BlankNode(value[2:])


def quads_from_pyld(dataset: Mapping[str, Any]) -> list[Quad]:
    """Turn the dataset :func:`pyld.jsonld.to_rdf` returns (no ``format`` option) into quads.

    ``dataset`` maps a graph name (``"@default"``, an IRI or ``"_:label"``) to a list of
    triples whose terms are ``{"type": "IRI" | "blank node" | "literal", "value": …}``;
    literals also carry ``datatype`` and, for ``rdf:langString``, ``language``. Repeated
    quads are kept once. Anything that would not be a valid RDF term (a relative IRI, an
    IRI with spaces or ``<>``, a blank-node predicate) raises
    :class:`~issuer.core.errors.InputError`, because it could not be written unambiguously.
    """
    quads: dict[Quad, None] = {}
    for graph_name, triples in dataset.items():
        graph: IRI | BlankNode | None
        try:
            if graph_name == "@default":
                graph = None
            elif isinstance(graph_name, str) and graph_name.startswith("_:"):
                graph = _pyld_blank_node(graph_name)
            else:
                graph = IRI(graph_name)
        except ValueError as error:
            raise InputError(f"graph name: {error}") from None
        for triple in triples:
            subject = _pyld_term(triple["subject"], "subject")
            predicate = _pyld_term(triple["predicate"], "predicate")
            obj = _pyld_term(triple["object"], "object")
            if isinstance(subject, Literal):
                raise InputError("subject: a literal cannot be a subject")
            if not isinstance(predicate, IRI):
                raise InputError(f"predicate: {predicate!r} is not an IRI")
            quads[Quad(subject, predicate, obj, graph)] = None
    return list(quads)
