"""The learner's "Add to wallet" page: a button and a QR code that start an exchange.

The badge mail links here; the learner signs in first (the page is theirs alone), then a
POST from this page starts a fresh single-use exchange (:mod:`issuer.services.exchanges`),
shown as a link the wallet opens on this phone and as a QR code for a wallet on another.
"""

from __future__ import annotations

import base64

from flask import render_template
from flask.typing import ResponseReturnValue

from issuer.services.awards import credential_url
from issuer.services.errors import NotFound
from issuer.services.exchanges import LIFETIME, start_for_learner
from issuer.services.profiles import OwnedBadge, link_badges, owned_badges
from issuer.storage.learning import Learner
from issuer.web.blueprints import wallet_pages as bp
from issuer.web.context import db, services
from issuer.web.learner.session import current_learner, learner_required
from issuer.web.public.qr import qr_png
from issuer.web.public.view import credential_view


def _badge(credential_id: str) -> tuple[Learner, OwnedBadge]:
    learner = current_learner()
    assert learner is not None  # learner_required
    # The mail links here, maybe before the learner has seen their badges page, which is
    # where badges awarded to their address are brought in otherwise.
    link_badges(db(), learner)
    for owned in owned_badges(db(), services(), learner):
        if owned.credential.id == credential_id:
            return learner, owned
    raise NotFound("no such badge among yours")


@bp.get("/learn/wallet/<credential_id>")
@learner_required
def add_to_wallet(credential_id: str) -> ResponseReturnValue:
    _, owned = _badge(credential_id)
    view = credential_view(owned.document)
    return render_template("wallet/add.html", owned=owned, started=None, qr=None,
                           title=view.achievement_name or owned.credential.achievement_name,
                           page=credential_url(services(), owned.credential.id),
                           minutes=int(LIFETIME.total_seconds() // 60))


@bp.post("/learn/wallet/<credential_id>")
@learner_required
def start(credential_id: str) -> ResponseReturnValue:
    learner, owned = _badge(credential_id)
    wallet = start_for_learner(db(), services(), learner, owned.credential.id)
    view = credential_view(owned.document)
    qr = "data:image/png;base64," + base64.b64encode(
        qr_png(wallet.started.lcw_link)).decode("ascii")
    response = render_template(
        "wallet/add.html", owned=owned, started=wallet.started, qr=qr,
        title=view.achievement_name or owned.credential.achievement_name,
        page=credential_url(services(), owned.credential.id),
        minutes=int(LIFETIME.total_seconds() // 60))
    return response, 200, {"Cache-Control": "no-store"}
