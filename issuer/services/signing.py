"""Signing a document as an issuer hosted here: the one way every use case does it.

The issuer's active key signs with a Data Integrity proof (VC Data Integrity 1.0 §4.2 Add
Proof) whose ``verificationMethod`` is that key in the issuer's DID document, so that
verifiers find it (OB 3.0 §8.3, §9.1 step 2). ``eddsa-rdfc-2022`` is the suite OB 3.0
certification accepts and the default; the VC API may ask for another one this service signs
with: eddsa-jcs-2022 with the same key, ecdsa-rdfc-2019 or ecdsa-jcs-2019 with the issuer's
P-256 or P-384 key (W3C Data Integrity ECDSA Cryptosuites §3.3, §3.4).

A document the core refuses to sign is refused here in one way, :class:`SigningRefused`
(422, with the core's reason), whatever is being signed. A key that cannot be loaded is not
the document's fault and is not turned into a refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from issuer.core.canon import CanonicalMemo
from issuer.core.errors import IssuerError, SigningError
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.issuers import method_id, signing_key
from issuer.services.keys import suite_signing_key
from issuer.storage.models import Issuer, SigningKey

__all__ = ["DEFAULT_SUITE", "ECDSA_DEFAULT_SUITE", "Signed", "SigningRefused", "default_suite",
           "sign_as"]

#: OB 3.0 §8.3 and its conformance tests: the Linked Data proof suite issuers must offer.
DEFAULT_SUITE = "eddsa-rdfc-2022"
#: The suite of an issuer that has only a P-256 or P-384 key (ECDSA Cryptosuites §3.3): the
#: RDF-canonicalizing one, like the EdDSA default.
ECDSA_DEFAULT_SUITE = "ecdsa-rdfc-2019"


class SigningRefused(Invalid):
    """A document that cannot be signed as asked; ``errors`` holds the reason."""

    def __init__(self, what: str, reason: IssuerError) -> None:
        super().__init__(f"the {what} could not be signed: {reason.message}")
        self.errors = [reason.message]


@dataclass(frozen=True)
class Signed:
    """The signed document and the key row that signed it (recorded with what is stored)."""

    document: dict[str, Any]
    key: SigningKey


def default_suite(issuer: Issuer) -> str:
    """The suite ``issuer`` signs with when nobody asks for one: eddsa-rdfc-2022, or
    ecdsa-rdfc-2019 for an issuer without an active Ed25519 key (a P-256 or P-384 did:key)."""
    active = {k.key_type for k in issuer.keys if k.active}
    return ECDSA_DEFAULT_SUITE if active and "Ed25519" not in active else DEFAULT_SUITE


def sign_as(ctx: ServiceContext, issuer: Issuer, document: Mapping[str, Any], now: datetime,
            *, suite: str | None = None, what: str = "credential",
            memo: CanonicalMemo | None = None) -> Signed:
    """``document`` signed by ``issuer``'s active key with a proof ``created`` at ``now``,
    with ``suite`` or else the issuer's :func:`default_suite`. ``memo`` keeps the canonical
    forms signing computes, for a verification of the result straight after.

    ``what`` names the document in the refusal ("the {what} could not be signed: …").
    NotFound when the issuer has no active signing key; SigningRefused when the document
    cannot be signed (contexts it does not name, terms they do not define, …).
    """
    suite = suite or default_suite(issuer)
    if suite.startswith("ecdsa-"):
        # The ECDSA suites sign with the issuer's P-256 or P-384 key, beside its Ed25519 one.
        found = suite_signing_key(ctx, issuer, suite)
        if found is None:
            raise SigningRefused(what, SigningError(
                f"the issuer {issuer.slug!r} has no active P-256 or P-384 key, which {suite} "
                "needs (issuer keys add --type P-256)"))
        key_row, key = found
    else:
        key_row, key = signing_key(ctx, issuer)
    try:
        signed = sign_document(
            document, SIGNING_SUITES[suite], key, verification_method=method_id(ctx, key_row),
            ctx=SuiteContext(loader=ctx.loader, budget=ctx.budget, memo=memo), created=now,
        )
    except IssuerError as exc:
        raise SigningRefused(what, exc) from None
    return Signed(document=signed, key=key_row)
