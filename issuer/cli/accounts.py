"""Who may act on the service: ``issuer issuers``, ``issuer tokens`` and ``issuer users``.

Each command works on the service's database (ISSUER_* settings) in one unit of work. Exit
codes follow :mod:`issuer.cli.errors`: 0 done, 1 refused (an unknown issuer, a slug or an
address already taken), 2 a setting or a database that cannot be used.
"""

from __future__ import annotations

import click

from issuer.cli.common import migrate, service_runtime, unit_of_work
from issuer.cli.errors import Refused


@click.group("issuers")
def issuers() -> None:
    """Issuers hosted by this service."""


@issuers.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--url", default=None)
@click.option("--email", default=None)
@click.option("--did-method", type=click.Choice(["web", "key"]), default="web",
              show_default=True,
              help="web: a did:web under the base URL, whose keys can rotate; key: the "
                   "did:key of its one signing key, which any verifier resolves by itself.")
@click.option("--key-type", type=click.Choice(["Ed25519", "P-256", "P-384"],
                                              case_sensitive=False),
              default="Ed25519", show_default=True,
              help="The first signing key. Ed25519 signs eddsa-rdfc-2022 proofs; an issuer "
                   "with a P-256 or P-384 key (with --did-method key: a zDn…/z82… did:key) "
                   "signs ecdsa-rdfc-2019 proofs.")
def issuers_create(slug: str, name: str, url: str | None, email: str | None,
                   did_method: str, key_type: str) -> None:
    """Create an issuer with a new signing key; prints its DID."""
    from issuer.services.issuers import FIRST_KEY_TYPES, create_issuer, issuer_did

    canonical = next(t for t in FIRST_KEY_TYPES if t.lower() == key_type.lower())
    with service_runtime() as rt:
        migrate(rt)
        with unit_of_work(rt) as session:
            issuer = create_issuer(session, rt.services, slug=slug, name=name, url=url,
                                   email=email, did_method=did_method, key_type=canonical)
            did = issuer_did(rt.services, issuer)
    click.echo(did)


@click.group("tokens")
def tokens() -> None:
    """API bearer tokens."""


@tokens.command("create")
@click.option("--issuer", "slug", required=True, help="The issuer's short name.")
@click.option("--name", default="CLI token", show_default=True)
def tokens_create(slug: str, name: str) -> None:
    """Print a new bearer token for an issuer (shown once; stored hashed)."""
    from issuer.services.issuers import get_issuer
    from issuer.services.tokens import create_token

    with service_runtime() as rt, unit_of_work(rt) as session:
        _, plain = create_token(session, rt.services, get_issuer(session, slug), name)
    click.echo(plain)


@tokens.command("revoke")
@click.option("--issuer", "slug", required=True)
@click.argument("prefix")
def tokens_revoke(slug: str, prefix: str) -> None:
    """Revoke the token that starts with PREFIX."""
    from issuer.services.issuers import get_issuer
    from issuer.services.tokens import list_tokens, revoke_token

    with service_runtime() as rt, unit_of_work(rt) as session:
        issuer = get_issuer(session, slug)
        matches = [t for t in list_tokens(session, issuer)
                   if t.prefix.startswith(prefix[:10]) and prefix.startswith(t.prefix)]
        if len(matches) != 1:
            raise Refused("no single token starts with that prefix")
        revoke_token(session, rt.services, issuer, matches[0].id)
    click.echo("revoked")


@click.group("users")
def users() -> None:
    """Staff accounts for the admin pages."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", default=None)
@click.option("--issuer", "slugs", multiple=True, help="Issuer(s) the account may act for.")
@click.password_option(envvar="ISSUER_NEW_PASSWORD")
def users_create(email: str, name: str | None, slugs: tuple[str, ...], password: str) -> None:
    """Create a staff account."""
    from issuer.services.issuers import get_issuer
    from issuer.services.users import create_user, grant

    with service_runtime() as rt, unit_of_work(rt) as session:
        user = create_user(session, rt.services, email=email, name=name or email,
                           password=password)
        for slug in slugs:
            grant(session, user, get_issuer(session, slug))
    click.echo(f"created {user.email}")


@users.command("set-password")
@click.argument("email")
@click.password_option(envvar="ISSUER_NEW_PASSWORD")
def users_set_password(email: str, password: str) -> None:
    """Give the staff account EMAIL a new password, and end all its sessions.

    Whoever signed in with the old password (or holds a copy of such a session's cookie)
    is signed out: a password is changed because somebody else may know it.
    """
    from sqlalchemy import select

    from issuer.services.users import set_password
    from issuer.storage.models import User

    address = (email or "").strip().lower()
    with service_runtime() as rt, unit_of_work(rt) as session:
        user = session.scalar(select(User).where(User.email == address))
        if user is None:
            raise Refused(f"there is no staff account for {address}")
        set_password(session, rt.services, user, password)
    click.echo(f"new password set for {address}; its sessions have ended")
