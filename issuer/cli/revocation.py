"""Revoking, suspending and reinstating credentials from the terminal.

``issuer revoke CREDENTIAL_ID --reason TEXT``, ``issuer suspend …`` and ``issuer reinstate
CREDENTIAL_ID [--reason TEXT]`` call the same use cases as the admin pages and the API, on
the service's database (ISSUER_* settings). CREDENTIAL_ID is the id or the credential's
address. Exit codes follow :mod:`issuer.cli.errors`: 0 done, 1 refused (unknown credential, a
change its state does not allow, no reason), 2 bad usage.
"""

from __future__ import annotations

import click

from issuer.cli.common import actor, service_runtime, unit_of_work


def _change(reference: str, action: str, reason: str | None) -> None:
    from issuer.services.errors import NotFound
    from issuer.services.revocation import change_status, credential_reference
    from issuer.storage.models import Credential, Issuer

    with service_runtime() as rt:
        ctx = rt.services
        credential_id = credential_reference(ctx, reference)
        with unit_of_work(rt) as session:
            credential = session.get(Credential, credential_id) if credential_id else None
            if credential is None:
                raise NotFound(f"no credential {reference!r} on this service")
            issuer = session.get(Issuer, credential.issuer_id)
            assert issuer is not None  # the foreign key keeps it
            event = change_status(session, ctx, issuer, credential.id, action,
                                  reason=reason, actor=actor())
            summary = (f"{event.to_status}: {ctx.base}/credentials/{credential.id} "
                       f"({credential.achievement_name}, "
                       f"{credential.recipient_name or credential.recipient_email or 'no name'})")
    click.echo(summary)
    if event.reason:
        click.echo(f"reason: {event.reason}")


_ID = click.argument("reference", metavar="CREDENTIAL_ID")


@click.command("revoke")
@_ID
@click.option("--reason", required=True, help="Why (kept with the change, shown with the "
                                              "badge).")
def revoke(reference: str, reason: str) -> None:
    """Revoke a credential for good: revocation cannot be undone."""
    _change(reference, "revoke", reason)


@click.command("suspend")
@_ID
@click.option("--reason", required=True, help="Why (kept with the change, shown with the "
                                              "badge).")
def suspend(reference: str, reason: str) -> None:
    """Suspend a credential until it is reinstated."""
    _change(reference, "suspend", reason)


@click.command("reinstate")
@_ID
@click.option("--reason", default=None, help="Why (optional, kept with the change).")
def reinstate(reference: str, reason: str | None) -> None:
    """Lift a suspension (a revoked credential stays revoked)."""
    _change(reference, "reinstate", reason)

