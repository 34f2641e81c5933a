"""The fast canonicalization path against the general one, on generated credentials.

``issuer.core.canon.canonicalize`` converts documents itself when it can and hands the
rest to the general path (pyld expansion in safe mode, pyld's RDF conversion); both end in the
same RDFC-1.0. Whatever the fast path does, the outcome must be the general path's: the same
canonical N-Quads, or the same error.

Documents are built from the bundled contexts themselves: a node of some type gets properties
from the global terms and from its type-scoped context, and each value is shaped by the term's
definition (``@id``, ``@vocab``, ``@json``, xsd datatypes, ``@list`` and ``@graph``
containers). Around that come plain JSON variety (unicode, numbers in every JSON form, value
objects with languages and datatypes, blank-node-heavy and look-alike shapes, embedded
credentials with their own contexts) and, in a minority of documents, one fault the safe mode
must refuse or the fast path must leave to the general path.

Hypothesis only draws a seed per document; the document is built with ``random.Random(seed)``
so that 10,000 of them are cheap to make. ``derandomize`` keeps the run reproducible, and a
failure names its seed: ``generate(seed)`` rebuilds the document.

By default 500 documents are compared, which takes seconds; ``ISSUER_TEST_FULL=1`` (set in CI)
compares 10,000, which takes minutes.
"""

from __future__ import annotations

import json
import os
import random
import string
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuer.core.bundled import bundled_loader
from issuer.core.canon import canonicalize_general
from issuer.core.canon.fast_path import Unsupported, canonicalize_fast
from issuer.core.canon.rdfc import WorkBudget

LOADER = bundled_loader()

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
OB30 = "https://purl.imsglobal.org/spec/ob/v3p0/context.json"
OB301 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"
OB302 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CLR201 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
DI_V2 = "https://w3id.org/security/data-integrity/v2"
STATUS_2021 = "https://w3id.org/vc/status-list/2021/v1"

# Context lists seen in practice, weighted towards OB 3.0 on VCDM 2.0. A few combine
# contexts that conflict (protected terms redefined), which the general path refuses.
PROFILES: list[tuple[int, list[str]]] = [
    (30, [V2, OB303]),
    (10, [V2, OB302]),
    (8, [V2, OB303, EXTENSIONS]),
    (10, [V2, OB303, EXAMPLES]),
    (6, [V2, EXAMPLES]),
    (6, [V1, OB30]),
    (4, [V1, OB301]),
    (4, [V2, CLR201, OB303]),
    (3, [V1, STATUS_2021]),
    (2, [V2, DI_V2]),
    (1, [V1, V2]),
]
PROFILE_WEIGHTS = [w for w, _ in PROFILES]

IRIS = [
    "https://example.edu/issuers/565049",
    "https://example.com/achievements/21st-century-skills/teamwork",
    "http://example.com/credentials/3527",
    "urn:uuid:2d4c5f6e-0a7b-4c1d-9e8f-1a2b3c4d5e6f",
    "did:example:ebfeb1f712ebc6f1c276e12ec21",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "https://example.org/é/ü?q=1&r=ß#frag",
    "mailto:learner@example.org",
    "https://example.org/a%20b",
    "tag:example.org,2024:badge",
    "xsd:integer",
    "https://example.org/💡",
]
WORDS = ["Teamwork", "badge", "Peer Scaffolder", "", " ", "x" * 40, "Ünïcödé", "日本語", "🎓✨"]
SPECIAL = [
    '"',
    "\\",
    "\n",
    "\r",
    "\t",
    "\b",
    "\f",
    "\x00",
    "\x1f",
    "\x7f",
    "\u0085",
    "\u2028",
    "\ufffe",
    "\uffff",
    "\ud800",
    "𝒳",
    "e\u0301",
    "<>",
    "^^",
    "@en",
    "_:b0",
]
NUMBER_TEXTS = [
    "0",
    "-0",
    "1",
    "-1",
    "42",
    "7",
    "1.0",
    "-0.0",
    "2.5",
    "0.1",
    "-1.5e-7",
    "1e3",
    "1E3",
    "1e21",
    "1e+21",
    "-1e21",
    "1e22",
    "1.7976931348623157e308",
    "5e-324",
    "123456789012345678901",
    "12345678901234567890123",
    "999999999999999999999",
    "9007199254740993",
    "-9223372036854775809",
    "3.14159",
    "1e-7",
    "100000000000000000000.0",
    "1.5E+300",
    "0.30000000000000004",
]
DATES = ["2010-01-01T00:00:00Z", "2026-01-15T12:00:00+01:00", "2010-01-01", "not a date", ""]
LANGUAGES = ["en", "EN-gb", "fr", "de-CH-1901", "zh-Hant-TW", "x-private"] * 4 + [
    "en_US",
    "e n",
    "",
]
XSD = "http://www.w3.org/2001/XMLSchema#"
DATATYPES = [
    XSD + "string",
    XSD + "date",
    XSD + "integer",
    XSD + "double",
    XSD + "boolean",
    "https://example.org/dt",
    "xsd:decimal",
] * 3 + ["Achievement", "@id", "_:dt"]


# Terms with the rarer definitions (a list container, property-scoped contexts, @vocab and
# @json values): included more often than a uniform pick would.
PRIORITY = ("allowedValue", "proofPurpose", "statusMessage", "cnf", "jsonSchema")
FAVOURED = (
    "ResultDescription",
    "DataIntegrityProof",
    "BitstringStatusListEntry",
    "JsonSchema",
    "Achievement",
    "Profile",
    "Result",
    "VerifiablePresentation",
)


def _schema(urls: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Global property terms and, per class, the terms its type-scoped context adds."""
    properties: dict[str, Any] = {}
    classes: dict[str, dict[str, Any]] = {}
    for url in urls:
        try:
            context = LOADER.get(url)["@context"]
        except Exception:
            continue
        for name, definition in context.items():
            if name.startswith("@") or name in ("id", "type"):
                continue
            if name[:1].isupper():
                scoped = definition.get("@context") if isinstance(definition, dict) else None
                classes[name] = {
                    k: v
                    for k, v in (scoped or {}).items()
                    if not k.startswith("@") and k not in ("id", "type")
                }
            else:
                properties[name] = definition
    return properties, classes


SCHEMAS = {tuple(urls): _schema(urls) for _, urls in PROFILES}


class Builder:
    """One generated document."""

    def __init__(self, rnd: random.Random, urls: list[str]) -> None:
        self.rnd = rnd
        self.urls = urls
        self.properties, self.classes = SCHEMAS[tuple(urls)]
        self.class_names = sorted(self.classes)
        self.shared_bnodes = [f"_:n{i}" for i in range(3)]
        self.vocab = EXAMPLES in urls

    # ------------------------------------------------------------------ scalars

    def string(self) -> str:
        r = self.rnd
        roll = r.random()
        if roll < 0.5:
            return r.choice(WORDS)
        if roll < 0.8:
            return "".join(
                r.choice(SPECIAL + list(string.ascii_letters)) for _ in range(r.randint(1, 8))
            )
        return "".join(chr(r.randint(0x20, 0x2FFF)) for _ in range(r.randint(1, 6)))

    def number(self) -> Any:
        r = self.rnd
        roll = r.random()
        if roll < 0.6:
            return json.loads(r.choice(NUMBER_TEXTS))
        if roll < 0.8:
            return r.randint(-(10**25), 10**25)
        return r.uniform(-1e6, 1e6)

    def iri(self) -> str:
        r = self.rnd
        roll = r.random()
        if roll < 0.7:
            return r.choice(IRIS)
        if roll < 0.9:
            return f"https://example.org/{r.randint(0, 50)}"
        return r.choice(self.shared_bnodes)

    def json_value(self, depth: int) -> Any:
        r = self.rnd
        roll = r.random()
        if depth > 2 or roll < 0.4:
            return r.choice([None, True, False, 0, 1, -2.5, 1e21, "x", 'é"\\', self.number()])
        if roll < 0.7:
            return {
                r.choice(["a", "b", "é", "$schema", "1"]): self.json_value(depth + 1)
                for _ in range(r.randint(0, 3))
            }
        return [self.json_value(depth + 1) for _ in range(r.randint(0, 3))]

    def value_object(self) -> dict[str, Any]:
        r = self.rnd
        roll = r.random()
        if roll < 0.5:
            out: dict[str, Any] = {"@value": self.string(), "@language": r.choice(LANGUAGES)}
        elif roll < 0.9:
            out = {
                "@value": r.choice([self.string(), self.number(), True, "1.5", "2010-01-01"]),
                "@type": r.choice(DATATYPES),
            }
        else:
            out = {"@value": r.choice([self.string(), self.number(), False])}
        return out

    # ------------------------------------------------------------------ values by term

    def value(self, name: str, definition: Any, depth: int) -> Any:
        r = self.rnd
        if isinstance(definition, dict):
            type_mapping = definition.get("@type")
            container = definition.get("@container")
        else:
            type_mapping = container = None
        if container == "@graph":
            if r.random() < 0.8:
                return self.node(
                    depth + 1,
                    types=r.choice([["DataIntegrityProof"], ["VerifiableCredential"], None]),
                )
            return self.iri()
        if container == "@list":
            roll = r.random()
            if roll < 0.1:
                return []
            if roll < 0.2:
                return self.string()
            return [self.plain(depth + 1, objects=roll < 0.5) for _ in range(r.randint(1, 4))]
        if type_mapping == "@json":
            return self.json_value(0)
        if type_mapping == "@id":
            roll = r.random()
            if roll < 0.6:
                return self.iri()
            if roll < 0.8 and depth < 3:
                return self.node(depth + 1, extra=definition.get("@context"))
            return [self.iri() for _ in range(r.randint(0, 3))]
        if type_mapping == "@vocab":
            scoped = definition.get("@context") if isinstance(definition, dict) else None
            options = [k for k in (scoped or {}) if not k.startswith("@")] or ["x"]
            return r.choice([*options, self.iri()])
        if isinstance(type_mapping, str):
            if "dateTime" in type_mapping or "#date" in type_mapping:
                return r.choice(DATES)
            if any(t in type_mapping for t in ("float", "integer", "Integer", "double")):
                return r.choice([self.number(), self.number(), "12", "x"])
            if "boolean" in type_mapping:
                return r.choice([True, False, "true", 1])
            return r.choice([self.string(), self.iri()])
        if isinstance(definition, dict) and isinstance(definition.get("@context"), dict):
            # A property-scoped context: its terms are defined inside the value.
            return self.node(depth + 1, types=None, extra=definition["@context"])
        return self.plain(depth, objects=depth < 3)

    def plain(self, depth: int, *, objects: bool) -> Any:
        r = self.rnd
        roll = r.random()
        if roll < 0.35:
            return self.string()
        if roll < 0.45:
            return self.number()
        if roll < 0.5:
            return r.choice([True, False])
        if roll < 0.6:
            return self.value_object()
        if roll < 0.65:
            return r.choice(DATES)
        if roll < 0.7:
            return [self.plain(depth + 1, objects=False) for _ in range(r.randint(0, 3))]
        if objects and roll < 0.9:
            return self.node(depth + 1)
        if objects:
            # Look-alike blank nodes: the same anonymous shape several times.
            twin = self.node(depth + 1, types=None, size=1)
            return [json.loads(json.dumps(twin)) for _ in range(r.randint(2, 4))]
        return self.string()

    # ------------------------------------------------------------------ nodes

    def node(
        self,
        depth: int,
        types: list[str] | str | None = "pick",
        size: int | None = None,
        extra: dict[str, Any] | None = None,
        force: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        r = self.rnd
        out: dict[str, Any] = {}
        if r.random() < 0.5:
            out["id"] = self.iri()
        if types == "pick":
            favoured = [c for c in FAVOURED if c in self.classes]
            if favoured and r.random() < 0.3:
                types = [r.choice(favoured)]
            elif r.random() < 0.2:
                types = None
            else:
                types = r.sample(
                    self.class_names, k=min(len(self.class_names), r.choice([1, 1, 2]))
                )
        available = dict(self.properties)
        if isinstance(extra, dict):
            available.update(
                {
                    k: v
                    for k, v in extra.items()
                    if not k.startswith("@") and k not in ("id", "type")
                }
            )
        if types:
            out["type"] = types[0] if len(types) == 1 and r.random() < 0.5 else list(types)
            for t in types:
                available.update(self.classes.get(t, {}))
        names = sorted(available)
        count = size if size is not None else r.randint(0, (3, 2, 2, 1)[min(depth, 3)])
        chosen = r.sample(names, k=min(count, len(names)))
        if size is None:
            chosen += [n for n in PRIORITY if n in available and r.random() < 0.5]
        chosen += [n for n in force if n in available]
        for name in chosen:
            out[name] = self.value(name, available[name], depth)
        if self.vocab and r.random() < 0.3:
            out[r.choice(["extraTerm", "Kudos", "issuerDependent"])] = self.plain(
                depth, objects=False
            )
        if r.random() < 0.05:
            out["https://example.org/vocab#absolute"] = self.plain(depth, objects=False)
        return out

    def document(self) -> dict[str, Any]:
        r = self.rnd
        credential_types = ["VerifiableCredential"]
        if "OpenBadgeCredential" in self.classes:
            credential_types.append(r.choice(["OpenBadgeCredential", "AchievementCredential"]))
        elif "ClrCredential" in self.classes and r.random() < 0.5:
            credential_types.append("ClrCredential")
        doc: dict[str, Any] = {"@context": list(self.urls)}
        doc.update(self.node(0, types=credential_types))
        if "AchievementSubject" in self.classes and r.random() < 0.8:
            subject = self.node(1, types=["AchievementSubject"])
            if r.random() < 0.8:
                subject["achievement"] = self.node(2, types=["Achievement"])
            doc["credentialSubject"] = subject
            if "ResultDescription" in self.classes and r.random() < 0.15:
                achievement = subject.get("achievement")
                if not isinstance(achievement, dict):
                    achievement = subject["achievement"] = {"type": "Achievement"}
                achievement["resultDescription"] = [
                    self.node(3, types=["ResultDescription"], force=("allowedValue",))
                ]
        if "DataIntegrityProof" in self.classes and r.random() < 0.1:
            doc["proof"] = self.node(1, types=["DataIntegrityProof"], force=("proofPurpose",))
        if r.random() < 0.15 and "endorsement" in self.properties:
            embedded = self.node(1, types=["VerifiableCredential", "EndorsementCredential"])
            embedded["@context"] = r.choice([list(self.urls), [V2, OB303], V2])
            doc["endorsement"] = [embedded]
        return doc


# One fault per affected document: each either makes safe mode refuse the document or takes
# it outside what the fast path handles.
def _fault(doc: dict[str, Any], rnd: random.Random) -> None:
    nodes = [doc]
    stack = [doc]
    while stack:
        current = stack.pop()
        for value in current.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    nodes.append(item)
                    stack.append(item)
    target = rnd.choice(nodes)
    fault = rnd.randrange(17)
    if fault == 0:
        target["undefinedTermXyz"] = "x"
    elif fault == 1:
        target["id"] = "relative/path"
    elif fault == 2:
        target["id"] = "https://example.org/has space"
    elif fault == 3:
        target["id"] = 42
    elif fault == 4:
        doc["@context"] = [*doc["@context"], "https://example.org/unknown-context"]
    elif fault == 5:
        doc["@context"] = [*doc["@context"], {"inline": "https://example.org/inline"}]
    elif fault == 6:
        target["@context"] = {"local": "https://example.org/local"}
    elif fault == 7:
        target["type"] = "NotAType"
    elif fault == 8:
        target["type"] = None
    elif fault == 9:
        target["name"] = {"@value": "x", "@language": "en", "@direction": "rtl"}
    elif fault == 10:
        target["name"] = [["nested"], "array"]
    elif fault == 11:
        target["@graph"] = [{"id": "https://example.org/g"}]
    elif fault == 12:
        target["name"] = {"@value": None}
    elif fault == 13:
        target["name"] = {"@value": "x", "@type": XSD + "string", "@language": "en"}
    elif fault == 14:
        target["@reverse"] = {"https://example.org/r": {"id": "https://example.org/s"}}
    elif fault == 15:
        target["name"] = {"@list": ["a", "b"]}
    else:
        target["id"] = "https://example.org/\ud800"


def generate(seed: int) -> dict[str, Any]:
    rnd = random.Random(seed)
    urls = rnd.choices([u for _, u in PROFILES], weights=PROFILE_WEIGHTS)[0]
    doc = Builder(rnd, urls).document()
    if rnd.random() < 0.12:
        _fault(doc, rnd)
    # The document as a verifier would read it: through JSON, which also rejects shapes JSON
    # cannot carry.
    return json.loads(json.dumps(doc))


def _outcome(function: Any, doc: dict[str, Any]) -> tuple[str, str]:
    try:
        return ("ok", function(doc, LOADER))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


#: The paths are compared on their output and on the step limits, which are the same on
#: every machine; the time limit (1 s of CPU by default) is raised so that a slow machine's
#: run of one document is not taken for a difference.
BUDGET = WorkBudget(max_seconds=60.0)


def _general(doc: dict[str, Any], loader: Any) -> str:
    return canonicalize_general(doc, loader, budget=BUDGET)


#: Documents compared: all of them when ISSUER_TEST_FULL=1, a quick sample otherwise.
EXAMPLES_COUNT = 10_000 if os.environ.get("ISSUER_TEST_FULL") == "1" else 500


def test_fast_path_equals_general_path_on_generated_credentials() -> None:
    seen: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES_COUNT,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.integers(min_value=0, max_value=2**63))
    def check(seed: int) -> None:
        doc = generate(seed)
        where = f"generate({seed}): " + json.dumps(doc, ensure_ascii=True)[:4000]
        expected = _outcome(_general, doc)
        try:
            actual = ("ok", canonicalize_fast(doc, LOADER, budget=BUDGET))
        except Unsupported:
            # canonicalize() hands these to canonicalize_general() (tested in
            # test_fast_path.py); running the general path twice here would only cost time.
            seen["general"] += 1
        except Exception as exc:
            actual = (type(exc).__name__, str(exc))
            seen["fast"] += 1
            assert actual == expected, where
        else:
            seen["fast"] += 1
            assert actual == expected, where
        seen["ok" if expected[0] == "ok" else "refused"] += 1
        seen["total"] += 1

    check()
    assert seen["total"] >= EXAMPLES_COUNT
    # The comparison means something only if most documents take the fast path and a good
    # share of them are accepted; refusals must still occur, to compare errors too.
    assert seen["fast"] >= 0.7 * seen["total"], seen
    assert seen["ok"] >= 0.75 * seen["total"], seen
    assert seen["refused"] >= 0.05 * seen["total"], seen
