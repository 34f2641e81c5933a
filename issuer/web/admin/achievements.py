"""Creating and editing achievements (OB 3.0 §B.1.1 Achievement) from the staff pages."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from issuer.core.credentials import ACHIEVEMENT_TYPES
from issuer.services.achievements import (
    create_achievement,
    get_achievement,
    store_image,
    update_achievement,
)
from issuer.services.errors import Conflict, Invalid
from issuer.storage.models import Achievement, Image, Issuer
from issuer.web.admin.common import member_issuer
from issuer.web.blueprints import admin as bp
from issuer.web.context import attempt, db, services
from issuer.web.forms import Form, row_name, row_names
from issuer.web.security import login_required

FIELDS = ("name", "slug", "description", "criteria_narrative", "criteria_url",
          "achievement_type", "credits_available", "tags", "image_caption")
#: OB 3.0 §B.1.5 Alignment properties offered on the form, by form key.
ALIGNMENT_KEYS = {"target_name": "targetName", "target_url": "targetUrl",
                  "target_framework": "targetFramework", "target_code": "targetCode"}
ALIGNMENT_ROWS = 3
#: The words on the form for the use case's field names, for its error messages.
LABELS = {"name": "The name", "description": "The description",
          "criteria_narrative": "The criteria", "criteria_url": "The criteria web address",
          "image_caption": "The image description", "achievement_type": "The kind",
          "slug": "The short name"}
TYPE_CHOICES = sorted(ACHIEVEMENT_TYPES)
ACCEPTED_IMAGES = "image/png,image/svg+xml,.png,.svg"


def _format_credits(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _form_of(achievement: Achievement) -> Form:
    values = {
        "name": achievement.name, "slug": achievement.slug,
        "description": achievement.description,
        "criteria_narrative": achievement.criteria_narrative or "",
        "criteria_url": achievement.criteria_url or "",
        "achievement_type": achievement.achievement_type or "",
        "credits_available": _format_credits(achievement.credits_available),
        "tags": ", ".join(achievement.tags or []),
        "image_caption": achievement.image_caption or "",
    }
    for i, alignment in enumerate((achievement.alignments or [])[:ALIGNMENT_ROWS]):
        for key, prop in ALIGNMENT_KEYS.items():
            values[row_name("alignment", i, key)] = str(alignment.get(prop) or "")
    return Form(values)


def _read_form() -> tuple[Form, dict[str, Any], dict[str, str | None]]:
    """The posted form, the data for the use case, and how its field names map back."""
    form = Form.from_request([*FIELDS, *row_names("alignment", ALIGNMENT_ROWS, ALIGNMENT_KEYS)])
    form.required("name", "Give the badge a name.")
    form.required("description", "Describe what the badge recognises.")
    rename: dict[str, str | None] = {}
    alignments: list[dict[str, str]] = []
    for i in range(ALIGNMENT_ROWS):
        row = {prop: form.get(row_name("alignment", i, key)).strip()
               for key, prop in ALIGNMENT_KEYS.items()}
        if not any(row.values()):
            continue  # an unused row
        if not row["targetName"]:
            form.error(row_name("alignment", i, "target_name"),
                       f"Give framework item {i + 1} a name.")
        form.url(row_name("alignment", i, "target_url"), required=True,
                 what=f"Framework item {i + 1}")
        rename[f"alignments[{len(alignments)}]"] = row_name("alignment", i, "target_name")
        alignments.append({prop: value for prop, value in row.items() if value})
    data: dict[str, Any] = {name: form.get(name) for name in FIELDS}
    data["alignments"] = alignments
    return form, data, rename


def _uploaded_image(issuer: Issuer) -> Image | None:
    """The uploaded image, stored after the type and size checks; None if none was chosen."""
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return None
    limit = services().settings.max_image_bytes
    # One byte more than allowed is enough to tell the file is too large.
    data = upload.read(limit + 1)
    return store_image(db(), services(), issuer, data, upload.mimetype or None)


def _render(issuer: Issuer, form: Form, achievement: Achievement | None,
            status: int = 200) -> tuple[str, int]:
    types = list(TYPE_CHOICES)
    chosen = form.get("achievement_type")
    if chosen and chosen not in types:
        types.append(chosen)  # keep an "ext:" type set through the API
    page = render_template(
        "admin/achievement_form.html", issuer=issuer, form=form, achievement=achievement,
        type_options=[(t, t) for t in types], alignment_rows=range(ALIGNMENT_ROWS),
        accepted_images=ACCEPTED_IMAGES,
        max_image_kb=services().settings.max_image_bytes // 1024,
    )
    return page, status


def _save(issuer: Issuer, existing: Achievement | None) -> Any:
    """Create (``existing`` is None) or edit an achievement from the posted form."""
    form, data, rename = _read_form()
    image: Image | None = None
    try:
        image = _uploaded_image(issuer)
    except Invalid as exc:
        form.absorb(exc)
    saved: Achievement | None = None
    if form.valid:
        try:
            with attempt():
                if existing is None:
                    saved = create_achievement(db(), services(), issuer, data)
                else:
                    data.pop("slug", None)  # the short name is part of the achievement's id
                    saved = update_achievement(db(), services(), existing, data)
                if image is not None:
                    saved.image_id = image.id
        except Invalid as exc:
            form.absorb(exc, rename, LABELS)
        except Conflict as exc:
            form.error("slug", f"{exc.message}; choose another short name")
        except IntegrityError:
            # Someone saved the same short name a moment ago, between the check and the insert.
            form.error("slug", "That short name was just taken; choose another")
    if saved is None or not form.valid:
        # The answer is an error: nothing of it is kept, the image neither.
        if image is not None:
            form.error("image", "Choose the image again: it is only kept once the form is saved.")
        return _render(issuer, form, existing, 422)
    flash(f"Saved “{saved.name}”.", "success")
    return redirect(url_for("admin.issuer", slug=issuer.slug))


@bp.route("/issuers/<slug>/achievements/new", methods=["GET", "POST"])
@login_required
def new_achievement(slug: str) -> Any:
    issuer = member_issuer(slug)
    if request.method == "POST":
        return _save(issuer, None)
    return _render(issuer, Form(), None)


@bp.route("/issuers/<slug>/achievements/<a_slug>/edit", methods=["GET", "POST"])
@login_required
def edit_achievement(slug: str, a_slug: str) -> Any:
    issuer = member_issuer(slug)
    achievement = get_achievement(db(), issuer, a_slug)
    if request.method == "POST":
        return _save(issuer, achievement)
    return _render(issuer, _form_of(achievement), achievement)
