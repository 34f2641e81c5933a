"""How an ``issuer`` command ends when it cannot do what was asked: one line, one exit code.

The exit codes are a contract scripts and other tools rely on:

- 0 (:data:`EXIT_OK`): done; for ``issuer verify``, the credential is valid.
- 1 (:data:`EXIT_INVALID`): the credential is invalid, or the request was refused.
- 2 (:data:`EXIT_UNREADABLE`): input that cannot be read (a missing file, text that is not
  UTF-8, bad usage) or a setup that cannot be used (a wrong setting, a database that is not
  set up, bundled data that cannot be read).

Errors of the core and the services state their own code (``exit_code``,
:mod:`issuer.core.errors`); :func:`command_error` turns one into the matching exception.
"""

from __future__ import annotations

import click

from issuer.core.errors import EXIT_INVALID, EXIT_UNREADABLE, IssuerError

EXIT_OK = 0

__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_UNREADABLE",
    "CommandError",
    "Refused",
    "Unreadable",
    "command_error",
]


class CommandError(click.ClickException):
    """A command that stops: click prints ``Error: <message>`` and exits with the code."""

    exit_code = EXIT_INVALID


class Refused(CommandError):
    """An invalid credential or a refused request (exit 1)."""

    exit_code = EXIT_INVALID


class Unreadable(CommandError):
    """Input that cannot be read, or a setup that cannot be used (exit 2)."""

    exit_code = EXIT_UNREADABLE


def command_error(exc: IssuerError) -> CommandError:
    """The exception that ends a command with ``exc``'s message and its own exit code."""
    kind = Unreadable if exc.exit_code == EXIT_UNREADABLE else Refused
    return kind(exc.message)
