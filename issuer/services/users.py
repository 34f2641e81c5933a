"""Staff accounts: hashed passwords and membership of issuers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.services import staff_sessions
from issuer.services.awards import EMAIL
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, PermissionDenied
from issuer.storage.models import Issuer, Membership, User

MIN_PASSWORD = 10


def create_user(session: Session, ctx: ServiceContext, *, email: str, name: str,
                password: str) -> User:
    email = (email or "").strip().lower()
    if not EMAIL.match(email):
        raise Invalid("a valid email address is required", {"email": "invalid"})
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(f"the password must have at least {MIN_PASSWORD} characters",
                      {"password": "too short"})
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise Conflict(f"an account for {email} already exists")
    user = User(email=email, name=(name or email).strip(),
                password_hash=ctx.passwords.hash(password), created_at=ctx.now())
    session.add(user)
    session.flush()
    return user


def grant(session: Session, user: User, issuer: Issuer, role: str = "admin") -> Membership:
    existing = session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.issuer_id == issuer.id))
    if existing is not None:
        return existing
    membership = Membership(user_id=user.id, issuer_id=issuer.id, role=role)
    session.add(membership)
    session.flush()
    return membership


def authenticate(session: Session, ctx: ServiceContext, email: str,
                 password: str) -> User | None:
    """The staff member with this email and password, or None: an unknown email takes as
    long to refuse as a wrong password."""
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        ctx.passwords.refuse(password or "")
        return None
    if not ctx.passwords.verify(user.password_hash, password or ""):
        return None
    return user


def set_password(session: Session, ctx: ServiceContext, user: User, password: str) -> None:
    """Give ``user`` a new password, and end all their sessions: whoever knew the old one
    and signed in with it is signed out too."""
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(f"the password must have at least {MIN_PASSWORD} characters",
                      {"password": "too short"})
    user.password_hash = ctx.passwords.hash(password)
    session.flush()
    staff_sessions.end_all(session, ctx, user)


def issuers_of(session: Session, user: User) -> list[Issuer]:
    return list(session.scalars(
        select(Issuer).join(Membership, Membership.issuer_id == Issuer.id)
        .where(Membership.user_id == user.id).order_by(Issuer.name)))


def require_member(session: Session, user: User, issuer: Issuer) -> None:
    """Authorization on every write: a staff member acts only for their own issuers."""
    member = session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.issuer_id == issuer.id))
    if member is None:
        raise PermissionDenied("you are not a member of this issuer")
