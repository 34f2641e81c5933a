"""Achievements (badge classes): create, edit, images. Issued credentials keep their copy."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from issuer.core.credentials import ACHIEVEMENT_TYPES, Alignment, Criteria
from issuer.core.credentials import Achievement as AchievementBuilder
from issuer.core.credentials import Image as ImageRef
from issuer.core.errors import InputError
from issuer.core.svg_safety import UnsafeSvg, check_svg
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.issuers import issuer_url
from issuer.services.lookups import Lookups, checked_copy, fingerprint
from issuer.storage.models import Achievement, Image, Issuer

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXT_TYPE = re.compile(r"^ext:[A-Za-z0-9._-]+$")


def achievement_id(ctx: ServiceContext, achievement: Achievement) -> str:
    return f"{issuer_url(ctx, achievement.issuer.slug)}/achievements/{achievement.slug}"


def image_url(ctx: ServiceContext, image: Image) -> str:
    return f"{ctx.base}/images/{image.id}"


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:100].strip("-") or "badge"


def _text(data: Mapping[str, Any], name: str, *, required: bool = False,
          limit: int = 5000) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(f"{name} is required", {name: "required"})
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name} must be text", {name: "must be text"})
    value = value.strip()
    if len(value) > limit:
        raise Invalid(f"{name} is longer than {limit} characters", {name: "too long"})
    return value


def _url(data: Mapping[str, Any], name: str) -> str | None:
    value = _text(data, name, limit=500)
    if value is not None and not re.match(r"^https?://[^\s]+$", value):
        raise Invalid(f"{name} must be an http(s) URL", {name: "must be an http(s) URL"})
    return value


def _validated(data: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": _text(data, "name", required=True, limit=200),
        "description": _text(data, "description", required=True),
        "criteria_narrative": _text(data, "criteria_narrative", limit=20000),
        "criteria_url": _url(data, "criteria_url"),
        "image_caption": _text(data, "image_caption", limit=300),
    }
    if not (fields["criteria_narrative"] or fields["criteria_url"]):
        raise Invalid("say how the badge is earned: criteria text or a criteria URL",
                      {"criteria_narrative": "criteria text or URL required"})
    kind = _text(data, "achievement_type", limit=100)
    if kind is not None and kind not in ACHIEVEMENT_TYPES and not EXT_TYPE.match(kind):
        raise Invalid(f"{kind!r} is not an OB 3.0 achievement type (or an 'ext:' type)",
                      {"achievement_type": "unknown type"})
    fields["achievement_type"] = kind
    credits = data.get("credits_available")
    if credits in (None, ""):
        fields["credits_available"] = None
    else:
        try:
            value = float(credits)
        except (TypeError, ValueError):
            raise Invalid("credits must be a number", {"credits_available": "a number"}) \
                from None
        if not 0 <= value <= 10000:
            raise Invalid("credits must be between 0 and 10000",
                          {"credits_available": "out of range"})
        fields["credits_available"] = value
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise Invalid("tags must be a list of words", {"tags": "list of text"})
    fields["tags"] = list(dict.fromkeys(t.strip() for t in tags if t.strip()))[:30]
    alignments = data.get("alignments") or []
    if not isinstance(alignments, list):
        raise Invalid("alignments must be a list", {"alignments": "a list"})
    checked = []
    for i, item in enumerate(alignments):
        if not isinstance(item, Mapping):
            raise Invalid("each alignment must be an object", {f"alignments[{i}]": "object"})
        try:
            Alignment(**{k: v for k, v in item.items() if v not in (None, "")})
        except (InputError, TypeError) as exc:
            message = exc.message if isinstance(exc, InputError) else str(exc)
            raise Invalid(f"alignment {i + 1}: {message}", {f"alignments[{i}]": message}) \
                from None
        checked.append({k: v for k, v in item.items() if v not in (None, "")})
    fields["alignments"] = checked
    return fields


def create_achievement(session: Session, ctx: ServiceContext, issuer: Issuer,
                       data: Mapping[str, Any]) -> Achievement:
    fields = _validated(data)
    slug = _text(data, "slug", limit=100) or slugify(fields["name"])
    if not SLUG.match(slug):
        raise Invalid("the short name may use a-z, 0-9 and '-'", {"slug": "a-z, 0-9, '-'"})
    taken = session.scalar(select(Achievement).where(
        Achievement.issuer_id == issuer.id, Achievement.slug == slug))
    if taken is not None:
        raise Conflict(f"{issuer.name} already has an achievement called {slug!r}")
    achievement = Achievement(issuer=issuer, slug=slug, created_at=ctx.now(),
                              updated_at=ctx.now(), version=1, **fields)
    session.add(achievement)
    session.flush()
    return achievement


def update_achievement(session: Session, ctx: ServiceContext, achievement: Achievement,
                       data: Mapping[str, Any]) -> Achievement:
    """Edit an achievement; credentials already issued keep the copy they were signed with."""
    merged = {
        "name": achievement.name, "description": achievement.description,
        "criteria_narrative": achievement.criteria_narrative,
        "criteria_url": achievement.criteria_url,
        "achievement_type": achievement.achievement_type,
        "credits_available": achievement.credits_available, "tags": achievement.tags,
        "alignments": achievement.alignments, "image_caption": achievement.image_caption,
        **dict(data),
    }
    for name, value in _validated(merged).items():
        setattr(achievement, name, value)
    achievement.version += 1
    achievement.updated_at = ctx.now()
    session.flush()
    return achievement


def get_achievement(session: Session, issuer: Issuer, slug: str, *,
                    lookups: Lookups | None = None) -> Achievement:
    """``issuer``'s achievement ``slug``. With ``lookups``, from this process's copy when one
    plain query shows its row unchanged (:mod:`issuer.services.lookups`), so an edit made
    anywhere is used by the next request."""
    if lookups is None:
        return _loaded(session, issuer, slug)
    params = {"issuer_id": issuer.id, "slug": slug}
    current = session.connection().execute(_current_row(), params).first()
    if current is None:
        raise NotFound(f"no achievement {slug!r} for {issuer.name}")
    found = checked_copy(session, lookups.achievements, (issuer.id, slug), tuple(current),
                         [(Achievement, current.id)],
                         lambda side: side.scalar(_by_slug(), params),
                         lambda loaded: fingerprint(loaded, _COLUMNS))
    if found is None:
        raise NotFound(f"no achievement {slug!r} for {issuer.name}")
    return found


def _loaded(session: Session, issuer: Issuer, slug: str) -> Achievement:
    achievement = session.scalar(_by_slug(), {"issuer_id": issuer.id, "slug": slug})
    if achievement is None:
        raise NotFound(f"no achievement {slug!r} for {issuer.name}")
    return achievement


_COLUMNS = list(Achievement.__table__.columns)


@cache
def _by_slug() -> Select[tuple[Achievement]]:
    return select(Achievement).where(Achievement.issuer_id == bindparam("issuer_id"),
                                     Achievement.slug == bindparam("slug"))


@cache
def _current_row() -> Select[Any]:
    table = Achievement.__table__
    return select(*_COLUMNS).where(table.c.issuer_id == bindparam("issuer_id"),
                                   table.c.slug == bindparam("slug"))


def list_achievements(session: Session, issuer: Issuer) -> Sequence[Achievement]:
    return session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)
                           .order_by(Achievement.name)).all()


def store_image(session: Session, ctx: ServiceContext, issuer: Issuer, data: bytes,
                declared_type: str | None = None) -> Image:
    """Keep a PNG or SVG achievement image (OB 3.0 §B.1.10 Image), checked for type and size."""
    limit = ctx.settings.max_image_bytes
    if not data:
        raise Invalid("the image is empty", {"image": "empty file"})
    if len(data) > limit:
        raise Invalid(f"the image is larger than {limit // 1024} KB", {"image": "too large"})
    if data.startswith(PNG_MAGIC):
        media_type = "image/png"
    elif data.lstrip()[:5] in (b"<?xml", b"<svg ", b"<svg>", b"<!--") or b"<svg" in data[:1024]:
        try:
            check_svg(data)
        except UnsafeSvg as exc:
            raise Invalid(f"the SVG image is not a plain, script-free SVG: {exc}",
                          {"image": "unsafe or invalid SVG"}) from None
        media_type = "image/svg+xml"
    else:
        raise Invalid("the image must be a PNG or an SVG file", {"image": "PNG or SVG only"})
    if declared_type and declared_type not in (media_type, "application/octet-stream"):
        raise Invalid(f"the file says it is {declared_type} but it is {media_type}",
                      {"image": "type mismatch"})
    image = Image(issuer_id=issuer.id, media_type=media_type, data=data,
                  sha256=hashlib.sha256(data).hexdigest(), created_at=ctx.now())
    session.add(image)
    session.flush()
    return image


def achievement_builder(ctx: ServiceContext, achievement: Achievement) -> AchievementBuilder:
    """The OB 3.0 Achievement (§B.1.1) as it stands now, for a new credential."""
    image = (
        ImageRef(id=image_url(ctx, achievement.image), caption=achievement.image_caption)
        if achievement.image is not None else None
    )
    return AchievementBuilder(
        id=achievement_id(ctx, achievement),
        name=achievement.name,
        description=achievement.description,
        criteria=Criteria(id=achievement.criteria_url, narrative=achievement.criteria_narrative),
        image=image,
        achievementType=achievement.achievement_type,
        alignment=tuple(Alignment(**a) for a in achievement.alignments),
        creditsAvailable=achievement.credits_available,
        tag=tuple(achievement.tags),
    )


def get_image(session: Session, image_id: int) -> Image:
    image = session.get(Image, image_id)
    if image is None:
        raise NotFound("no such image")
    return image
