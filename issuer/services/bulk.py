"""Bulk award from a CSV file: the whole file is checked first, then issued row by row.

Nothing is issued from a file with problems unless the person chooses to issue only its
valid rows. Issuing runs in batches (:func:`issue_batch`), each of which the runner
(:mod:`issuer.jobs.bulk`) commits on its own, so progress is visible while it runs, memory
stays flat, and a crash leaves every finished batch issued and the job marked failed.

Each recipient with an email address is sent the "badge awarded" mail (unless the caller
chooses not to): queued with their credential, in the batch's transaction, and delivered
by the runner once every row is issued and the job is done, so SMTP never slows issuing
down and a mail that fails never fails a row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from issuer.core.credentials import normalize_email
from issuer.core.errors import IssuerError
from issuer.services.award_mail import award_mail_values
from issuer.services.awards import (
    AwardRequest,
    EvidenceItem,
    Recipient,
    award,
    write_credentials,
)
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.mail import Outgoing, insert_messages
from issuer.services.status_lists import Slot, allocate_many, release_many
from issuer.storage.jobs import BulkRowKey, BulkRun
from issuer.storage.models import Achievement, BulkJob, Credential, Issuer

COLUMNS = (
    "recipient", "name", "evidence_url", "evidence_name", "evidence_narrative", "narrative",
    "valid_until",
)
REQUIRED_COLUMNS = ("recipient",)
MAX_ROWS = 10_000
BATCH_SIZE = 50
LIMITS = {"name": 200, "evidence_url": 500, "evidence_name": 500,
          "evidence_narrative": 20_000, "narrative": 20_000}
_HTTP_URL = re.compile(r"^https?://[^\s<>\"]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: Job states. "preview": uploaded and checked, waiting for a person to confirm.
PREVIEW, PENDING, RUNNING, DONE, FAILED, CANCELLED = (
    "preview", "pending", "running", "done", "failed", "cancelled",
)
FINISHED = (DONE, FAILED, CANCELLED)


@dataclass(frozen=True)
class CsvRow:
    """One valid row; ``row`` is the row number a spreadsheet shows (the header is row 1)."""

    row: int
    recipient: str
    name: str | None = None
    evidence_url: str | None = None
    evidence_name: str | None = None
    evidence_narrative: str | None = None
    narrative: str | None = None
    valid_until: date | None = None

    def award_request(self) -> AwardRequest:
        evidence = ()
        if self.evidence_url or self.evidence_name or self.evidence_narrative:
            evidence = (EvidenceItem(url=self.evidence_url, name=self.evidence_name,
                                     narrative=self.evidence_narrative),)
        return AwardRequest(
            recipient=Recipient.parse(self.recipient, self.name),
            evidence=evidence,
            narrative=self.narrative,
            valid_until=end_of_day(self.valid_until) if self.valid_until else None,
        )


@dataclass(frozen=True)
class RowError:
    """A row that will not be issued, and why, in words a spreadsheet user understands."""

    row: int
    message: str
    recipient: str | None = None

    @property
    def text(self) -> str:
        return f"row {self.row}: {self.message}"

    def to_json(self, stage: str = "validation") -> dict[str, Any]:
        return {"row": self.row, "recipient": self.recipient, "message": self.text,
                "stage": stage}


@dataclass
class ParsedCsv:
    """The outcome of checking a file.

    ``problems`` concern the whole file (no header, unknown columns, not UTF-8, too many
    rows): nothing can be issued from it. ``errors`` concern single rows, which are left out
    only if the person chooses to issue the valid rows.
    """

    rows: list[CsvRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.errors

    @property
    def usable(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def messages(self) -> list[str]:
        return [*self.problems, *(e.text for e in self.errors)]


def end_of_day(day: date) -> datetime:
    """A date-only expiry means "valid through that day" (UTC)."""
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)


# --- parsing -------------------------------------------------------------------------------


def _header_name(cell: str) -> str:
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def _delimiter(first_line: str) -> str:
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        return ","  # one column, or nothing a sniffer can tell apart


def _looks_like_data(cells: Sequence[str]) -> bool:
    return any("@" in c or c.strip().startswith("did:") for c in cells)


def parse_csv(data: bytes, *, today: date | None = None,
              max_bytes: int | None = None) -> ParsedCsv:
    """Check a CSV file of recipients (see ``COLUMNS``); never raises on bad input.

    ``today`` turns an expiry date that has passed into a row error; ``max_bytes`` is the
    size limit the web app applies to uploads, applied here to files from the terminal too.
    """
    parsed = ParsedCsv()
    if max_bytes is not None and len(data) > max_bytes:
        parsed.problems.append(
            f"the file is larger than {max_bytes // 1024} KB; split it into smaller files")
        return parsed
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        parsed.problems.append(
            "the file is not UTF-8 text; in your spreadsheet choose "
            "'Save as' → 'CSV UTF-8' and upload that file")
        return parsed
    if "\x00" in text:
        parsed.problems.append("the file is not a text CSV file (it contains binary data)")
        return parsed
    if not text.strip():
        parsed.problems.append("the file is empty")
        return parsed
    first_line = text.lstrip("\r\n").splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        _read(reader, parsed, today)
    except csv.Error as exc:
        parsed.rows.clear()
        parsed.problems.append(
            f"the file cannot be read as CSV near line {reader.line_num}: {exc}")
    return parsed


def _read(reader: Any, parsed: ParsedCsv, today: date | None) -> None:
    header: list[str] | None = None
    seen: dict[str, int] = {}
    count = 0
    for index, cells in enumerate(reader):
        number = index + 1  # the row number a spreadsheet shows
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [_header_name(c) for c in cells]
            if not _check_header(header, cells, parsed):
                return
            continue
        count += 1
        if count > MAX_ROWS:
            parsed.rows.clear()
            parsed.errors.clear()
            parsed.problems.append(
                f"the file has more than {MAX_ROWS:,} rows; split it into smaller files")
            return
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            parsed.errors.append(RowError(
                number, f"it has {len(cells)} cells but the first row names "
                        f"{len(header)} columns (is a comma or semicolon inside a value "
                        "that is not in quotes?)"))
            continue
        values = {name: (cells[i].strip() if i < len(cells) else "")
                  for i, name in enumerate(header) if name}
        row = _check_row(number, values, parsed, today)
        if row is None:
            continue
        key = row.recipient  # emails are normalised; DIDs are case-sensitive
        if key in seen:
            parsed.errors.append(RowError(
                number, f"{row.recipient} is already on row {seen[key]}; each person "
                        "can receive the badge once per file", row.recipient))
            continue
        seen[key] = number
        parsed.rows.append(row)
    if header is None:
        parsed.problems.append("the file is empty")
    elif count == 0:
        parsed.problems.append("the file has a header row but no recipients")


def _check_header(header: list[str], cells: list[str], parsed: ParsedCsv) -> bool:
    parsed.columns = header
    expected = ", ".join(COLUMNS)
    if "recipient" not in header and _looks_like_data(cells):
        parsed.problems.append(
            f"the first row must name the columns ({expected}); it looks like a recipient "
            "instead. Add a header row at the top")
        return False
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        parsed.problems.append(
            f"the first row must name the columns; the column '{missing[0]}' is missing "
            f"(the columns are: {expected})")
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        listed = ", ".join(f"'{u}'" for u in unknown)
        parsed.problems.append(
            f"unknown column(s) {listed}: rename or remove them (the columns are: "
            f"{expected})")
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        parsed.problems.append(f"the column '{repeated[0]}' appears more than once")
    return not parsed.problems


def _check_row(number: int, values: dict[str, str], parsed: ParsedCsv,
               today: date | None) -> CsvRow | None:
    def fail(message: str) -> None:
        parsed.errors.append(RowError(number, message, values.get("recipient") or None))

    identity = values.get("recipient", "")
    if not identity:
        fail("the recipient is missing (an email address or a DID)")
        return None
    try:
        recipient = Recipient.parse(identity)
    except Invalid:
        fail(f"'{identity}' is not an email address or a DID")
        return None
    cleaned = recipient.did or normalize_email(identity)
    for name, limit in LIMITS.items():
        if len(values.get(name, "")) > limit:
            fail(f"the {name.replace('_', ' ')} is longer than {limit:,} characters")
            return None
    url = values.get("evidence_url") or None
    if url is not None and not _HTTP_URL.match(url):
        fail(f"the evidence URL '{url}' is not a web address starting with http:// or "
             "https://")
        return None
    expiry: date | None = None
    raw_date = values.get("valid_until") or ""
    if raw_date:
        try:
            if not _DATE.match(raw_date):
                raise ValueError
            expiry = date.fromisoformat(raw_date)
        except ValueError:
            fail(f"the expiry date '{raw_date}' is not a date written as YYYY-MM-DD "
                 "(for example 2027-06-30)")
            return None
        if today is not None and expiry < today:
            fail(f"the expiry date {raw_date} has already passed")
            return None
    return CsvRow(
        row=number, recipient=cleaned, name=values.get("name") or None,
        evidence_url=url, evidence_name=values.get("evidence_name") or None,
        evidence_narrative=values.get("evidence_narrative") or None,
        narrative=values.get("narrative") or None, valid_until=expiry,
    )


def rows_to_issue(parsed: ParsedCsv, issue_valid_rows: bool) -> list[CsvRow]:
    """The rows a job may issue; refuses when the person has not chosen to skip bad rows."""
    if parsed.problems:
        raise Invalid(f"the file cannot be used: {parsed.problems[0]}",
                      {"file": parsed.problems[0]})
    if parsed.errors and not issue_valid_rows:
        count = len(parsed.errors)
        raise Invalid(
            f"{count} row{'s' if count != 1 else ''} of the file "
            f"{'have' if count != 1 else 'has'} problems, so nothing was issued. Fix "
            f"them, or choose to issue the {len(parsed.rows)} valid rows",
            {"file": parsed.errors[0].text},
        )
    if not parsed.rows:
        raise Invalid("no row of the file can be issued", {"file": "no valid rows"})
    return list(parsed.rows)


# --- jobs ----------------------------------------------------------------------------------


def create_job(session: Session, ctx: ServiceContext, issuer: Issuer,
               achievement: Achievement, *, status: str, total: int = 0,
               source: bytes | None = None, filename: str | None = None,
               skipped: Sequence[RowError] = (), actor: str | None = None,
               notify: bool = True) -> BulkJob:
    """A new job. A pending one with its file (``source``) is queued for the workers
    (:mod:`issuer.services.bulk_runs`); one without is run by its caller."""
    if achievement.issuer_id != issuer.id:
        raise NotFound("that achievement belongs to another issuer")
    job = BulkJob(
        issuer_id=issuer.id, achievement_id=achievement.id, status=status, total=total,
        done=0, failed=0, errors=[e.to_json() for e in skipped], created_at=ctx.now(),
        created_by=actor, source=source, filename=(filename or "")[:255] or None,
    )
    session.add(job)
    session.flush()
    if status == PENDING and source is not None:
        _queue(session, ctx, job, notify)
    return job


def _queue(session: Session, ctx: ServiceContext, job: BulkJob, notify: bool) -> None:
    digest = hashlib.sha256(job.source).hexdigest() if job.source is not None else None
    session.add(BulkRun(bulk_job_id=job.id, notify=notify, attempts=0, created_at=ctx.now(),
                        source_digest=digest))
    session.flush()


def row_key(job: BulkJob, digest: str, row: int) -> str:
    """The key of one row of a file for one achievement (:class:`BulkRowKey`)."""
    return hashlib.sha256(f"{job.issuer_id}:{job.achievement_id}:{digest}:{row}".encode()
                          ).hexdigest()


def get_job(session: Session, issuer: Issuer, job_id: int) -> BulkJob:
    job = session.get(BulkJob, job_id)
    if job is None or job.issuer_id != issuer.id:
        raise NotFound("no such bulk award")
    return job


def list_jobs(session: Session, issuer: Issuer, limit: int = 20) -> Sequence[BulkJob]:
    return session.scalars(select(BulkJob).where(BulkJob.issuer_id == issuer.id)
                           .order_by(BulkJob.created_at.desc(), BulkJob.id.desc())
                           .limit(limit)).all()


def confirm_job(session: Session, job: BulkJob, rows: Sequence[CsvRow],
                skipped: Sequence[RowError], *, ctx: ServiceContext | None = None,
                notify: bool = True) -> None:
    """Move a previewed job to "pending"; refuses a job confirmed twice (double submit).
    With ``ctx`` it is queued for the workers, who read its rows from its file."""
    changed = session.execute(
        update(BulkJob).where(BulkJob.id == job.id, BulkJob.status == PREVIEW)
        .values(status=PENDING, total=len(rows), errors=[e.to_json() for e in skipped])
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        raise Conflict("this bulk award has already been started or cancelled")
    session.refresh(job)
    if ctx is not None:
        _queue(session, ctx, job, notify)


def cancel_job(session: Session, ctx: ServiceContext, job: BulkJob) -> bool:
    """Cancel a job: at once if nothing is being issued (True); a queued job that a worker
    is running stops before its next batch, keeping the rows issued so far (False)."""
    run = session.get(BulkRun, job.id)
    if job.status in (PENDING, RUNNING) and run is not None:
        if run.cancel_requested_at is None:
            run.cancel_requested_at = ctx.now()
        if job.status == PENDING and run.lease_owner is None:
            _stop(session, ctx, job)
            return True
        session.flush()
        return False
    if job.status != PREVIEW:
        raise Conflict("only a bulk award that has not finished can be cancelled")
    _stop(session, ctx, job)
    return True


def _stop(session: Session, ctx: ServiceContext, job: BulkJob) -> None:
    job.status = CANCELLED
    job.finished_at = ctx.now()
    job.source = None
    session.flush()


def job_credentials(session: Session, job: BulkJob) -> Sequence[Credential]:
    """The job's credentials in the order of the file's rows."""
    return session.scalars(select(Credential).where(Credential.bulk_job_id == job.id)
                           .order_by(Credential.bulk_row.asc().nulls_last(),
                                     Credential.issued_at, Credential.recipient_email,
                                     Credential.id)).all()


def skipped_count(job: BulkJob) -> int:
    return sum(1 for e in job.errors or [] if e.get("stage") == "validation")


@dataclass(frozen=True)
class RowOutcome:
    row: int
    recipient: str
    credential_id: str | None = None
    error: str | None = None
    #: ``error`` without the row number, as the job's error list keeps it.
    message: str | None = None


def begin_run(session: Session, job_id: int) -> None:
    """Mark a pending job as running; refuses a job that is not waiting to run (a job runs
    once)."""
    job = session.get(BulkJob, job_id)
    if job is None:
        raise NotFound(f"no bulk award {job_id}")
    if job.status != PENDING:
        raise Conflict(f"the bulk award is {job.status}, not waiting to run")
    job.status = RUNNING
    session.flush()


def issue_batch(session: Session, ctx: ServiceContext, job_id: int, rows: Sequence[CsvRow],
                *, actor: str | None = None,
                mail: bool = True) -> tuple[list[RowOutcome], list[Outgoing]]:
    """Issue ``rows`` of a running job: the credentials, their mail (with ``mail``) and the
    job's counters, all in the caller's transaction, which the caller commits as one.

    A row that cannot be issued is counted with its reason and leaves nothing behind.
    Returns each row's outcome and the mail written.
    """
    job = session.get(BulkJob, job_id)
    if job is None:
        raise NotFound(f"no bulk award {job_id}")
    issuer, achievement = _job_subjects(session, job)
    # The batch's status indexes in one statement rather than one per row.
    slots = allocate_many(session, ctx, issuer, len(rows)) if rows else []
    outcomes: list[RowOutcome] = []
    issued: list[Credential] = []
    for row in rows:
        outcomes.append(_issue_row(session, ctx, job, issuer, achievement, row, actor,
                                   issued, slots))
    written = _finish_batch(session, ctx, job, outcomes, issued, slots, mail)
    return outcomes, written


def end_run(session: Session, ctx: ServiceContext, job_id: int) -> None:
    """Mark a running job done; its file is no longer needed."""
    job = session.get(BulkJob, job_id)
    if job is None:
        raise NotFound(f"no bulk award {job_id}")
    job.status = DONE
    job.finished_at = ctx.now()
    job.source = None
    session.flush()


def mark_failed(session: Session, ctx: ServiceContext, job_id: int, message: str) -> None:
    """Mark a job that stopped as failed, with ``message``; a finished job stays as it is."""
    job = session.get(BulkJob, job_id)
    if job is not None and job.status in (PENDING, RUNNING):
        job.status = FAILED
        job.message = message
        job.finished_at = ctx.now()
        job.source = None
        session.flush()


def _job_subjects(session: Session, job: BulkJob) -> tuple[Issuer, Achievement]:
    issuer = session.get(Issuer, job.issuer_id)
    achievement = session.get(Achievement, job.achievement_id)
    if issuer is None or achievement is None:
        raise NotFound("the issuer or the achievement no longer exists")
    return issuer, achievement


def _count(job: BulkJob, batch: Sequence[RowOutcome]) -> None:
    """Add a batch's outcomes to the job just before the batch commits.

    Counting row by row would make every row's flush write the job again; counting here
    still commits the counters together with the credentials they count.
    """
    job.done += sum(1 for o in batch if o.error is None)
    failed = [o for o in batch if o.error is not None]
    if failed:
        job.failed += len(failed)
        job.errors = [*(job.errors or []),
                      *(RowError(o.row, o.message or "", o.recipient).to_json(stage="issue")
                        for o in failed)]


def _issue_row(session: Session, ctx: ServiceContext, job: BulkJob, issuer: Issuer,
               achievement: Achievement, row: CsvRow, actor: str | None,
               issued: list[Credential], slots: list[Slot]) -> RowOutcome:
    slot = slots.pop() if slots else None  # None: award() allocates one itself
    try:
        # A refused row leaves nothing behind: the batch's credentials are written
        # together, by one statement, once the batch is issued (_finish_batch).
        credential = award(session, ctx, issuer, achievement, row.award_request(),
                           actor=actor, bulk_job_id=job.id, slot=slot, add=False)
    except IssuerError as exc:
        if slot is not None:
            slots.append(slot)  # unused: the next row takes it
        error = RowError(row.row, exc.message, row.recipient)
        return RowOutcome(row.row, row.recipient, error=error.text, message=exc.message)
    credential.bulk_row = row.row
    issued.append(credential)
    return RowOutcome(row.row, row.recipient, credential_id=credential.id)


def _finish_batch(session: Session, ctx: ServiceContext, job: BulkJob,
                  batch: Sequence[RowOutcome], issued: Sequence[Credential],
                  unused: Sequence[Slot], with_mail: bool) -> list[Outgoing]:
    """Give back the status indexes of refused rows, write the batch's credentials, then
    their mail (each message names its credential), and count the outcomes: one statement
    each, in the batch's transaction. Returns the mail written."""
    release_many(session, unused)
    write_credentials(session, issued)
    run = session.get(BulkRun, job.id)
    if run is not None and run.source_digest is not None and issued:
        # In the batch's transaction: the same file's row issued by another job at the same
        # moment makes this insert, and so the batch, fail rather than issue it twice.
        session.execute(insert(BulkRowKey), [
            {"key": row_key(job, run.source_digest, credential.bulk_row or 0),
             "bulk_job_id": job.id, "credential_id": credential.id}
            for credential in issued])
    mail: list[Outgoing] = []
    if with_mail:
        issuer = session.get(Issuer, job.issuer_id)
        name = issuer.name if issuer is not None else ""
        rows = (award_mail_values(ctx, credential, issuer_name=name) for credential in issued)
        mail = insert_messages(session, [row for row in rows if row is not None])
    _count(job, batch)
    return mail
