"""What every admin view needs: the signed-in staff member, their issuer, safe redirects."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy import func, select

from issuer.services.issuers import get_issuer
from issuer.services.users import require_member
from issuer.storage.models import Achievement, Credential, Issuer, User
from issuer.web.context import db
from issuer.web.security import current_user

PAGE_SIZE = 50


def staff() -> User:
    """The signed-in staff member; views using this are wrapped in ``login_required``."""
    user = current_user()
    if user is None:  # pragma: no cover - login_required runs first
        raise RuntimeError("admin view reached without a signed-in user")
    return user


def member_issuer(slug: str) -> Issuer:
    """The issuer ``slug``, if the signed-in staff member belongs to it.

    Checked on every page and every write, before anything is read or changed: unknown
    issuers answer 404, other people's issuers 403.
    """
    issuer = get_issuer(db(), slug)
    require_member(db(), staff(), issuer)
    return issuer


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects).

    Browsers read ``//host`` and ``/\\host`` as another site, and drop tabs and newlines
    before they parse, so all of those are refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def counts(issuers: Sequence[Issuer]) -> dict[int, tuple[int, int]]:
    """Achievements and credentials per issuer, in two queries whatever the number of issuers."""
    ids = [issuer.id for issuer in issuers]
    if not ids:
        return {}
    achievements: dict[int, int] = {
        issuer_id: n for issuer_id, n in db().execute(
            select(Achievement.issuer_id, func.count()).where(Achievement.issuer_id.in_(ids))
            .group_by(Achievement.issuer_id))}
    credentials: dict[int, int] = {
        issuer_id: n for issuer_id, n in db().execute(
            select(Credential.issuer_id, func.count()).where(Credential.issuer_id.in_(ids))
            .group_by(Credential.issuer_id))}
    return {i: (achievements.get(i, 0), credentials.get(i, 0)) for i in ids}


__all__ = ["PAGE_SIZE", "counts", "member_issuer", "safe_next", "staff"]
