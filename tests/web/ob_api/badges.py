"""Credentials for the API tests: awarded here through the award service, or issued
elsewhere by a did:key issuer (signed with eddsa-rdfc-2022 or as a VC-JWT)."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from issuer import config
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.proofs.vc_jwt import sign_ob_vc_jwt
from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.storage.models import Credential
from tests.core.helpers import did_key_issuer, unsigned_badge


def award_here(session: Session, ctx: ServiceContext, email: str) -> Credential:
    issuer = get_issuer(session, "guild")
    row = award(session, ctx, issuer, get_achievement(session, issuer, "peer-scaffolder"),
                AwardRequest(recipient=Recipient.parse(email)), actor="staff@guild.test")
    session.commit()
    return row


class Elsewhere:
    """An issuer on another site, known only by its did:key."""

    def __init__(self) -> None:
        self.key: PrivateKey
        self.key, self.did, self.method = did_key_issuer()

    def unsigned(self, email: str, credential_id: str, *,
                 valid_from: str = "2026-01-01T00:00:00Z", name: str = "Peer Scaffolder"
                 ) -> dict[str, Any]:
        badge = copy.deepcopy(unsigned_badge(self.did))
        badge["id"] = credential_id
        badge["validFrom"] = valid_from
        badge["credentialSubject"].pop("id")
        badge["credentialSubject"]["identifier"] = [{
            "type": "IdentityObject", "identityType": "emailAddress", "hashed": False,
            "identityHash": email}]
        badge["credentialSubject"]["achievement"]["name"] = name
        return badge

    def signed(self, email: str, credential_id: str, **kwargs: Any) -> dict[str, Any]:
        signed: dict[str, Any] = sign_document(
            self.unsigned(email, credential_id, **kwargs), SIGNING_SUITES["eddsa-rdfc-2022"],
            self.key, verification_method=self.method,
            ctx=SuiteContext(loader=config.context_loader()), created="2026-01-01T00:00:00Z")
        return signed

    def jwt(self, email: str, credential_id: str, **kwargs: Any) -> str:
        return sign_ob_vc_jwt(self.unsigned(email, credential_id, **kwargs), self.key,
                              kid=self.method)
