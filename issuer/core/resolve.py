"""Finding and trusting the key behind a signature.

A verification method is trusted only when it is listed, for the proof purpose, in the
controller document of the credential's issuer, and that document came from a source that
speaks for the issuer:

* a ``did:key`` issuer: the DID *is* the key (did:key §3.1.2 Read), resolved locally;
* a controller document the verifier pinned (``--trust``), taken as the resolved document for
  its ``id`` (VC Data Integrity §2.2 Verification Methods; Controlled Identifiers §3.3);
* a document of an issuer hosted by this service (a registry the service supplies);
* a ``did:web`` document, when the caller supplies a way to fetch one
  (:func:`issuer.core.did_web.resolve_did_web`, did:web §2.5.2): the guarded fetcher of
  :mod:`issuer.net`, which the command line and the service plug in unless offline.

A key is never taken from a URL fragment alone (``https://issuer.example#z6Mk…``): anybody can
mint such a URL, so it says nothing about who controls the key (OB 3.0 Implementation Guide,
"Key provenance").

A method's ``revoked`` time (Controlled Identifiers §2.2) travels with the key it resolves to,
so that the verifier can refuse proofs made at or after it while older ones keep verifying.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from issuer.core.datetimes import parse_datetime
from issuer.core.dids import DID_KEY_PREFIX, DID_WEB_PREFIX, resolve_did_key
from issuer.core.errors import InputError, IssuerError, KeyFormatError, ResolutionError
from issuer.core.keys import (
    PublicKey,
    public_key_from_jwk,
    public_key_from_verification_method,
)

if TYPE_CHECKING:
    from issuer.core.did_web import DocumentFetch

__all__ = [
    "RELATIONSHIPS",
    "ControllerDocument",
    "DocumentSource",
    "ResolvedKey",
    "Resolver",
]

#: Looks up a controller document by its id; returns None when it does not know the id.
DocumentSource = Callable[[str], Mapping[str, Any] | None]


def _absolute(ref: str, base: str) -> str:
    if ref.startswith("#"):
        return base + ref
    return ref


#: Verification relationships this service acts on (Controlled Identifiers §2.3).
RELATIONSHIPS = ("assertionMethod", "authentication")


@dataclass(frozen=True)
class ControllerDocument:
    """A controller document (DID document or any document with the same members).

    Controlled Identifiers §2.1: ``id``, ``verificationMethod`` and the verification
    relationships such as ``assertionMethod``.
    """

    id: str
    methods: Mapping[str, Mapping[str, Any]]
    relationships: Mapping[str, frozenset[str]]
    source: str = "trusted document"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def assertion_method(self) -> frozenset[str]:
        return self.relationships.get("assertionMethod", frozenset())

    def authorised(self, purpose: str) -> frozenset[str]:
        return self.relationships.get(purpose, frozenset())

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], *, source: str = "trusted document") -> (
        ControllerDocument
    ):
        if not isinstance(doc, Mapping):
            raise ResolutionError("a controller document must be a JSON object")
        doc_id = doc.get("id")
        if not isinstance(doc_id, str) or not doc_id:
            raise ResolutionError("a controller document needs an 'id'")
        methods: dict[str, Mapping[str, Any]] = {}
        raw_methods = doc.get("verificationMethod", [])
        if isinstance(raw_methods, Mapping):
            raw_methods = [raw_methods]
        if not isinstance(raw_methods, list):
            raise ResolutionError(f"{doc_id}: 'verificationMethod' must be a list")
        for vm in raw_methods:
            if not isinstance(vm, Mapping) or not isinstance(vm.get("id"), str):
                raise ResolutionError(f"{doc_id}: every verification method needs an 'id'")
            methods[_absolute(vm["id"], doc_id)] = vm
        relationships: dict[str, frozenset[str]] = {}
        for relation in RELATIONSHIPS:
            authorised: set[str] = set()
            raw = doc.get(relation, [])
            if isinstance(raw, str | Mapping):
                raw = [raw]
            if not isinstance(raw, list):
                raise ResolutionError(f"{doc_id}: {relation!r} must be a list")
            for entry in raw:
                if isinstance(entry, str):
                    authorised.add(_absolute(entry, doc_id))
                elif isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                    # An embedded method is both defined and authorised here.
                    vm_id = _absolute(entry["id"], doc_id)
                    methods[vm_id] = entry
                    authorised.add(vm_id)
            relationships[relation] = frozenset(authorised)
        return cls(
            id=doc_id,
            methods=methods,
            relationships=relationships,
            source=source,
            raw=dict(doc),
        )


@dataclass(frozen=True)
class ResolvedKey:
    """A public key that the issuer's controller document authorises."""

    method_id: str
    controller: str
    public_key: PublicKey
    source: str
    #: Controlled Identifiers §2.2 ``revoked``: proofs made at or after this moment must not
    #: verify; what the key signed before it still does.
    revoked: datetime | None = None


def _revoked(vm: Mapping[str, Any], method_id: str) -> datetime | None:
    """The method's ``revoked`` time; an unreadable one makes the key unusable, never valid."""
    value = vm.get("revoked")
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except InputError:
        raise ResolutionError(
            f"the key {method_id} has an unreadable 'revoked' date ({str(value)[:40]!r}), "
            "so it cannot be trusted"
        ) from None


@dataclass
class Resolver:
    """Resolves verification methods against trusted controller documents.

    ``registry`` answers for issuers this service hosts; ``fetch`` gets a did:web document
    by its URL (None: did:web DIDs are resolved only through the other sources).
    """

    trusted: dict[str, ControllerDocument] = field(default_factory=dict)
    registry: DocumentSource | None = None
    fetch: DocumentFetch | None = None

    @classmethod
    def with_trusted(
        cls,
        documents: Iterable[Mapping[str, Any]] = (),
        *,
        registry: DocumentSource | None = None,
        fetch: DocumentFetch | None = None,
    ) -> Resolver:
        trusted: dict[str, ControllerDocument] = {}
        for doc in documents:
            cd = ControllerDocument.from_json(doc)
            trusted[cd.id] = cd
        return cls(trusted=trusted, registry=registry, fetch=fetch)

    def controller_document(self, controller_id: str) -> ControllerDocument:
        """The controller document for ``controller_id``, from the first source that has it."""
        if controller_id in self.trusted:
            return self.trusted[controller_id]
        if self.registry is not None:
            doc = self.registry(controller_id)
            if doc is not None:
                return ControllerDocument.from_json(doc, source="issuer hosted here")
        if controller_id.startswith(DID_KEY_PREFIX):
            return ControllerDocument.from_json(resolve_did_key(controller_id), source="did:key")
        if controller_id.startswith(DID_WEB_PREFIX):
            if self.fetch is None:
                raise ResolutionError(
                    f"the DID document of {controller_id} cannot be fetched offline; "
                    "pin a copy of it as a trusted controller document"
                )
            # Loaded when a did:web issuer is met: a did:key badge needs none of it.
            from issuer.core.did_web import resolve_did_web

            return ControllerDocument.from_json(
                resolve_did_web(controller_id, self.fetch), source="did:web"
            )
        raise ResolutionError(
            f"no trusted controller document for the issuer {controller_id}: its keys cannot "
            "be confirmed (a key named only in a URL fragment is not trusted)"
        )

    def assertion_key(
        self, method_id: str, issuer_id: str, *, purpose: str = "assertionMethod"
    ) -> ResolvedKey:
        """The key ``method_id`` if the issuer's controller document authorises it.

        VC Data Integrity §4.2 (verify proof) and Controlled Identifiers §3.3 (retrieve
        verification method): the method must be listed under ``assertionMethod`` of the
        issuer's document and its ``controller`` must be the issuer.
        """
        if not isinstance(method_id, str) or not method_id:
            raise ResolutionError("the proof names no verification method")
        doc = self.controller_document(issuer_id)
        if method_id not in doc.authorised(purpose):
            revoked = doc.methods.get(method_id, {}).get("revoked")
            if isinstance(revoked, str):
                raise ResolutionError(
                    f"the key {method_id} was revoked on {revoked[:40]} and is no longer "
                    f"listed under {purpose} by {issuer_id} (according to its {doc.source})"
                )
            raise ResolutionError(
                f"the key {method_id} is not listed under {purpose} by {issuer_id} "
                f"(according to its {doc.source})"
            )
        vm = doc.methods.get(method_id)
        if vm is None and method_id.startswith("did:key:") and doc.source != "did:key":
            # A pinned document may authorise a did:key method by reference only.
            vm = ControllerDocument.from_json(resolve_did_key(method_id)).methods.get(method_id)
        if vm is None:
            raise ResolutionError(f"the key {method_id} is listed but not defined by {issuer_id}")
        controller = vm.get("controller", doc.id)
        if controller != doc.id and not method_id.startswith("did:key:"):
            raise ResolutionError(
                f"the key {method_id} is controlled by {controller}, not by the issuer {doc.id}"
            )
        try:
            key = public_key_from_verification_method(vm)
        except KeyFormatError as exc:
            raise ResolutionError(f"the key {method_id} cannot be used: {exc.message}") from None
        return ResolvedKey(method_id=method_id, controller=doc.id, public_key=key,
                           source=doc.source, revoked=_revoked(vm, method_id))

    def jwt_key(
        self, issuer_id: str, *, kid: str | None, jwk: Mapping[str, Any] | None
    ) -> ResolvedKey:
        """The issuer's key for a JWS, found by ``kid`` or matched against a header ``jwk``.

        OB 3.0 §8.2.6 step 2 takes the key from ``kid`` or ``jwk``; a header ``jwk`` is used
        only when the issuer's controller document publishes the same key, because a key
        carried in the token proves nothing about who made the token.
        """
        doc = self.controller_document(issuer_id)
        header_key: PublicKey | None = None
        if jwk is not None:
            if not isinstance(jwk, Mapping):
                raise ResolutionError("the JWT header 'jwk' must be a JSON object")
            if "d" in jwk:
                raise ResolutionError("the JWT header 'jwk' contains a private key")
            try:
                header_key = public_key_from_jwk(dict(jwk))
            except KeyFormatError as exc:
                raise ResolutionError(f"the JWT header 'jwk' is unusable: {exc.message}") from None
        for vm_id in sorted(doc.assertion_method):
            vm = doc.methods.get(vm_id)
            if vm is None:
                continue
            try:
                key = public_key_from_verification_method(vm)
            except IssuerError:
                continue
            if kid is not None and not _kid_matches(kid, vm_id, vm, key, doc.id):
                continue
            if header_key is not None and key != header_key:
                continue
            return ResolvedKey(method_id=vm_id, controller=doc.id, public_key=key,
                               source=doc.source, revoked=_revoked(vm, vm_id))
        named = f"kid {kid!r}" if kid is not None else "the key in the JWT header"
        if kid is None and header_key is None:
            named = "any key (the JWT header has neither 'kid' nor 'jwk')"
        raise ResolutionError(
            f"{named} is not an assertion method of {issuer_id} (according to its {doc.source})"
        )


def _kid_matches(
    kid: str, vm_id: str, vm: Mapping[str, Any], key: PublicKey, doc_id: str
) -> bool:
    if kid in (vm_id, vm.get("id")) or _absolute(kid, doc_id) == vm_id:
        return True
    jwk = vm.get("publicKeyJwk")
    if isinstance(jwk, Mapping) and jwk.get("kid") == kid:
        return True
    try:
        return key.thumbprint() == kid
    except IssuerError:
        return False
