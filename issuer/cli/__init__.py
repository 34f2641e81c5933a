"""The ``issuer`` command: keys, signing and verification, and the service's administration.

Exit codes are a contract other tools rely on (:mod:`issuer.cli.errors`): 0 success (a valid
credential), 1 an invalid credential or a refused request, 2 input that cannot be read or a
setup that cannot be used. Each command lives in the module named for it; this module only
gathers them under one group, which also ends whatever no command handled in one line.

A command's module is imported when the command runs, not when ``issuer`` starts: ``issuer
verify`` in a script's loop must not pay for the web app, the database layer or the HTTP
client it never uses. ``issuer --help`` lists the commands from :data:`COMMANDS` without
importing any of them.
"""

from __future__ import annotations

import gc
import importlib
from typing import Any, NamedTuple

import click

from issuer.cli.common import PROGRAM, database_problem, is_database_error
from issuer.cli.errors import Unreadable, command_error
from issuer.core.errors import IssuerError


class LazyCommand(NamedTuple):
    """Where a command is defined (``module:attribute``) and the first sentence of its help,
    which ``issuer --help`` shows without importing the module."""

    target: str
    short_help: str


#: Every command, by name, in the order of concern (the help lists them sorted).
#: A test checks each short help against the command's own docstring.
COMMANDS: dict[str, LazyCommand] = {
    # Credentials, with or without a service.
    "sign": LazyCommand(
        "issuer.cli.credentials:sign",
        "Sign a credential and print it (JSON, or a compact JWT with --suite vc-jwt)."),
    "verify": LazyCommand(
        "issuer.cli.credentials:verify",
        "Verify a credential: JSON with an embedded proof, a compact JWT, or a baked "
        "PNG/SVG, from a file, standard input or an https URL."),
    "bake": LazyCommand(
        "issuer.cli.bake:bake",
        "Bake a signed credential into a badge image (OB 3.0 §5.3)."),
    "keys": LazyCommand("issuer.cli.keys:keys_group", "Create and inspect signing keys."),
    # A credential's status, a learner's transcript and bulk awards, on the service's database.
    "revoke": LazyCommand(
        "issuer.cli.revocation:revoke",
        "Revoke a credential for good: revocation cannot be undone."),
    "suspend": LazyCommand(
        "issuer.cli.revocation:suspend", "Suspend a credential until it is reinstated."),
    "reinstate": LazyCommand(
        "issuer.cli.revocation:reinstate",
        "Lift a suspension (a revoked credential stays revoked)."),
    "transcript": LazyCommand(
        "issuer.cli.transcript:transcript",
        "Print a learner's CPD transcript: hours per period and category, with the badges."),
    "wallet-links": LazyCommand(
        "issuer.cli.wallet:wallet_links",
        "Start a wallet exchange for a credential and print the links a wallet opens."),
    "award-bulk": LazyCommand(
        "issuer.cli.bulk:award_bulk",
        "Award a badge to everyone in a CSV file (columns: recipient, name, evidence_url, "
        "evidence_name, evidence_narrative, narrative, valid_until)."),
    # The service itself, and who may act on it.
    "init": LazyCommand(
        "issuer.cli.service:init", "Create or upgrade the database (and the demo data)."),
    "serve": LazyCommand(
        "issuer.cli.service:serve",
        "Run the service with a production WSGI server (gunicorn), over https with "
        "--certfile and --keyfile."),
    "worker": LazyCommand(
        "issuer.cli.worker:worker",
        "Run background work (bulk awards, mail retries) until stopped."),
    "issuers": LazyCommand("issuer.cli.accounts:issuers", "Issuers hosted by this service."),
    "tokens": LazyCommand("issuer.cli.accounts:tokens", "API bearer tokens."),
    "users": LazyCommand("issuer.cli.accounts:users", "Staff accounts for the admin pages."),
    "policies": LazyCommand(
        "issuer.cli.policies:policies",
        "What an achievement asks of a claim's measured help (people helped, communities…)."),
    # Evidence of informal learning from community archives, without the service.
    "activity": LazyCommand(
        "issuer.cli.activity:activity",
        "Evidence of informal learning: help given in forums, Q&A sites, lists and "
        "social media."),
}


def load_command(name: str) -> click.Command:
    """The command ``name`` of :data:`COMMANDS`, importing its module."""
    module_name, attribute = COMMANDS[name].target.split(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):  # pragma: no cover - a wrong table entry
        raise TypeError(f"{COMMANDS[name].target} is not a click command")
    return command


class _Commands(click.Group):
    """The ``issuer`` group: commands loaded on first use (click's lazy group pattern), and
    what no command handled itself still ends in one line and an exit code, never a
    traceback.

    An error of the core or the services ends with the exit code it states (``exit_code``:
    a wrong setting or bundled data that cannot be read is 2, a refusal 1). A database that
    cannot be used (a missing table, a server that is down) or a folder that cannot be made
    is exit 2.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        command = load_command(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``issuer --help``, from :data:`COMMANDS` (no import)."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in COMMANDS and name not in self.commands:
                # Shortened as click shortens a command's own help, without importing it.
                stand_in = click.Command(name, help=COMMANDS[name].short_help)
                text = stand_in.get_short_help_str(limit)
            else:
                text = self.commands[name].get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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


def run() -> None:
    """The installed ``issuer`` program: :func:`main`, in a process that ends with it.

    When the command is over the process exits, and the interpreter's last act would be a
    full collection of every object left: the JSON-LD contexts, the schemas and the modules
    of the core, none of them garbage, about a tenth of what ``issuer verify`` costs. They
    are frozen instead (``gc.freeze``), so the exit skips that walk; files, output and
    ``atexit`` work end as before. Only the console script calls this: a program that
    calls :func:`main` in its own process keeps its collector as it was.
    """
    PROGRAM["running"] = True
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    run()
