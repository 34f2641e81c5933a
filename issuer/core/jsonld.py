"""JSON-LD processing over a closed set of bundled contexts.

Two rules from the specs shape this module:

* OB 3.0 §A.2 and VC Data Model 2.0 §4.1: a credential is interpreted through the contexts it
  names. A verifier that fetched contexts at run time could be fed a different meaning for the
  same document, so only contexts shipped with the product are ever used, and any other URL is
  refused.
* VC Data Integrity §2.4 (and the `safe mode` of JSON-LD processors): a property or type that
  no context defines is silently dropped by expansion, so it would not be covered by the
  signature. Signing and verifying therefore refuse such documents, naming the term.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from issuer.core.errors import ContextError, InputError, IssuerError, UndefinedTermError
from issuer.core.pyld_adapter import ContextResolver, SafeModeProcessor, jsonld

__all__ = [
    "ISSUER_DEPENDENT_NS",
    "ContextLoader",
    "ExpansionReport",
    "check_context_list",
    "expand_safe",
    "expanded_to_rdf_dataset",
]

#: VC Data Model 2.0 §4.1: the base context maps undefined terms to this namespace. Such
#: terms survive canonicalization but mean nothing outside the issuer, so they are reported.
ISSUER_DEPENDENT_NS = "https://www.w3.org/ns/credentials/issuer-dependent#"

_MAX_CONTEXT_CACHE = 256


class ContextLoader:
    """A JSON-LD document loader that serves only the contexts it was given.

    It is a callable with pyld's loader signature, so it can be passed as ``documentLoader``.
    """

    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        self._documents: dict[str, Mapping[str, Any]] = dict(documents)
        # Each loader keeps its own resolved-context cache: pyld's default cache is global
        # and keyed by URL alone, which would mix two loaders that hold different copies.
        self._cache: LRUCache[Any, Any] = LRUCache(maxsize=_MAX_CONTEXT_CACHE)

    @classmethod
    def from_directory(cls, directory: str | Path) -> ContextLoader:
        """Load every context listed in ``directory/INDEX.json`` (URL → file name)."""
        root = Path(directory)
        index_path = root / "INDEX.json"
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ContextError(f"cannot read the context index {index_path}: {exc}") from exc
        documents: dict[str, Mapping[str, Any]] = {}
        for url, name in index.items():
            path = root / name
            try:
                documents[url] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ContextError(f"cannot read the bundled context {path}: {exc}") from exc
        return cls(documents)

    @property
    def urls(self) -> frozenset[str]:
        return frozenset(self._documents)

    def __contains__(self, url: object) -> bool:
        return url in self._documents

    def get(self, url: str) -> Mapping[str, Any]:
        try:
            return self._documents[url]
        except KeyError:
            raise ContextError(
                f"unknown JSON-LD context {url!r}: only bundled contexts are used, "
                "and contexts are never fetched from the network"
            ) from None

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        document = self.get(url)
        return {
            "contextUrl": None,
            "documentUrl": url,
            # pyld may annotate what it is given; the bundled copy must stay pristine.
            "document": copy.deepcopy(document),
        }

    def options(self, **extra: Any) -> dict[str, Any]:
        """pyld options that route every context load through this loader."""
        opts: dict[str, Any] = {
            "documentLoader": self,
            "contextResolver": ContextResolver(self._cache, self),
            # A relative IRI has no meaning in a credential. pyld resolves one against a
            # made-up base when the base is "", which would sign an IRI nobody wrote; with
            # None it stays relative and the safe-mode walk below refuses it.
            "base": None,
        }
        opts.update(extra)
        return opts


@dataclass(frozen=True)
class ExpansionReport:
    """What safe-mode expansion found besides the expanded document."""

    expanded: list[Any]
    issuer_dependent_terms: tuple[str, ...]


def _context_error(exc: BaseException) -> IssuerError | None:
    """Find the product error behind a pyld error (pyld wraps loader failures)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, IssuerError):
            return current
        details = getattr(current, "details", None)
        if isinstance(details, dict):
            cause = details.get("cause")
            if isinstance(cause, BaseException):
                found = _context_error(cause)
                if found is not None:
                    return found
        current = current.__cause__ or current.__context__
    return None


def _message(exc: BaseException) -> str:
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(parts) < 4:
        text = _one_error(current)
        if text and text not in parts:
            parts.append(text)
        cause = current.__cause__
        details = getattr(current, "details", None)
        if cause is None and isinstance(details, dict):
            found = details.get("cause")
            cause = found if isinstance(found, BaseException) else None
        current = cause
    return "; ".join(parts) or exc.__class__.__name__


_PYLD_PREFIXES = ("Invalid JSON-LD syntax; ", "Invalid JSON-LD syntax: ")


def _one_error(exc: BaseException) -> str:
    """One line for a person: pyld's ``str()`` of its errors is the tuple of their arguments
    followed by lines of internals (type, code, details)."""
    if not isinstance(exc, jsonld.JsonLdError):
        return str(exc).strip()
    first = exc.args[0] if exc.args else ""
    text = first.strip() if isinstance(first, str) else ""
    for prefix in _PYLD_PREFIXES:
        text = text.removeprefix(prefix)
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code and code not in text:
        # The JSON-LD 1.1 API error code (§9.4.2) names the rule that was broken.
        text = f"{text.rstrip('.')} (JSON-LD: {code})" if text else f"JSON-LD: {code}"
    return text


def check_context_list(document: Mapping[str, Any], loader: ContextLoader) -> None:
    """Refuse contexts a verifier cannot vouch for (VC Data Integrity §2.4.1).

    Bundled contexts named by URL, each once. VCDM 2.0 §4.3 also allows a context written
    inline (an object) after the base context; one is accepted when nothing in it can reach
    past the bundled set or quietly change what is signed:

    * ``@import`` and every nested context name a bundled URL (the loader refuses others);
    * no ``@base``: a relative IRI has no meaning in a credential (see
      :meth:`ContextLoader.options`);
    * a protected term (the base context protects its terms) cannot be redefined: expansion
      refuses that (JSON-LD 1.1 §4.1.11, "protected term redefinition"), and an undefined
      term still fails safe mode.
    """
    ctx = document.get("@context")
    contexts = ctx if isinstance(ctx, list) else [ctx]
    seen: set[str] = set()
    for position, entry in enumerate(contexts):
        if isinstance(entry, Mapping) and position > 0:
            _check_inline(entry, loader)
            continue
        if not isinstance(entry, str):
            raise ContextError(
                "an inline (embedded) context is accepted only after the base context, and "
                "contexts must otherwise be named by URL"
            )
        if entry in seen:
            raise ContextError("a context is listed twice")
        seen.add(entry)
        loader.get(entry)


def _check_inline(context: Mapping[str, Any], loader: ContextLoader) -> None:
    """An inline context: every context it reaches is bundled, and it sets no ``@base``."""
    stack: list[Any] = [context]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            loader.get(node)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, Mapping):
            if "@base" in node:
                raise ContextError("an inline context may not set @base: a relative IRI has "
                                   "no meaning in a credential")
            for key, value in node.items():
                if key in ("@import", "@context"):
                    stack.append(value)
                elif isinstance(value, Mapping):
                    stack.append(value)


def _check_document(document: Any) -> None:
    if not isinstance(document, dict):
        raise InputError("a JSON-LD document must be a JSON object")
    ctx = document.get("@context")
    if ctx is None:
        raise UndefinedTermError(
            "the document has no @context, so none of its terms are defined", "@context"
        )


def expand_safe(document: Mapping[str, Any], loader: ContextLoader) -> ExpansionReport:
    """Expand ``document`` and refuse anything expansion would silently lose.

    Refused (UndefinedTermError): a key no context defines, a ``type`` that does not expand to
    an absolute IRI, and a node ``id`` that is not an absolute IRI or blank node. Terms that
    fall into the VCDM 2.0 issuer-dependent namespace are returned, not refused: they are
    signed, but only the issuer knows what they mean (VCDM 2.0 §5.2).
    """
    _check_document(document)
    processor = SafeModeProcessor()
    try:
        expanded = processor.expand(dict(document), loader.options())
    except jsonld.JsonLdError as exc:
        inner = _context_error(exc)
        if inner is not None:
            raise inner from None
        if getattr(exc, "code", None) == "protected term redefinition":
            # JSON-LD 1.1 §4.1.11: the base contexts protect their terms, so a later context
            # cannot give a signed term another meaning.
            raise ContextError(
                "an inline context redefines a protected term of a context before it, which "
                "would change the meaning of signed data (JSON-LD 1.1 protected term "
                "redefinition)") from None
        raise InputError(f"the document is not valid JSON-LD: {_message(exc)}") from None
    except RecursionError:
        raise InputError("the document is nested too deeply to process") from None
    except IssuerError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyld raises plain errors on some hostile input
        raise InputError(f"the document is not valid JSON-LD: {exc}") from None
    if processor.dropped:
        names = processor.dropped
        listed = ", ".join(repr(n) for n in names[:10])
        raise UndefinedTermError(
            f"undefined term(s) {listed}: no context in @context defines them, so they "
            "would not be covered by the signature",
            names[0],
        )
    vocab_terms: list[str] = []
    undefined_types: list[str] = []
    _walk_expanded(expanded, vocab_terms, undefined_types)
    if undefined_types:
        # Each one is named: with "@vocab": null after the base context (JSON-LD 1.1 §4.1.2
        # step 5.8.2) no type outside the contexts expands, and the caller must fix them all.
        listed = ", ".join(repr(t) for t in undefined_types[:10])
        raise UndefinedTermError(
            f"undefined type(s) {listed}: no context in @context defines them, so they "
            "would not be covered by the signature",
            undefined_types[0],
        )
    return ExpansionReport(expanded=expanded, issuer_dependent_terms=tuple(vocab_terms))


#: RFC 3987 excludes these from IRIs; RDF processors drop or reject IRIs that hold them, so a
#: node or type named with one would fall out of the signed data.
_IRI_FORBIDDEN = frozenset(' <>"{}|^`\\') | {chr(c) for c in range(0x21)} | {"\x7f"}


def _is_absolute(iri: str) -> bool:
    scheme, sep, _ = iri.partition(":")
    return (
        bool(sep)
        and scheme[:1].isascii()
        and scheme[:1].isalpha()
        and all(c.isascii() and (c.isalnum() or c in "+-.") for c in scheme)
        and not any(c in _IRI_FORBIDDEN for c in iri)
    )


def _walk_expanded(node: Any, vocab_terms: list[str], undefined_types: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk_expanded(item, vocab_terms, undefined_types)
        return
    if not isinstance(node, dict):
        return
    is_value = "@value" in node
    for key, value in node.items():
        if key == "@id" and isinstance(value, str):
            if not (value.startswith("_:") or _is_absolute(value)):
                raise UndefinedTermError(
                    f"the id {value!r} is not an absolute IRI, so the node would be dropped "
                    "from the signed data",
                    value,
                )
        elif key == "@type":
            types = value if isinstance(value, list) else [value]
            for t in types:
                if not isinstance(t, str):
                    continue
                if is_value and t == "@json":
                    continue
                if not (t.startswith("_:") or _is_absolute(t)):
                    if t not in undefined_types:
                        undefined_types.append(t)
                    continue
                if t.startswith(ISSUER_DEPENDENT_NS):
                    vocab_terms.append(t[len(ISSUER_DEPENDENT_NS) :])
        elif not key.startswith("@"):
            if key.startswith(ISSUER_DEPENDENT_NS):
                vocab_terms.append(key[len(ISSUER_DEPENDENT_NS) :])
            _walk_expanded(value, vocab_terms, undefined_types)
        elif key in ("@list", "@set", "@graph", "@included", "@reverse"):
            _walk_expanded(value, vocab_terms, undefined_types)


def expanded_to_rdf_dataset(expanded: list[Any], loader: ContextLoader) -> dict[str, Any]:
    """Convert an already expanded document to pyld's RDF dataset form."""
    try:
        dataset: dict[str, Any] = jsonld.JsonLdProcessor().to_rdf(
            expanded, loader.options(rdfDirection="i18n-datatype")
        )
    except jsonld.JsonLdError as exc:
        inner = _context_error(exc)
        if inner is not None:
            raise inner from None
        raise InputError(f"the document cannot be turned into RDF: {_message(exc)}") from None
    except IssuerError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyld raises plain errors on some hostile input
        raise InputError(f"the document cannot be turned into RDF: {exc}") from None
    return dataset

