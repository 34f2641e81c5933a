"""``issuer keys``: signing keys, in a file or an issuer's over time (USERS.md §G6).

``generate`` writes a key file for ``issuer sign`` and needs no service. ``add``, ``rotate``,
``retire`` and ``report`` work on the service's database (ISSUER_* settings), each in one
transaction; so do ``export-to-database`` (key files into the database key store) and
``rewrap`` (the database key store under a new key-encryption key). Exit codes follow
:mod:`issuer.cli.errors`: 0 done, 1 refused (a key file that exists, an unknown issuer or
key, a date in the future, a compromise date moved later), 2 unreadable input (a date that
is not ISO 8601, a file that cannot be written, a database that is not set up, a missing
or wrong key-encryption key). Private keys are written with mode 0600, never overwritten and never
printed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from issuer.cli.common import passphrase, service_runtime, unit_of_work
from issuer.cli.errors import Refused, Unreadable
from issuer.config import KEK_HINT, PASSPHRASE_ENV
from issuer.core.dids import did_key_from_public_key
from issuer.core.errors import InputError, IssuerError
from issuer.core.keys import PrivateKey, save_private_key

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from issuer.services.context import ServiceContext

T = TypeVar("T")

HEADINGS = ("KEY", "TYPE", "CREATED", "STATUS", "SIGNED", "SIGNED AFTER COMPROMISE")


@click.group("keys")
def keys_group() -> None:
    """Create and inspect signing keys."""


@keys_group.command("generate")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the private key (PEM, mode 0600).")
@click.option("--type", "key_type", type=click.Choice(["ed25519", "p256", "p384"]),
              default="ed25519", show_default=True,
              help="Ed25519 for eddsa-* proofs, P-256 or P-384 for ecdsa-* proofs and "
                   "ES256/ES384 JWTs.")
@click.option("--passphrase-env", default=None, metavar="VAR",
              help=f"Encrypt the key with the passphrase in this variable "
                   f"(default: {PASSPHRASE_ENV}, if set).")
@click.option("--force", is_flag=True, help="Overwrite an existing key file.")
def generate(out: str, key_type: str, passphrase_env: str | None, force: bool) -> None:
    """Write a new private key and print its did:key."""
    key = PrivateKey.generate({"ed25519": "Ed25519", "p256": "P-256", "p384": "P-384"}[key_type])
    try:
        save_private_key(Path(out), key, passphrase(passphrase_env), overwrite=force)
    except IssuerError as exc:
        raise Refused(exc.message) from None
    except OSError as exc:
        raise Unreadable(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(did_key_from_public_key(key.public_key))


def _in_service(work: Callable[[Session, ServiceContext], T]) -> T:
    """Run ``work`` in one unit of work on the configured service: all of it, or nothing."""
    with service_runtime() as rt, unit_of_work(rt) as session:
        return work(session, rt.services)


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


@keys_group.command("rotate")
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

    new_id, rows = _in_service(work)
    click.echo(new_id)
    click.echo("This key signs new badges from now on. The earlier keys stay in the DID "
               "document, so the badges they signed keep verifying.\n")
    click.echo(render_table(rows))


@keys_group.command("add")
@click.option("--issuer", "slug", required=True, help="The issuer's short name.")
@click.option("--type", "key_type", required=True,
              type=click.Choice(["Ed25519", "P-256", "P-384"], case_sensitive=False),
              help="P-256 or P-384: a key for ecdsa-rdfc-2019 / ecdsa-jcs-2019 proofs, beside "
                   "the Ed25519 key. Ed25519: the same as rotate.")
def add(slug: str, key_type: str) -> None:
    """Give an issuer a new signing key of a type.

    It replaces the issuer's active key of that type (which stays in the DID document);
    keys of the other types keep signing. An ECDSA key is listed in the did:web document as
    a Multikey and signs when a credential is issued with options.cryptosuite
    ecdsa-rdfc-2019 or ecdsa-jcs-2019. Prints the new key's id and the key report.
    """
    from issuer.services.issuers import get_issuer, method_id
    from issuer.services.keys import ISSUER_KEY_TYPES, key_report, rotate_key

    canonical = next(t for t in ISSUER_KEY_TYPES if t.lower() == key_type.lower())

    def work(session: Session, ctx: ServiceContext) -> tuple[str, list[Any]]:
        issuer = get_issuer(session, slug)
        new = rotate_key(session, ctx, issuer, canonical)
        return method_id(ctx, new), key_report(session, ctx, issuer)

    new_id, rows = _in_service(work)
    click.echo(new_id)
    click.echo(f"This {canonical} key signs from now on"
               + (" when a credential asks for an ECDSA cryptosuite; the Ed25519 key still "
                  "signs the others.\n" if canonical != "Ed25519" else ".\n"))
    click.echo(render_table(rows))


@keys_group.command("retire")
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

    done, retired_id, new_id, rows = _in_service(work)
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


@keys_group.command("report")
@click.option("--issuer", "slug", required=True, help="The issuer's short name.")
def report(slug: str) -> None:
    """Show every key of an issuer and how many badges each one signed."""
    from issuer.services.issuers import get_issuer
    from issuer.services.keys import key_report

    rows = _in_service(lambda session, ctx: key_report(session, ctx, get_issuer(session, slug)))
    click.echo(render_table(rows))


@keys_group.command("export-to-database")
def export_to_database() -> None:
    """Copy the issuers' key files into the database key store.

    Each key is sealed with ISSUER_KEY_ENCRYPTION_KEY (AES-256-GCM) in one transaction;
    keys already there are left as they are, so running it again changes nothing. Then set
    ISSUER_KEY_STORE=database on every node. The files are left in place.
    """
    from issuer.cli.common import service_settings
    from issuer.storage.keystore import DatabaseKeyStore, KeyStore, move_to_database

    settings = service_settings()
    kek = settings.kek
    if kek is None:
        raise Unreadable(f"set ISSUER_KEY_ENCRYPTION_KEY first: {KEK_HINT}")
    with service_runtime(settings) as rt, unit_of_work(rt) as session:
        done = move_to_database(session, KeyStore(settings.keys_dir, settings.passphrase),
                                DatabaseKeyStore(rt.engine, kek))
    click.echo(f"{_keys(len(done.moved))} moved into the database, sealed with "
               f"ISSUER_KEY_ENCRYPTION_KEY; {_keys(len(done.already))} already there.")
    if done.missing:
        click.echo("Retired keys whose files are gone were left out (they sign nothing "
                   f"any more): {', '.join(done.missing)}")
    click.echo("Set ISSUER_KEY_STORE=database on every node. The key files in "
               f"{settings.keys_dir} are then no longer read: once the database's backups "
               "hold the keys, they can be deleted.")


@keys_group.command("rewrap")
@click.option("--from-env", "old_env", required=True, metavar="VAR",
              help="The variable holding the previous key-encryption key.")
def rewrap(old_env: str) -> None:
    """Seal every stored key with a new key-encryption key.

    ISSUER_KEY_ENCRYPTION_KEY holds the new key, VAR the previous one. All keys are
    re-sealed in one transaction, or none; keys already sealed with the new one are left.
    """
    from issuer.cli.common import service_settings
    from issuer.config import kek_from
    from issuer.storage.keystore import DatabaseKeyStore

    settings = service_settings()
    kek = settings.kek
    if kek is None:
        raise Unreadable(f"set ISSUER_KEY_ENCRYPTION_KEY to the new key first: {KEK_HINT}")
    old = kek_from(old_env)
    with service_runtime(settings) as rt, unit_of_work(rt) as session:
        done, already = DatabaseKeyStore(rt.engine, kek).rewrap(session, old)
    click.echo(f"{_keys(done)} re-sealed with the key-encryption key in "
               f"ISSUER_KEY_ENCRYPTION_KEY; {_keys(already)} already were. Restart every "
               f"node with it; {old_env} is no longer needed.")


def _keys(count: int) -> str:
    return "1 key" if count == 1 else f"{count} keys"
