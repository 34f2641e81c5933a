"""The learner's credential offer for OpenID4VCI wallets: a QR code and a link.

A POST from the "Add to wallet" page (CSRF-protected, the learner signed in) makes a fresh
single-use offer of one of the learner's own badges (:func:`issuer.services.oid4vci.
offer_for_learner`) and shows its ``openid-credential-offer://`` link, for a wallet on this
device, and as a QR code, for a wallet on another.
"""

from __future__ import annotations

import base64

from flask import render_template
from flask.typing import ResponseReturnValue

from issuer.services.oid4vci import LIFETIME, offer_for_learner
from issuer.services.profiles import link_badges
from issuer.web.blueprints import oid4vci_pages as bp
from issuer.web.context import db, services
from issuer.web.learner.session import current_learner, learner_required
from issuer.web.public.qr import qr_png


@bp.post("/learn/wallet/<credential_id>/openid4vci")
@learner_required
def offer(credential_id: str) -> ResponseReturnValue:
    learner = current_learner()
    assert learner is not None  # learner_required
    # The mail may bring the learner here before their badges page linked the award.
    link_badges(db(), learner)
    made = offer_for_learner(db(), services(), learner, credential_id)
    qr = "data:image/png;base64," + base64.b64encode(qr_png(made.link)).decode("ascii")
    page = render_template("oid4vci/offer.html", offer=made, qr=qr,
                           minutes=int(LIFETIME.total_seconds() // 60))
    # The page carries a bearer capability: no cache may keep it.
    return page, 200, {"Cache-Control": "no-store"}
