"""The ``issuer`` command: keys, signing and verification, and the service's administration.

Exit codes are a contract other tools rely on (:mod:`issuer.cli.errors`): 0 success (a valid
credential), 1 an invalid credential or a refused request, 2 input that cannot be read or a
setup that cannot be used. Each command lives in the module named for it; this module only
gathers them under one group, which also ends whatever no command handled in one line.
"""

from __future__ import annotations

from typing import Any

import click

from issuer.cli.accounts import issuers, tokens, users
from issuer.cli.activity import activity
from issuer.cli.bake import bake
from issuer.cli.bulk import award_bulk
from issuer.cli.common import database_problem, is_database_error
from issuer.cli.credentials import sign, verify
from issuer.cli.errors import Unreadable, command_error
from issuer.cli.keys import keys_group
from issuer.cli.revocation import reinstate, revoke, suspend
from issuer.cli.service import init, serve
from issuer.cli.transcript import transcript
from issuer.core.errors import IssuerError


class _Commands(click.Group):
    """The ``issuer`` group: what no command handled itself still ends in one line and an
    exit code, never a traceback.

    An error of the core or the services ends with the exit code it states (``exit_code``:
    a wrong setting or bundled data that cannot be read is 2, a refusal 1). A database that
    cannot be used (a missing table, a server that is down) or a folder that cannot be made
    is exit 2.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IssuerError as exc:
            raise command_error(exc) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise Unreadable(f"cannot use {where}{exc.strerror or exc}") from None
        except Exception as exc:
            if is_database_error(exc):
                raise Unreadable(database_problem(exc)) from None
            raise


@click.group(cls=_Commands)
@click.version_option(package_name="issuer")
def main() -> None:
    """Open Badges 3.0 issuer: sign and verify credentials, run the service."""


# Credentials, with or without a service.
main.add_command(sign)
main.add_command(verify)
main.add_command(bake)
main.add_command(keys_group)
# A credential's status, a learner's transcript and bulk awards, on the service's database.
main.add_command(revoke)
main.add_command(suspend)
main.add_command(reinstate)
main.add_command(transcript)
main.add_command(award_bulk)
# The service itself, and who may act on it.
main.add_command(init)
main.add_command(serve)
main.add_command(issuers)
main.add_command(tokens)
main.add_command(users)
# Evidence of informal learning from community archives, without the service.
main.add_command(activity)


if __name__ == "__main__":  # pragma: no cover
    main()
