"""The peer's page ``/attest/<token>`` and what peers and learners see of a claim.

A peer sees the achievement, the learner's display name (or the address an emailed invitation
came from; "a learner" for a link shared another way), and the evidence the learner made
public; private evidence shows only as a line saying the reviewers see it.
Routes are registered on the ``learner_claims`` blueprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from issuer.services import attestations as attestation_service
from issuer.services.attestation_scaffolding import (
    CHARACTERISTICS,
    FUNCTIONS,
    Item,
    answers_of,
    item,
    level_of,
)
from issuer.services.attestation_wording import KINDS, SCAFFOLDING_KINDS, peer_sentence
from issuer.services.claims import OPEN, STATUS_WORDS, learner_label
from issuer.services.errors import Invalid
from issuer.storage.learning import Claim, EvidenceRecord
from issuer.web.blueprints import learner_claims as bp
from issuer.web.context import db, services
from issuer.web.errors import error_response, wants_json
from issuer.web.forms import Form
from issuer.web.learner.session import current_learner

ATTEST_FIELDS = ("kind", "comment", "show_name", "display_name", "contingency", "fading",
                 "transfer", "transfer_url")


@dataclass(frozen=True)
class AttestationLine:
    sentence: str
    comment: str
    #: The peer's name if they agreed to show it; None otherwise.
    name: str | None
    at: datetime
    #: How the peer says they were helped, in the words the badge will use.
    help_given: tuple[str, ...] = ()
    #: The scaffolding level of the attestation; None for a statement not about help.
    level: int | None = None


@dataclass(frozen=True)
class ClaimView:
    """A claim as peers (and the learner, for attestations) see it."""

    learner_name: str
    topic: str
    issuer_name: str
    public_evidence: list[EvidenceRecord]
    private_count: int
    attestations: list[AttestationLine]
    kinds: list[tuple[str, str]]
    #: The scaffolding functions a peer may tick, and the questions on how they were helped.
    functions: tuple[Item, ...] = FUNCTIONS
    characteristics: tuple[Item, ...] = CHARACTERISTICS
    #: The statements for which those are asked.
    scaffolding_kinds: frozenset[str] = SCAFFOLDING_KINDS


def claim_view(session: Session, claim: Claim, learner_name: str | None = None) -> ClaimView:
    name = learner_name or learner_label(claim.learner)
    topic = claim.achievement.name
    lines = [
        AttestationLine(
            sentence=peer_sentence(a.kind, name, topic), comment=a.comment,
            name=(a.peer.display_name or None) if a.show_name else None, at=a.created_at,
            help_given=tuple(found.reader for found in map(item, answers_of(a).affirmed)
                             if found is not None),
            level=level_of(answers_of(a)) if a.kind in SCAFFOLDING_KINDS else None)
        for a in attestation_service.attestations_of(session, claim)
    ]
    return ClaimView(
        learner_name=name, topic=topic, issuer_name=claim.issuer.name,
        public_evidence=[e for e in claim.evidence if e.public],
        private_count=sum(1 for e in claim.evidence if not e.public),
        attestations=lines,
        kinds=[(kind, peer_sentence(kind, name, topic)) for kind in KINDS])


def _absorb(form: Form, exc: Invalid) -> None:
    if not exc.fields:
        form.error(None, exc.message)
    for name, note in exc.fields.items():
        form.error(name, note)


@bp.route("/attest/<token>", methods=["GET", "POST"])
def attest_page(token: str) -> Any:
    """Show the claim to a signed-in peer and take their attestation (POST)."""
    ctx = services()
    try:
        req = attestation_service.find_request(db(), ctx, token)
    except attestation_service.LinkExpired as exc:
        return error_response(410, exc.message)
    peer = current_learner()
    if peer is None:
        return redirect(url_for("learner_auth.sign_in_form", next=request.path))
    claim = attestation_service.claim_of(db(), req)
    attestation_service.check_not_self(claim, peer)
    form = Form({"kind": attestation_service.default_kind(db(), claim)})
    status = 200
    if request.method == "POST":
        form = Form.from_request(ATTEST_FIELDS)
        functions = request.form.getlist("functions")
        form.values["functions"] = " ".join(functions)  # to tick them again on an error
        try:
            attestation_service.attest(
                db(), ctx, peer, req, kind=form.get("kind"), comment=form.get("comment"),
                show_name=form.get("show_name") == "yes",
                display_name=form.optional("display_name"), functions=functions,
                contingency=form.get("contingency"), fading=form.get("fading"),
                transfer=form.get("transfer"), transfer_url=form.optional("transfer_url"))
        except Invalid as exc:
            if wants_json():
                raise
            _absorb(form, exc)
            status = 422
        else:
            flash("Thank you: your attestation is recorded. It cannot be changed, by you or "
                  "by the learner.", "success")
            return redirect(url_for("learner_claims.attest_page", token=token))
    given = attestation_service.attestation_by(db(), claim, peer)
    return render_template(
        "learner/attest.html", claim=claim,
        view=claim_view(db(), claim, attestation_service.invited_name(claim, req)), form=form,
        peer=peer, given=given, open=claim.status in OPEN,
        status_word=STATUS_WORDS.get(claim.status, claim.status),
        max_comment=attestation_service.MAX_COMMENT), status
