"""``issuer keys rotate|retire|report``: an issuer's signing keys over time (USERS.md §G6).

Exit codes follow ``issuer.cli``: 0 done, 1 refused (unknown issuer or key, a date in the
future, a compromise date moved later), 2 unreadable input (a date that is not ISO 8601, a
database that is not set up). Private keys are written by the key store (mode 0600, never
overwritten) and are never printed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from issuer.core.errors import InputError, IssuerError
from issuer.services.context import ServiceContext

T = TypeVar("T")

HEADINGS = ("KEY", "TYPE", "CREATED", "STATUS", "SIGNED", "SIGNED AFTER COMPROMISE")


def _run(work: Callable[[Session, ServiceContext], T]) -> T:
    """Run ``work`` in one transaction on the configured service: all of it, or nothing."""
    from issuer.cli import Refused
    from issuer.cli.service import _runtime, _settings
    from issuer.storage.db import transaction

    rt = _runtime(_settings())
    try:
        with transaction(rt.sessions) as session:
            return work(session, rt.services)
    except IssuerError as exc:
        raise Refused(exc.message) from None
    finally:
        rt.engine.dispose()


def render_table(rows: Sequence[Any]) -> str:
    """The key report as aligned plain-text columns (``rows`` are ``KeyReport``)."""
    from issuer.services.keys import stamp

    cells = [HEADINGS] + [
        (r.method_id, r.key_type, stamp(r.created_at), r.status, str(r.signed),
         "—" if r.signed_after_compromise is None else str(r.signed_after_compromise))
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADINGS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def register(keys: click.Group) -> None:
    """Add ``rotate``, ``retire`` and ``report`` to the ``issuer keys`` group."""

    @keys.command("rotate")
    @click.option("--issuer", "slug", required=True, help="The issuer's short name.")
    def rotate(slug: str) -> None:
        """Create a new Ed25519 key that signs from now on.

        The old keys stay in the issuer's DID document, so badges they signed keep
        verifying. Prints the new key's id and the key report.
        """
        from issuer.services.issuers import get_issuer, method_id
        from issuer.services.keys import key_report, rotate_key

        def work(session: Session, ctx: ServiceContext) -> tuple[str, list[Any]]:
            issuer = get_issuer(session, slug)
            new = rotate_key(session, ctx, issuer)
            return method_id(ctx, new), key_report(session, ctx, issuer)

        new_id, rows = _run(work)
        click.echo(new_id)
        click.echo("This key signs new badges from now on. The earlier keys stay in the DID "
                   "document, so the badges they signed keep verifying.\n")
        click.echo(render_table(rows))

    @keys.command("retire")
    @click.argument("key_id", metavar="KEY_ID")
    @click.option("--compromised-since", "since_text", required=True, metavar="DATE",
                  help="When the key was (or may have been) compromised: YYYY-MM-DD means "
                       "00:00:00Z that day, or a date-time with a time zone. Not in the "
                       "future.")
    def retire(key_id: str, since_text: str) -> None:
        """Stop using KEY_ID (did:web:…#key-1 or SLUG#key-1) after a compromise.

        It stays in the DID document with a 'revoked' date: badges it signed before that
        date keep verifying, those signed from then on fail and must be re-issued. If it
        was the signing key, a new key takes over first.
        """
        from issuer.cli import Unreadable
        from issuer.services.issuers import method_id
        from issuer.services.keys import (
            Retirement,
            find_key,
            key_report,
            parse_moment,
            report_compromised,
            stamp,
        )

        try:
            since = parse_moment(since_text)
        except InputError as exc:
            raise Unreadable(f"--compromised-since: {exc.message}") from None

        def work(session: Session, ctx: ServiceContext) -> tuple[Retirement, str, str | None,
                                                                 list[Any]]:
            key = find_key(session, ctx, key_id)
            done = report_compromised(session, ctx, key, since)
            new = method_id(ctx, done.replacement) if done.replacement else None
            return done, method_id(ctx, key), new, key_report(session, ctx, key.issuer)

        done, retired_id, new_id, rows = _run(work)
        if new_id is not None:
            click.echo(f"{retired_id} was the signing key: a new key, {new_id}, signs new "
                       "badges from now on.")
        if done.unchanged:
            click.echo(f"{retired_id} was already reported compromised since "
                       f"{stamp(done.since)}; nothing changed.")
        else:
            click.echo(f"{retired_id} is retired and published as compromised since "
                       f"{stamp(done.since)}.")
        if done.affected == 1:
            click.echo("1 badge signed with it on or after that date no longer verifies: "
                       "re-issue it.")
        elif done.affected:
            click.echo(f"{done.affected} badges signed with it on or after that date no longer "
                       "verify: re-issue them.")
        else:
            click.echo("No badge was signed with it on or after that date.")
        click.echo("")
        click.echo(render_table(rows))

    @keys.command("report")
    @click.option("--issuer", "slug", required=True, help="The issuer's short name.")
    def report(slug: str) -> None:
        """Show every key of an issuer and how many badges each one signed."""
        from issuer.services.issuers import get_issuer
        from issuer.services.keys import key_report

        rows = _run(lambda session, ctx: key_report(session, ctx, get_issuer(session, slug)))
        click.echo(render_table(rows))
