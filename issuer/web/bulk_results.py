"""The outcome of a bulk award row by row, as a CSV file: who got which link, and whether
the email went out; rows that were not issued say why.

Staff download it from the job's page, programs from the JSON API; both answer only for
the job's own issuer. Rows follow the uploaded file (its row numbers, header = row 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Response

from issuer.services.award_mail import AwardMail
from issuer.services.awards import credential_url
from issuer.services.context import ServiceContext
from issuer.services.transcripts import safe_cell
from issuer.storage.models import BulkJob, Credential

COLUMNS = ("row", "recipient", "name", "outcome", "credential link", "email", "problem")
#: The mail states of :class:`~issuer.services.award_mail.AwardMail`, in staff's words.
MAIL_WORDS = {"sent": "Sent", "failed": "Not sent", "held": "In the outbox",
              "queued": "Waiting", "none": "Not emailed", "no_address": "No email (DID)"}
ISSUED, NOT_ISSUED, LEFT_OUT = "issued", "could not be issued", "left out"


def _problem(entry: Mapping[str, Any]) -> str:
    """The stored reason without its "row N: " prefix: the row has a column of its own."""
    text = str(entry.get("message") or "")
    prefix = f"row {entry.get('row')}: "
    return text.removeprefix(prefix)


def result_rows(ctx: ServiceContext, job: BulkJob, credentials: Sequence[Credential],
                mails: Mapping[str, AwardMail]) -> list[tuple[Any, ...]]:
    """One tuple per row of the file that was issued, refused or left out, in file order."""
    rows: list[tuple[Any, ...]] = []
    for c in credentials:
        rows.append((c.bulk_row, c.recipient_email or c.recipient_did or "",
                     c.recipient_name or "", ISSUED, credential_url(ctx, c.id),
                     MAIL_WORDS[mails[c.id].state] if c.id in mails else "", ""))
    for entry in job.errors or []:
        outcome = LEFT_OUT if entry.get("stage") == "validation" else NOT_ISSUED
        rows.append((entry.get("row"), entry.get("recipient") or "", "", outcome, "", "",
                     _problem(entry)))
    # Rows without a number (credentials of jobs from before rows were kept) go last.
    return sorted(rows, key=lambda r: (r[0] is None, r[0] or 0))


def results_csv_response(ctx: ServiceContext, job: BulkJob,
                         credentials: Sequence[Credential],
                         mails: Mapping[str, AwardMail]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 §2
    writer.writerow(COLUMNS)
    for row in result_rows(ctx, job, credentials, mails):
        # OWASP "CSV Injection": names and recipients come from the uploaded file.
        writer.writerow(["" if v is None else safe_cell(str(v)) for v in row])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="bulk-award-{job.id}-results.csv"',
        # Names and addresses of people: kept by neither the browser nor a proxy.
        "Cache-Control": "no-store",
    })
