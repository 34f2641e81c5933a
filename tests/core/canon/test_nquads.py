"""The N-Quads reader, the canonical N-Quads writer and the pyld dataset bridge."""

from __future__ import annotations

import copy

import pytest
from pyld import jsonld

from issuer.core.canon.nquads import (
    IRI,
    RDF_DIR_LANG_STRING,
    RDF_LANG_STRING,
    XSD_STRING,
    BlankNode,
    Literal,
    Quad,
    parse_nquads,
    quads_from_pyld,
    serialize_quad,
    serialize_term,
)
from issuer.core.canon.rdfc import canonicalize_quads
from issuer.core.errors import InputError

XSD = "http://www.w3.org/2001/XMLSchema#"

# ---------------------------------------------------------------------------- reading


def test_reads_terms_graphs_comments_and_blank_lines() -> None:
    text = (
        "# a comment line\n"
        "\n"
        "<urn:s> <urn:p> <urn:o> .\n"
        '_:b1 <urn:p> "plain" <urn:g> .   # trailing comment\n'
        '\t_:b1\t<urn:p>\t"chat"@fr-BE\t_:g1\t.\r\n'
        '<urn:s> <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\r'
        "<urn:s><urn:p>_:b1.\n"
        "   \t  \n"
        '<urn:s> <urn:p> "x"@en--rtl .'
    )
    assert parse_nquads(text) == [
        Quad(IRI("urn:s"), IRI("urn:p"), IRI("urn:o")),
        Quad(BlankNode("b1"), IRI("urn:p"), Literal("plain"), IRI("urn:g")),
        Quad(BlankNode("b1"), IRI("urn:p"), Literal("chat", language="fr-BE"), BlankNode("g1")),
        Quad(IRI("urn:s"), IRI("urn:p"), Literal("1", XSD + "integer")),
        Quad(IRI("urn:s"), IRI("urn:p"), BlankNode("b1")),
        Quad(IRI("urn:s"), IRI("urn:p"), Literal("x", language="en", direction="rtl")),
    ]


def test_version_directive_is_accepted() -> None:
    assert parse_nquads('VERSION "1.2"\n<urn:s> <urn:p> <urn:o> .\n') == [
        Quad(IRI("urn:s"), IRI("urn:p"), IRI("urn:o"))
    ]


def test_blank_node_labels_follow_the_grammar() -> None:
    quads = parse_nquads("_:a.b-c_d <urn:p> _:0x .\n_:\u00e9t\u00e9 <urn:p> _:a\u00b7b .\n")
    assert [q.subject for q in quads] == [BlankNode("a.b-c_d"), BlankNode("\u00e9t\u00e9")]
    assert [q.object for q in quads] == [BlankNode("0x"), BlankNode("a\u00b7b")]


def test_escapes_in_literals_and_iris() -> None:
    text = (
        "<urn:ex:\\u0041\\U0001F600> <urn:p> "
        '"\\t\\b\\n\\r\\f\\"\\\'\\\\ \\u00e9\\u00E9 \\U0001F600 caf\u00e9" .\n'
    )
    (quad,) = parse_nquads(text)
    assert quad.subject == IRI("urn:ex:A\U0001f600")
    assert quad.object == Literal("\t\b\n\r\f\"'\\ \u00e9\u00e9 \U0001f600 caf\u00e9")


def test_repeated_quads_are_dropped() -> None:
    text = (
        '<urn:s> <urn:p> "x" .\n'
        '<urn:s> <urn:p> "x"^^<http://www.w3.org/2001/XMLSchema#string> .\n'
        '<urn:s> <urn:p> "x" <urn:g> .\n'
        '<urn:s> <urn:p> "\\u0078" .\n'
    )
    assert parse_nquads(text) == [
        Quad(IRI("urn:s"), IRI("urn:p"), Literal("x")),
        Quad(IRI("urn:s"), IRI("urn:p"), Literal("x"), IRI("urn:g")),
    ]


def test_quads_are_hashable_values() -> None:
    a = Quad(BlankNode("b"), IRI("urn:p"), Literal("v", language="en"), None)
    b = Quad(BlankNode("b"), IRI("urn:p"), Literal("v", RDF_LANG_STRING, "en"))
    assert a == b
    assert len({a, b}) == 1
    with pytest.raises(AttributeError):
        a.subject = IRI("urn:x")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("<urn:s> <urn:p> <urn:o> .\n<urn:s> <urn:p> <urn:o>\n", 2, "found the end of the line"),
        ("<urn:s> <urn:p> <urn:o> .\r\n\r\n<rel> <urn:p> <urn:o> .\r\n", 3, "not an absolute IRI"),
        ('"lit" <urn:p> <urn:o> .\n', 1, "expected a subject"),
        ("_:s _:p <urn:o> .\n", 1, "predicate must be an IRI"),
        ('<urn:s> <urn:p> "open .\n', 1, "expected an object"),
        ('<urn:s> <urn:p> "\\q" .\n', 1, "expected an object"),
        ('<urn:s> <urn:p> "\\uD800" .\n', 1, "not a Unicode scalar value"),
        ('<urn:s> <urn:p> "\\U00110000" .\n', 1, "not a Unicode scalar value"),
        ("<urn:s> <urn:p> <urn:a b> .\n", 1, "expected an object"),
        ("<urn:s> <urn:p> <urn:a\\u0020b> .\n", 1, "character IRIs do not allow"),
        ('<urn:s> <urn:p> <urn:o> "g" .\n', 1, "expected a graph name"),
        ("<urn:s> <urn:p> <urn:o> . extra\n", 1, "unexpected text after the final '.'"),
        ("<urn:s> <urn:p> <urn:o> <urn:g> <urn:h> .\n", 1, "expected the final '.'"),
        (
            '<urn:s> <urn:p> "x"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#langString> .\n',
            1,
            "need a language tag",
        ),
        ('<urn:s> <urn:p> "x"@en--up .\n', 1, 'neither "ltr" nor "rtl"'),
        ('<urn:s> <urn:p> "x"^^"y" .\n', 1, "expected a datatype IRI"),
        ("<urn:s> <urn:p> <<( <urn:a> <urn:b> <urn:c> )>> .\n", 1, "triple terms"),
        ("_:a. <urn:p> <urn:o> .\n", 1, "expected a predicate IRI"),
        ("<urn:s> <urn:p> <urn:o> .\n\n\n\n<urn:s> <urn:p>\n", 5, "expected an object"),
        ('<urn:s> <urn:p> "\ud800" .\n', 1, "lone surrogate"),
    ],
)
def test_bad_input_names_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_nquads(text)
    assert f"N-Quads line {line}," in caught.value.message
    assert message in caught.value.message


# ---------------------------------------------------------------------------- writing


def canonical_escape(char: str) -> str:
    """RDF 1.2 N-Triples §3 (canonical form) for one character inside a literal, written
    out rule by rule."""
    echar = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    echar.update({'"': '\\"', "\\": "\\\\"})
    if char in echar:
        return echar[char]
    code = ord(char)
    if code <= 0x1F or code == 0x7F or code in (0xFFFE, 0xFFFF) or 0xD800 <= code <= 0xDFFF:
        return "\\u" + format(code, "04x").upper()
    return char


SAMPLE_CHARS = [chr(c) for c in range(0x00, 0x100)] + [
    "\u2028",
    "\u2070",
    "\ufffd",
    "\ufffe",
    "\uffff",
    "\U0001f303",
    "\U0010fffd",
]


@pytest.mark.parametrize("char", SAMPLE_CHARS, ids=lambda c: f"U+{ord(c):04X}")
def test_literal_escaping_follows_the_canonical_rules(char: str) -> None:
    quad = Quad(IRI("urn:s"), IRI("urn:p"), Literal(f"a{char}b"))
    line = serialize_quad(quad)
    assert line == f'<urn:s> <urn:p> "a{canonical_escape(char)}b" .\n'
    assert parse_nquads(line) == [quad]


def test_lone_surrogate_is_written_as_uchar() -> None:
    assert serialize_term(Literal("\ud83d")) == '"\\uD83D"'


def test_term_forms() -> None:
    assert serialize_term(Literal("x", XSD_STRING)) == '"x"'
    assert serialize_term(Literal("x", XSD + "integer")) == f'"x"^^<{XSD}integer>'
    assert serialize_term(Literal("x", language="en-GB")) == '"x"@en-GB'
    assert serialize_term(Literal("x", language="ar", direction="rtl")) == '"x"@ar--rtl'
    assert serialize_term(IRI("urn:\u00e9")) == "<urn:\u00e9>"
    assert serialize_term(BlankNode("c14n0")) == "_:c14n0"
    graph_quad = Quad(BlankNode("a"), IRI("urn:p"), IRI("urn:o"), BlankNode("g"))
    assert serialize_quad(graph_quad) == "_:a <urn:p> <urn:o> _:g .\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: IRI("relative/path"), "not an absolute IRI"),
        (lambda: IRI("urn:a> <urn:b"), "IRIs do not allow"),
        (lambda: IRI("urn:a\nb"), "IRIs do not allow"),
        (lambda: BlankNode("a b"), "not a valid blank node label"),
        (lambda: BlankNode(""), "not a valid blank node label"),
        (lambda: BlankNode("ends."), "not a valid blank node label"),
        (lambda: Literal("x", "integer"), "datatype"),
        (lambda: Literal("x", language="en us"), "not a valid language tag"),
        (lambda: Literal(1), "lexical form"),  # type: ignore[arg-type]
    ],
)
def test_terms_that_could_not_be_written_unambiguously_are_refused(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_misplaced_terms_are_refused() -> None:
    with pytest.raises(TypeError, match="subject"):
        Quad(Literal("x"), IRI("urn:p"), IRI("urn:o"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="predicate"):
        Quad(IRI("urn:s"), BlankNode("p"), IRI("urn:o"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not an RDF term"):
        Quad(IRI("urn:s"), IRI("urn:p"), "urn:o")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="graph name"):
        Quad(IRI("urn:s"), IRI("urn:p"), IRI("urn:o"), Literal("g"))  # type: ignore[arg-type]


def test_inconsistent_literals_are_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        Literal("x", RDF_LANG_STRING)
    with pytest.raises(ValueError, match="language"):
        Literal("x", XSD + "integer", "en")
    with pytest.raises(ValueError, match="direction"):
        Literal("x", RDF_DIR_LANG_STRING, "en", "up")
    assert Literal("x", language="en", direction="ltr").datatype == RDF_DIR_LANG_STRING


def test_escaped_input_round_trips() -> None:
    text = (
        '<urn:ex:\\u00e9> <urn:p> "tab\\there \\u0001 \\u007f \\\\ \\"q\\"" .\n'
        '<urn:s> <urn:p> "line\\nbreak"@en .\n'
    )
    written = "".join(serialize_quad(q) for q in parse_nquads(text))
    assert written == (
        '<urn:ex:\u00e9> <urn:p> "tab\\there \\u0001 \\u007F \\\\ \\"q\\"" .\n'
        '<urn:s> <urn:p> "line\\nbreak"@en .\n'
    )
    assert parse_nquads(written) == parse_nquads(text)


# ---------------------------------------------------------------------------- pyld bridge


def offline_loader(url: str, options: dict | None = None) -> dict:
    raise RuntimeError(f"no remote contexts in this test: {url}")


CONTEXT = {
    "@version": 1.1,
    "ex": "https://example.org/vocab#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "id": "@id",
    "type": "@type",
    "name": "ex:name",
    "label": {"@id": "ex:label", "@language": "en"},
    "issued": {"@id": "ex:issued", "@type": "xsd:dateTime"},
    "score": "ex:score",
    "ratio": "ex:ratio",
    "passed": "ex:passed",
    "data": {"@id": "ex:data", "@type": "@json"},
    "steps": {"@id": "ex:steps", "@container": "@list"},
    "achievement": {"@id": "ex:achievement", "@type": "@id"},
    "evidence": "ex:evidence",
    "claims": {"@id": "ex:claims", "@container": "@graph"},
    "note": "ex:note",
}

DOCUMENT = {
    "@context": CONTEXT,
    "id": "urn:uuid:9a6f4c1e-0000-4000-8000-000000000001",
    "type": ["ex:Credential", "ex:Badge"],
    "name": 'Quotes " and \\ backslash,\ttab, newline\nand caf\u00e9 \U0001f3c5',
    "label": "Open Badge",
    "issued": "2024-05-01T12:00:00Z",
    "score": 42,
    "ratio": 0.75,
    "passed": True,
    "data": {"z": [1, 2.5, None], "a": "\u00e9"},
    "steps": ["first", {"name": "second"}, "first"],
    "achievement": "https://example.org/achievements/1",
    # Two identical anonymous objects: their blank nodes share a first-degree hash, so the
    # N-degree path runs too.
    "evidence": [{"name": "Portfolio", "note": "same"}, {"name": "Portfolio", "note": "same"}],
    "claims": {"name": "inside a blank-node named graph"},
    "ex:nested": {
        "@id": "https://example.org/graphs/1",
        "@graph": [
            {"name": "inside an IRI named graph", "label": {"@value": "Hallo", "@language": "de"}}
        ],
    },
}


def pyld_options(**extra: object) -> dict:
    return {"documentLoader": offline_loader, **extra}


def test_matches_pyld_normalisation() -> None:
    dataset = jsonld.to_rdf(copy.deepcopy(DOCUMENT), pyld_options())
    ours = canonicalize_quads(quads_from_pyld(dataset))
    theirs = jsonld.normalize(
        copy.deepcopy(DOCUMENT),
        pyld_options(algorithm="URDNA2015", format="application/n-quads"),
    )
    assert ours == theirs
    # The document exercises what it claims to.
    assert "_:c14n" in ours
    assert '"Open Badge"@en' in ours
    assert "<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON>" in ours


def test_graph_names_and_terms_from_pyld() -> None:
    dataset = jsonld.to_rdf(copy.deepcopy(DOCUMENT), pyld_options())
    quads = quads_from_pyld(dataset)
    graphs = {q.graph for q in quads}
    assert None in graphs
    assert IRI("https://example.org/graphs/1") in graphs
    assert any(isinstance(g, BlankNode) for g in graphs)
    objects = {q.object for q in quads}
    assert Literal("Hallo", language="de") in objects
    assert Literal("42", XSD + "integer") in objects
    assert Literal("7.5E-1", XSD + "double") in objects
    assert Literal("true", XSD + "boolean") in objects
    assert Literal("2024-05-01T12:00:00Z", XSD + "dateTime") in objects
    json_literal = Literal(
        '{"a":"\u00e9","z":[1,2.5,null]}', "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
    )
    assert json_literal in objects


def test_direction_as_i18n_datatype() -> None:
    document = {
        "@context": {"ex": "https://example.org/vocab#"},
        "@id": "urn:x",
        "ex:title": {
            "@value": "\u0645\u0631\u062d\u0628\u0627",
            "@language": "ar",
            "@direction": "rtl",
        },
    }
    dataset = jsonld.to_rdf(document, pyld_options(rdfDirection="i18n-datatype"))
    (quad,) = quads_from_pyld(dataset)
    assert quad.object == Literal(
        "\u0645\u0631\u062d\u0628\u0627", "https://www.w3.org/ns/i18n#ar_rtl"
    )


def triple(subject: dict, predicate: dict, obj: dict) -> dict:
    return {"subject": subject, "predicate": predicate, "object": obj}


IRI_P = {"type": "IRI", "value": "urn:p"}
IRI_S = {"type": "IRI", "value": "urn:s"}


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ({"@default": [triple({"type": "IRI", "value": "rel"}, IRI_P, IRI_S)]}, "absolute IRI"),
        (
            {"@default": [triple(IRI_S, IRI_P, {"type": "IRI", "value": "urn:a> <urn:b"})]},
            "IRIs do not allow",
        ),
        (
            {"@default": [triple(IRI_S, {"type": "blank node", "value": "_:p"}, IRI_S)]},
            "is not an IRI",
        ),
        ({"@default": [triple(IRI_S, IRI_P, {"type": "blank node", "value": "b0"})]}, "blank node"),
        (
            {
                "@default": [
                    triple(
                        IRI_S,
                        IRI_P,
                        {"type": "literal", "value": "x", "datatype": RDF_LANG_STRING},
                    )
                ]
            },
            "language tag",
        ),
        (
            {"@default": [triple(IRI_S, IRI_P, {"type": "literal", "value": 3})]},
            "lexical form of a literal is a string",
        ),
        ({"@default": [triple(IRI_S, IRI_P, {"type": "quoted", "value": "x"})]}, "unknown"),
        ({"not an iri": [triple(IRI_S, IRI_P, IRI_S)]}, "graph name"),
    ],
)
def test_pyld_datasets_that_are_not_rdf_are_refused(dataset: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        quads_from_pyld(dataset)


def test_pyld_repeated_triples_count_once() -> None:
    t = triple(IRI_S, IRI_P, {"type": "literal", "value": "x", "datatype": XSD_STRING})
    assert quads_from_pyld({"@default": [t, t], "urn:g": [t]}) == [
        Quad(IRI("urn:s"), IRI("urn:p"), Literal("x")),
        Quad(IRI("urn:s"), IRI("urn:p"), Literal("x"), IRI("urn:g")),
    ]
