"""Bulk award from the terminal: ``issuer award-bulk``.

The same checks and the same use cases as the web page and the API. Exit codes follow the
``issuer`` contract: 0 when every row chosen for issuing was issued, 1 when the file has
problems (nothing is issued) or a row could not be issued, 2 when the file cannot be read.
Each email recipient is sent their badge link (``--no-email``: nobody is); an email that
cannot be sent is reported on stderr but does not change the exit code, since the badge is
issued.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from issuer.cli.common import service_runtime, unit_of_work
from issuer.cli.errors import Refused, Unreadable

if TYPE_CHECKING:
    from issuer.runtime import Runtime


@click.command("award-bulk")
@click.option("--issuer", "issuer_slug", required=True, help="The issuer's short name.")
@click.option("--achievement", "achievement_slug", required=True,
              help="The short name of the badge to award.")
@click.option("--issue-valid-rows", is_flag=True,
              help="Issue the rows without problems even if other rows have some.")
@click.option("--no-email", "no_email", is_flag=True,
              help="Do not email the recipients their badge link.")
@click.argument("csv_file", metavar="FILE.csv")
def award_bulk(issuer_slug: str, achievement_slug: str, issue_valid_rows: bool,
               no_email: bool, csv_file: str) -> None:
    """Award a badge to everyone in a CSV file (columns: recipient, name,
    evidence_url, evidence_name, evidence_narrative, narrative, valid_until).

    Each recipient with an email address is emailed their badge link (with the
    ISSUER_SMTP_* settings) unless --no-email is given. Prints one line per credential,
    ``recipient<TAB>url``; progress and the emails' outcome go to stderr.
    """
    try:
        data = Path(csv_file).read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read {csv_file}: {exc.strerror or exc}") from None
    # A wrong setting ends the command in one line, exit 2 (issuer.cli._Commands).
    with service_runtime() as rt:
        _award_bulk(rt, data, csv_file, issuer_slug, achievement_slug, issue_valid_rows,
                    no_email)


def _award_bulk(rt: Runtime, data: bytes, csv_file: str, issuer_slug: str, achievement_slug: str,
                issue_valid_rows: bool, no_email: bool) -> None:
    from issuer.jobs.bulk import run_bulk_job
    from issuer.services.achievements import get_achievement
    from issuer.services.award_mail import job_mail_counts
    from issuer.services.awards import credential_url
    from issuer.services.bulk import (
        BATCH_SIZE,
        DONE,
        PENDING,
        RowOutcome,
        create_job,
        parse_csv,
        rows_to_issue,
    )
    from issuer.services.issuers import get_issuer
    from issuer.storage.models import BulkJob

    ctx = rt.services
    parsed = parse_csv(data, today=ctx.now().date(),
                       max_bytes=ctx.settings.max_content_length)
    for message in parsed.messages:
        click.echo(message, err=True)
    rows = rows_to_issue(parsed, issue_valid_rows)
    with unit_of_work(rt) as session:
        issuer = get_issuer(session, issuer_slug)
        achievement = get_achievement(session, issuer, achievement_slug)
        job_id = create_job(session, ctx, issuer, achievement, status=PENDING,
                            total=len(rows), filename=Path(csv_file).name,
                            skipped=parsed.errors, actor="cli").id

    issued: list[RowOutcome] = []
    failed: list[RowOutcome] = []
    with click.progressbar(length=len(rows), label="Issuing", file=sys.stderr) as bar:
        def on_batch(batch: list[RowOutcome]) -> None:
            for outcome in batch:
                (issued if outcome.credential_id else failed).append(outcome)
            bar.update(len(batch))

        def on_mailing(count: int) -> None:
            click.echo(f"\nEmailing {count} recipient(s) their badge link…", err=True)

        status = run_bulk_job(rt.sessions, ctx, job_id, rows, actor="cli",
                              batch_size=BATCH_SIZE, on_batch=on_batch,
                              notify=not no_email, on_mailing=on_mailing)
    for outcome in issued:
        click.echo(f"{outcome.recipient}\t{credential_url(ctx, outcome.credential_id or '')}")
    for outcome in failed:
        click.echo(outcome.error or f"row {outcome.row}: not issued", err=True)
    if parsed.errors:
        click.echo(f"{len(parsed.errors)} row(s) with problems were skipped", err=True)
    with unit_of_work(rt) as session:
        mail = job_mail_counts(session, ctx, job_id)
    for line in _mail_lines(mail, emailed=not no_email):
        click.echo(line, err=True)
    if status != DONE:
        with unit_of_work(rt) as session:
            job = session.get(BulkJob, job_id)
            message = job.message if job is not None else None
        raise Refused(message or "the bulk award stopped")
    if failed:
        raise Refused(f"{len(failed)} row(s) could not be issued")


def _mail_lines(counts: dict[str, int], *, emailed: bool) -> list[str]:
    """What became of the recipients' emails, in words for stderr."""
    lines = []
    if counts["sent"]:
        lines.append(f"{counts['sent']} recipient(s) were emailed their badge link")
    if counts["failed"]:
        lines.append(f"{counts['failed']} email(s) could not be sent (the badges are issued; "
                     "send those people their link yourself)")
    if counts["held"]:
        lines.append(f"{counts['held']} email(s) wait in the outbox: no SMTP server is "
                     "configured (ISSUER_SMTP_HOST)")
    if counts["queued"]:
        lines.append(f"{counts['queued']} email(s) are still waiting to be sent")
    if counts["none"] and not emailed:
        lines.append(f"{counts['none']} recipient(s) were not emailed (--no-email)")
    if counts["no_address"]:
        lines.append(f"{counts['no_address']} recipient(s) are DIDs and get no email: send "
                     "them their link yourself")
    return lines
