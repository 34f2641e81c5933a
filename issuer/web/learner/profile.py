"""The learner's badges, public profile and CPD transcript.

``/learn/badges`` (choose what is shown), ``/people/<handle>`` (the public profile, HTML or
JSON), ``/learn/transcript`` with its chart, CSV and signed CLR 2.0 downloads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import (
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from issuer.core.datetimes import format_datetime
from issuer.services import ob_api_credentials
from issuer.services.awards import credential_url
from issuer.services.errors import Invalid, NotFound
from issuer.services.profiles import (
    ANONYMOUS,
    MAX_NAME,
    OwnedBadge,
    PublicProfile,
    link_badges,
    owned_badges,
    profile_url,
    public_profile,
    set_display_name,
    set_shown,
)
from issuer.services.transcripts import (
    Period,
    badge_hours,
    build_clr,
    format_hours,
    hours_phrase,
    period,
    transcript,
    transcript_csv,
)
from issuer.storage.learning import Learner
from issuer.storage.ob_api import UpsertedCredential
from issuer.web.blueprints import learner_profile as bp
from issuer.web.context import db, services
from issuer.web.learner.chart import PALETTE, chart_svg
from issuer.web.learner.session import learner_required, signed_in_learner
from issuer.web.public.negotiation import json_not_found, json_response, json_type
from issuer.web.public.view import credential_view, display_date

#: Either JSON type gets the profile, as plain JSON (it has no JSON-LD context).
PROFILE_TYPES = ("application/json", "application/ld+json")
#: The chart opened on its own must stay a picture: nothing in it may run.
SVG_CSP = "default-src 'none'; sandbox"
STATE_WORDS = {
    "active": "Valid",
    "revoked": "Revoked by the issuer",
    "suspended": "Suspended by the issuer",
    "expired": "Expired",
}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"human_date": display_date, "hours": format_hours, "hours_phrase": hours_phrase}



@dataclass(frozen=True)
class BadgeCard:
    """A badge as the learner and the profile's visitors see it."""

    owned: OwnedBadge
    title: str
    issuer: str
    image: str | None
    image_alt: str
    state_words: str
    page: str
    verify: str
    #: CPD hours per category, from the evidence items when the badge was claimed.
    cpd: tuple[tuple[str | None, float], ...] = ()


def _local_image(url: str | None) -> str | None:
    """Only images served here: the Content Security Policy would block others anyway."""
    base = services().base
    if url and (url.startswith(f"{base}/images/") or url.lower().startswith("data:image/")):
        return url
    return None


def _card(owned: OwnedBadge,
          cpd: dict[str, list[tuple[str | None, float]]] | None = None) -> BadgeCard:
    view = credential_view(owned.document)
    title = view.achievement_name or owned.credential.achievement_name
    page = credential_url(services(), owned.credential.id)
    return BadgeCard(
        owned=owned, title=title, issuer=owned.issuer_name,
        image=_local_image(view.image_url),
        image_alt=view.image_caption or f"Badge image for {title}",
        state_words=STATE_WORDS.get(owned.state, owned.state),
        page=page, verify=f"{page}/verify",
        cpd=tuple((cpd or {}).get(owned.credential.id, ())),
    )


# --- the learner's badges ----------------------------------------------------------------


@bp.route("/learn/badges", methods=["GET", "POST"])
@learner_required
def badges() -> ResponseReturnValue:
    learner = signed_in_learner()
    if request.method == "POST":
        return _change_badges(learner)
    _link(learner)
    return _badges_page(learner)


def _link(learner: Learner) -> None:
    """Bring in badges staff awarded to the learner's address since the last visit.

    The pages that call it are GETs that write on purpose: the links are kept with a
    successful answer (:mod:`issuer.web.context`)."""
    link_badges(db(), learner)


def _badges_page(learner: Learner, *, name_error: str | None = None,
                 typed_name: str | None = None, status: int = 200) -> Response:
    owned = owned_badges(db(), services(), learner)
    hours = badge_hours(db(), services(), owned)
    cards = [_card(b, hours) for b in owned]
    return make_response(render_template(
        "profile/badges.html", learner=learner, cards=cards,
        shown=[c for c in cards if c.owned.badge.shown and c.owned.valid],
        profile_url=profile_url(services(), learner), anonymous=ANONYMOUS,
        max_name=MAX_NAME, name_error=name_error,
        typed_name=(learner.display_name or "") if typed_name is None else typed_name,
    ), status)


def _change_badges(learner: Learner) -> ResponseReturnValue:
    action = request.form.get("action", "")
    if action in ("show", "hide"):
        try:
            badge_id = int(request.form.get("badge", ""))
        except ValueError:
            raise NotFound("you have no such badge") from None
        badge = set_shown(db(), services(), learner, badge_id, action == "show")
        flash("The badge is now on your public profile." if badge.shown
              else "The badge is now hidden from your public profile.", "info")
        return redirect(url_for(".badges") + f"#badge-{badge.id}", code=303)
    if action == "name":
        try:
            set_display_name(db(), services(), learner, request.form.get("display_name"))
        except Invalid as exc:
            return _badges_page(learner, name_error=exc.message,
                                typed_name=request.form.get("display_name", ""), status=422)
        flash("Your name on the profile is saved.", "info")
        return redirect(url_for(".badges"), code=303)
    raise Invalid("unknown action", {"action": "show, hide or name"})


# --- the public profile ------------------------------------------------------------------


@dataclass(frozen=True)
class OtherBadge:
    """A badge another organisation issued, which the learner keeps in their backpack here
    (OB 3.0 §6.2.3 upsertCredential) and chose to show. Its check is the one made when it
    was stored: this site does not vouch for it beyond that."""

    title: str
    issuer: str
    issued: datetime
    checked: datetime
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"achievement": self.title, "issuer": self.issuer,
                "issued": format_datetime(self.issued),
                "verifiedWhenStored": format_datetime(self.checked),
                "issuedHere": False}


def _other(row: UpsertedCredential) -> OtherBadge:
    checks = row.verification.get("checks", []) if isinstance(row.verification, dict) else []
    notes = tuple(str(c.get("message", "")) for c in checks
                  if isinstance(c, dict) and c.get("outcome") in ("warning", "skipped"))
    return OtherBadge(title=row.achievement_name or "A badge",
                      issuer=row.issuer_name or "an organisation that gave no name",
                      issued=row.issued_at, checked=row.received_at, notes=notes)


@bp.get("/people/<handle>")
def person(handle: str) -> Response:
    """The badges a learner chose to show, each with its verify link, and the badges from
    other organisations they chose to show from their backpack; nothing else."""
    wanted = json_type(PROFILE_TYPES)
    owner, stored = ob_api_credentials.public_backpack(db(), handle)
    try:
        found = public_profile(db(), services(), handle)
    except NotFound as exc:
        if owner is None or not stored:
            if wanted:
                return _private(json_not_found(exc.message))
            raise
        found = PublicProfile(name=owner.display_name or ANONYMOUS,
                              url=profile_url(services(), owner), badges=[])
    others = [_other(row) for row in stored]
    if wanted:
        document = found.to_json(services())
        if others:
            document["otherIssuers"] = [other.to_json() for other in others]
        body = json.dumps(document, ensure_ascii=False, indent=2)
        return _private(json_response(body, "application/json"))
    response = make_response(render_template(
        "profile/public.html", profile=found, cards=[_card(b) for b in found.badges],
        others=others))
    response.vary.add("Accept")
    return _private(response)


def _private(response: Response) -> Response:
    # Hiding a badge must take effect at once: no cache may keep showing it.
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- the CPD transcript ------------------------------------------------------------------


def _period_args() -> tuple[str, str]:
    return request.args.get("from", "").strip(), request.args.get("to", "").strip()


def _period() -> Period:
    start, end = _period_args()
    return period(start or None, end or None)


def _query(span: Period) -> dict[str, str]:
    args = {}
    if span.start:
        args["from"] = span.start.isoformat()
    if span.end:
        args["to"] = span.end.isoformat()
    return args


@bp.get("/learn/transcript")
@learner_required
def transcript_page() -> Response:
    learner = signed_in_learner()
    start, end = _period_args()
    try:
        span = _period()
    except Invalid as exc:
        return make_response(render_template(
            "profile/transcript.html", learner=learner, result=None, error=exc.message,
            error_fields=exc.fields, start=start, end=end, query={}, palette=PALETTE,
        ), 422)
    _link(learner)
    result = transcript(db(), services(), learner, span)
    return make_response(render_template(
        "profile/transcript.html", learner=learner, result=result, error=None,
        error_fields={}, start=start, end=end, query=_query(span), palette=PALETTE,
    ))


@bp.get("/learn/transcript/chart.svg")
@learner_required
def transcript_chart() -> Response:
    result = transcript(db(), services(), signed_in_learner(), _period())
    response = Response(chart_svg(result), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _filename(span: Period, extension: str) -> str:
    # Dates only (digits and '-'): safe inside the header as they are.
    parts = ["cpd-transcript"] + [d.isoformat() for d in (span.start, span.end) if d]
    return "-".join(parts) + f".{extension}"


@bp.get("/learn/transcript.csv")
@learner_required
def transcript_download_csv() -> Response:
    learner = signed_in_learner()
    span = _period()
    _link(learner)
    result = transcript(db(), services(), learner, span)
    response = Response(transcript_csv(result), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(span, "csv")}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/learn/transcript.json")
@learner_required
def transcript_download_clr() -> Response:
    """The signed CLR 2.0 ClrCredential of the period."""
    learner = signed_in_learner()
    span = _period()
    _link(learner)
    signed = build_clr(db(), services(), learner, span.start, span.end)
    body = json.dumps(signed, ensure_ascii=False, indent=2)
    response = Response(body.encode("utf-8"), mimetype="application/vc+ld+json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_filename(span, "json")}"')
    response.headers["Cache-Control"] = "private, no-store"
    return response
