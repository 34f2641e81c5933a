"""``issuer transcript``: a learner's CPD transcript from the terminal.

``issuer transcript --learner EMAIL [--from DATE] [--to DATE] --format clr|csv [--out PATH]``
prints (or writes) the signed CLR 2.0 ClrCredential or the CSV file the learner downloads from
``/learn/transcript``, through the same use cases. Exit codes follow :mod:`issuer.cli.errors`:
0 done, 1 refused (unknown learner, no badge in the period), 2 bad usage (a date that is not a
date) or a file that cannot be written.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from issuer.cli.common import actor, service_runtime, unit_of_work
from issuer.cli.errors import Unreadable


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

    from issuer.services.errors import NotFound
    from issuer.services.profiles import link_badges
    from issuer.services.transcripts import build_clr, period, transcript_csv
    from issuer.services.transcripts import transcript as make_transcript
    from issuer.storage.learning import Learner

    first, last = _date(start, "--from"), _date(end, "--to")
    if first and last and last < first:
        raise click.BadParameter("the period ends before it starts", param_hint="--to")
    address = email.strip().lower()
    with service_runtime() as rt, unit_of_work(rt) as session:
        learner = session.scalar(select(Learner).where(func.lower(Learner.email) == address))
        if learner is None:
            raise NotFound(f"no learner with the address {email.strip()[:320]!r}")
        # Badges staff awarded to the address count too, as on the learner's pages.
        link_badges(session, learner)
        if fmt == "clr":
            text = json.dumps(build_clr(session, rt.services, learner, first, last,
                                        actor_name=actor()),
                              ensure_ascii=False, indent=2) + "\n"
        else:
            text = transcript_csv(make_transcript(session, rt.services, learner,
                                                  period(first, last)))
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise Unreadable(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {out}", err=True)

