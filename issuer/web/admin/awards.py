"""Awarding one badge, the confirmation page with its link, and the list of credentials.

An award to an email address sends the recipient the badge link (unless staff untick
"Email the recipient"): queued with the credential, delivered right after the commit, and
its outcome shown on the credential's page (once: it is not flashed as well), which can
also send it (again).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from issuer.core.errors import InputError
from issuer.services.achievements import list_achievements
from issuer.services.award_mail import (
    award_mail,
    queue_award_mail,
)
from issuer.services.awards import (
    AwardRequest,
    EvidenceItem,
    Recipient,
    award,
    get_credential,
    search_credentials,
)
from issuer.services.errors import Invalid, NotFound
from issuer.services.exchanges import exchange_copies
from issuer.services.revocation import credential_status, status_events
from issuer.storage.models import Achievement, Credential, Issuer
from issuer.web.admin.common import PAGE_SIZE, member_issuer, staff
from issuer.web.blueprints import admin as bp
from issuer.web.context import attempt, db, services
from issuer.web.forms import Form, row_name, row_names
from issuer.web.security import login_required

FIELDS = ("achievement", "recipient", "recipient_name", "valid_until", "narrative")
EVIDENCE_KEYS = ("url", "name", "narrative")
EVIDENCE_ROWS = 3
TEXT_LIMIT = 5000
MAX_PAGE = 100_000
#: The "Email the recipient" checkbox; the form sends "no" from a hidden field before it, so
#: a form without the field at all (an older page, a script) emails as the default does.
EMAIL_FIELD = "email_recipient"


def end_of_day(text: str) -> datetime:
    """A date from a date input, as the last second of that day in UTC."""
    day = date.fromisoformat(text)
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _limited(form: Form, name: str) -> str | None:
    value = form.optional(name)
    if value is not None and len(value) > TEXT_LIMIT:
        form.error(name, f"Keep this under {TEXT_LIMIT} characters.")
    return value


def _evidence(form: Form) -> list[EvidenceItem]:
    """OB 3.0 §B.1.9 Evidence, one item per filled-in row."""
    items = []
    for i in range(EVIDENCE_ROWS):
        url = form.url(row_name("evidence", i, "url"), what=f"Evidence {i + 1}")
        name = _limited(form, row_name("evidence", i, "name"))
        narrative = _limited(form, row_name("evidence", i, "narrative"))
        if url or name or narrative:
            items.append(EvidenceItem(url=url, name=name, narrative=narrative))
    return items


def _valid_until(form: Form) -> datetime | None:
    text = form.optional("valid_until")
    if text is None:
        return None
    try:
        moment = end_of_day(text)
    except ValueError:
        form.error("valid_until", "Enter the expiry date as a date, e.g. 2030-12-31.")
        return None
    if moment <= services().now():
        form.error("valid_until", "The expiry date must be in the future.")
    return moment


def email_wanted(form: Form | None = None) -> bool:
    """Whether the posted form asks to email the recipient (ticked, or the field absent)."""
    values = request.form.getlist(EMAIL_FIELD)
    wanted = not values or "yes" in values
    if form is not None:
        form.values[EMAIL_FIELD] = "yes" if wanted else "no"
    return wanted


def _chosen(form: Form, achievements: Sequence[Achievement]) -> Achievement | None:
    slug = form.get("achievement")
    for achievement in achievements:
        if achievement.slug == slug:
            return achievement
    form.error("achievement", "Choose the badge to award.")
    return None


def _render(issuer: Issuer, form: Form, achievements: Sequence[Achievement],
            status: int = 200) -> tuple[str, int]:
    page = render_template("admin/award.html", issuer=issuer, form=form,
                           achievements=achievements,
                           achievement_options=[(a.slug, a.name) for a in achievements],
                           evidence_rows=range(EVIDENCE_ROWS),
                           today=services().now().date().isoformat())
    return page, status


def _award(issuer: Issuer, achievements: Sequence[Achievement]) -> Any:
    form = Form.from_request([*FIELDS, *row_names("evidence", EVIDENCE_ROWS, EVIDENCE_KEYS)])
    achievement = _chosen(form, achievements)
    recipient: Recipient | None = None
    try:
        recipient = Recipient.parse(form.get("recipient"), form.get("recipient_name"))
    except Invalid as exc:
        form.absorb(exc)
    valid_until = _valid_until(form)
    evidence = _evidence(form)
    narrative = _limited(form, "narrative")
    notify = email_wanted(form)
    if form.valid and achievement is not None and recipient is not None:
        try:
            with attempt():  # nothing of a failed award is kept
                row = award(db(), services(), issuer, achievement,
                            AwardRequest(recipient=recipient, evidence=evidence,
                                         narrative=narrative, valid_until=valid_until),
                            actor=staff().email)
                if notify:
                    queue_award_mail(db(), services(), row, issuer_name=issuer.name)
        except Invalid as exc:
            form.absorb(exc)
        else:
            who = recipient.name or recipient.email or recipient.did
            # The mail's outcome is not flashed: the credential page says it, once.
            flash(f"“{achievement.name}” awarded to {who}.", "success")
            return redirect(url_for("admin.credential", slug=issuer.slug, cid=row.id))
    return _render(issuer, form, achievements, 422)


@bp.route("/issuers/<slug>/award", methods=["GET", "POST"])
@login_required
def award_one(slug: str) -> Any:
    issuer = member_issuer(slug)
    achievements = list_achievements(db(), issuer)
    if request.method == "POST":
        return _award(issuer, achievements)
    return _render(issuer, Form({"achievement": request.args.get("achievement", "")}),
                   achievements)


def _own_credential(issuer: Issuer, cid: str) -> Credential:
    row = get_credential(db(), cid)
    if row.issuer_id != issuer.id:
        raise NotFound("no such credential")
    return row


def render_credential(issuer: Issuer, row: Credential, form: Form | None = None,
                      action: str | None = None, status: int = 200) -> tuple[str, int]:
    """The staff page of one credential, with its status, its history, and the forms to
    revoke, suspend or reinstate it (``form`` and ``action``: a change that was refused)."""
    page = render_template(
        "admin/credential.html", issuer=issuer, credential=row,
        state=credential_status(db(), services(), row), events=status_events(db(), row),
        status_form=form or Form(), status_action=action,
        mail=award_mail(db(), services(), row), wallet_copies=exchange_copies(db(), row))
    return page, status


@bp.route("/issuers/<slug>/credentials/<cid>", endpoint="credential", methods=["GET", "POST"])
@login_required
def credential(slug: str, cid: str) -> Any:
    """The credential's page; its one form (POST) emails the recipient the badge link."""
    issuer = member_issuer(slug)
    row = _own_credential(issuer, cid)
    if request.method == "POST":
        return _email_credential(issuer, row)
    return render_credential(issuer, row)


def _email_credential(issuer: Issuer, row: Credential) -> Any:
    """Email the recipient their badge link: again, or for the first time."""
    target = url_for("admin.credential", slug=issuer.slug, cid=row.id)
    if credential_status(db(), services(), row).state != "active":
        flash("This badge is not active, so its link is not emailed.", "error")
        return redirect(target)
    # The page this redirects to tells the mail's state in its status line: not flashed too,
    # so the outcome (sent, failed, waiting in the outbox) is said once.
    if award_mail(db(), services(), row).can_send:
        queue_award_mail(db(), services(), row, issuer_name=issuer.name)
    return redirect(target)


def _page() -> int:
    raw = request.args.get("page", "1").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise InputError(f"the page number must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


@bp.route("/issuers/<slug>/credentials")
@login_required
def credentials(slug: str) -> Any:
    issuer = member_issuer(slug)
    query = request.args.get("q", "").strip()[:200]
    page = _page()
    # One row more than a page tells whether there is a next page without counting them all.
    rows = search_credentials(db(), issuer, query or None, limit=PAGE_SIZE + 1,
                              offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "admin/credentials.html", issuer=issuer, query=query, page=page,
        rows=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE,
        first=(page - 1) * PAGE_SIZE + 1,
    )
