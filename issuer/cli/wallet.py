"""Wallet links for a credential of this service, from the terminal.

``issuer wallet-links CREDENTIAL_ID`` starts a fresh single-use exchange (the same use case as
the learner's "Add to wallet" page, :mod:`issuer.services.exchanges`) and prints, one per
line, the Learner Credential Wallet's direct link (``https://lcw.app/request.html?…``) and
the ``dccrequest://request?request=…`` link, then a fresh OpenID4VCI credential offer
(``openid-credential-offer://?credential_offer_uri=…``, :mod:`issuer.services.oid4vci`); with
``--tx-code`` the offer has a transaction code, printed on a fourth line. Staff hand a badge
to a wallet by other channels with them; scripts and checks use them to play a wallet.
CREDENTIAL_ID is the id or the credential's address. Exit codes follow
:mod:`issuer.cli.errors`: 0 done, 1 refused (unknown, revoked or suspended credential), 2 bad
usage.
"""

from __future__ import annotations

import click

from issuer.cli.common import actor, service_runtime, unit_of_work


def wallet_link_lines(reference: str, *, tx_code: bool = False) -> list[str]:
    """The links of a fresh exchange for the credential ``reference`` names, in order; with
    ``tx_code``, the offer's transaction code after them."""
    from issuer.services.errors import NotFound
    from issuer.services.exchanges import start_exchange
    from issuer.services.oid4vci import create_offer, new_tx_code
    from issuer.services.revocation import credential_reference
    from issuer.storage.models import Credential

    with service_runtime() as rt:
        ctx = rt.services
        credential_id = credential_reference(ctx, reference)
        with unit_of_work(rt) as session:
            credential = session.get(Credential, credential_id) if credential_id else None
            if credential is None:
                raise NotFound(f"no credential {reference!r} on this service")
            started = start_exchange(session, ctx, credential, started_by=actor())
            lines = [started.lcw_link, started.dcc_link]
            offer = create_offer(session, ctx, credential, created_by=actor(),
                                 tx_code=new_tx_code() if tx_code else None)
            lines.append(offer.link)
            if offer.tx_code is not None:
                lines.append(offer.tx_code)
            # Further hand-over protocols append their own link for the same credential
            # here, inside the same unit of work, so every printed link is committed.
    return lines


@click.command("wallet-links")
@click.argument("reference", metavar="CREDENTIAL_ID")
@click.option("--tx-code", "tx_code", is_flag=True,
              help="Give the OpenID4VCI offer a transaction code, printed after the links, "
                   "for the learner to type into the wallet.")
def wallet_links(reference: str, tx_code: bool) -> None:
    """Start a wallet exchange for a credential and print the links a wallet opens."""
    for line in wallet_link_lines(reference, tx_code=tx_code):
        click.echo(line)
