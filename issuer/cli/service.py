"""Service commands: init, serve, tokens, users, issuers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from issuer.config import Settings
from issuer.core.errors import IssuerError

if TYPE_CHECKING:
    from issuer.runtime import Runtime


class CommandFailed(click.ClickException):
    exit_code = 1


def _settings() -> Settings:
    # A wrong setting ends the command in one line, exit 2 (issuer.cli._Commands).
    return Settings.from_env()


def _runtime(settings: Settings) -> Runtime:
    """The database, keys and service context, without the web app the command never serves."""
    from issuer.runtime import build_runtime

    return build_runtime(settings)


def _migrate(rt: Runtime) -> None:
    from issuer.storage.db import upgrade

    upgrade(rt.engine)


def _print_urls(settings: Settings, demo: Any | None) -> None:
    base = settings.base
    click.echo("")
    click.echo(f"  Admin:        {base}/admin/")
    click.echo(f"  Verify page:  {base}/verify")
    if demo is not None:
        click.echo(f"  Demo badge:   {base}/credentials/{demo.credential.id}")
        click.echo(f"  Demo issuer:  {base}/issuers/{demo.issuer.slug}")
        if demo.learner is not None:
            # The handle is random (a profile must not reveal an email), so say where it is.
            click.echo(f"  Demo profile: {base}/people/{demo.learner.profile_handle}")
            where = ("the link shown on " + f"{base}/dev/outbox" if settings.smtp_host is None
                     else "the link mailed to it")
            click.echo(f"  Learner page: {base}/learn/ (sign in as {demo.learner.email} "
                       f"with {where})")
        if demo.admin_password:
            click.echo(f"  Sign in as {demo.admin_email} with password {demo.admin_password}")
    click.echo("")


def _init(rt: Runtime, demo: bool) -> Any:
    from issuer.services.demo import ensure_demo
    from issuer.storage.db import transaction

    _migrate(rt)
    if not demo:
        return None
    with transaction(rt.sessions) as session:
        return ensure_demo(session, rt.services, rt.settings.instance_dir)


def register(main: click.Group) -> None:
    @main.command("init")
    @click.option("--demo", is_flag=True, help="Also create the demo issuer, badge and admin.")
    def init(demo: bool) -> None:
        """Create or upgrade the database (and the demo data)."""
        settings = _settings()
        rt = _runtime(settings)
        try:
            info = _init(rt, demo)
        except IssuerError as exc:
            raise CommandFailed(exc.message) from None
        finally:
            # Close the pool's connections now, not at exit: the command may run in-process.
            rt.engine.dispose()
        click.echo(f"database ready: {settings.database_url.split('@')[-1]}")
        _print_urls(settings, info)

    @main.command("serve")
    @click.option("--host", default=None,
                  help="Interface to listen on (default from the base URL).")
    @click.option("--port", default=None, type=int, help="Port (default from the base URL).")
    @click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
    @click.option("--init-demo", is_flag=True,
                  help="Run `init --demo` first (what `make run` does).")
    def serve(host: str | None, port: int | None, workers: int, init_demo: bool) -> None:
        """Run the service with a production WSGI server (gunicorn)."""
        from urllib.parse import urlsplit

        settings = _settings()
        parts = urlsplit(settings.base_url)
        host = host or parts.hostname or "127.0.0.1"
        port = port or parts.port or (443 if parts.scheme == "https" else 80)
        from issuer.app import create_app, runtime

        app = create_app(settings)
        try:
            info = _init(runtime(app), init_demo)
        except IssuerError as exc:
            raise CommandFailed(exc.message) from None
        _print_urls(settings, info)
        from issuer.wsgi_server import run

        run(app, host=host, port=port, workers=workers)

    @main.group()
    def tokens() -> None:
        """API bearer tokens."""

    @tokens.command("create")
    @click.option("--issuer", "slug", required=True, help="The issuer's short name.")
    @click.option("--name", default="CLI token", show_default=True)
    def tokens_create(slug: str, name: str) -> None:
        """Print a new bearer token for an issuer (shown once; stored hashed)."""
        from issuer.services.issuers import get_issuer
        from issuer.services.tokens import create_token
        from issuer.storage.db import transaction

        rt = _runtime(_settings())
        try:
            with transaction(rt.sessions) as session:
                _, plain = create_token(session, rt.services, get_issuer(session, slug), name)
        except IssuerError as exc:
            raise CommandFailed(exc.message) from None
        click.echo(plain)

    @tokens.command("revoke")
    @click.option("--issuer", "slug", required=True)
    @click.argument("prefix")
    def tokens_revoke(slug: str, prefix: str) -> None:
        """Revoke the token that starts with PREFIX."""
        from issuer.services.issuers import get_issuer
        from issuer.services.tokens import list_tokens, revoke_token
        from issuer.storage.db import transaction

        rt = _runtime(_settings())
        try:
            with transaction(rt.sessions) as session:
                issuer = get_issuer(session, slug)
                matches = [t for t in list_tokens(session, issuer)
                           if t.prefix.startswith(prefix[:10]) and prefix.startswith(t.prefix)]
                if len(matches) != 1:
                    raise CommandFailed("no single token starts with that prefix")
                revoke_token(session, rt.services, issuer, matches[0].id)
        except IssuerError as exc:
            raise CommandFailed(exc.message) from None
        click.echo("revoked")

    @main.group()
    def issuers() -> None:
        """Issuers hosted by this service."""

    @issuers.command("create")
    @click.option("--slug", required=True)
    @click.option("--name", required=True)
    @click.option("--url", default=None)
    @click.option("--email", default=None)
    def issuers_create(slug: str, name: str, url: str | None, email: str | None) -> None:
        """Create an issuer with a new signing key; prints its DID."""
        from issuer.services.issuers import create_issuer, issuer_did
        from issuer.storage.db import transaction

        rt = _runtime(_settings())
        _migrate(rt)
        try:
            with transaction(rt.sessions) as session:
                issuer = create_issuer(session, rt.services, slug=slug, name=name, url=url,
                                       email=email)
                did = issuer_did(rt.services, issuer)
        except IssuerError as exc:
            raise CommandFailed(exc.message) from None
        click.echo(did)

    @main.group()
    def users() -> None:
        """Staff accounts for the admin pages."""

    @users.command("create")
    @click.option("--email", required=True)
    @click.option("--name", default=None)
    @click.option("--issuer", "slugs", multiple=True, help="Issuer(s) the account may act for.")
    @click.password_option(envvar="ISSUER_NEW_PASSWORD")
    def users_create(email: str, name: str | None, slugs: tuple[str, ...],
                     password: str) -> None:
        """Create a staff account."""
        from issuer.services.issuers import get_issuer
        from issuer.services.users import create_user, grant
        from issuer.storage.db import transaction

        rt = _runtime(_settings())
        try:
            with transaction(rt.sessions) as session:
                user = create_user(session, rt.services, email=email, name=name or email,
                                   password=password)
                for slug in slugs:
                    grant(session, user, get_issuer(session, slug))
        except IssuerError as exc:
            raise CommandFailed(exc.message) from None
        click.echo(f"created {user.email}")

