"""``issuer transcript``: a learner's CPD transcript from the terminal.

``issuer transcript --learner EMAIL [--from DATE] [--to DATE] --format clr|csv [--out PATH]``
prints (or writes) the signed CLR 2.0 ClrCredential or the CSV file the learner downloads from
``/learn/transcript``, through the same use cases. Exit codes follow ``issuer``: 0 done,
1 refused (unknown learner, no badge in the period), 2 bad usage (a date that is not a date).
"""

from __future__ import annotations

import getpass
import json
from datetime import date
from pathlib import Path

import click

from issuer.core.errors import IssuerError


class _Refused(click.ClickException):
    exit_code = 1


class _Unwritable(click.ClickException):
    exit_code = 2


def _actor() -> str:
    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        who = "unknown user"
    return f"cli ({who})"[:320]


def _date(value: str | None, option: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date such as 2024-01-31",
                                 param_hint=option) from None


@click.command("transcript")
@click.option("--learner", "email", required=True, metavar="EMAIL",
              help="The learner's e-mail address (their sign-in address).")
@click.option("--from", "start", default=None, metavar="DATE",
              help="First day of the period, YYYY-MM-DD (included).")
@click.option("--to", "end", default=None, metavar="DATE",
              help="Last day of the period, YYYY-MM-DD (included).")
@click.option("--format", "fmt", required=True, type=click.Choice(["clr", "csv"]),
              help="clr: the signed CLR 2.0 ClrCredential (JSON); csv: a spreadsheet.")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False),
              help="Write to this file instead of printing.")
def transcript(email: str, start: str | None, end: str | None, fmt: str,
               out: str | None) -> None:
    """Print a learner's CPD transcript: hours per period and category, with the badges."""
    from sqlalchemy import func, select

    from issuer.config import Settings
    from issuer.runtime import build_runtime
    from issuer.services.errors import NotFound
    from issuer.services.profiles import link_badges
    from issuer.services.transcripts import build_clr, period, transcript_csv
    from issuer.services.transcripts import transcript as make_transcript
    from issuer.storage.db import transaction
    from issuer.storage.learning import Learner

    first, last = _date(start, "--from"), _date(end, "--to")
    if first and last and last < first:
        raise click.BadParameter("the period ends before it starts", param_hint="--to")
    # A wrong setting ends the command in one line, exit 2 (issuer.cli._Commands).
    settings = Settings.from_env()
    rt = build_runtime(settings)
    address = email.strip().lower()
    try:
        with transaction(rt.sessions) as session:
            learner = session.scalar(select(Learner).where(func.lower(Learner.email) == address))
            if learner is None:
                raise NotFound(f"no learner with the address {email.strip()[:320]!r}")
            # Badges staff awarded to the address count too, as on the learner's pages.
            link_badges(session, learner)
            if fmt == "clr":
                text = json.dumps(build_clr(session, rt.services, learner, first, last,
                                            actor_name=_actor()),
                                  ensure_ascii=False, indent=2) + "\n"
            else:
                text = transcript_csv(make_transcript(session, rt.services, learner,
                                                      period(first, last)))
    except IssuerError as exc:
        raise _Refused(exc.message) from None
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise _Unwritable(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {out}", err=True)


def register(main: click.Group) -> None:
    main.add_command(transcript)
