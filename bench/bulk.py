"""Bulk award of N recipients from a CSV file: total time and peak memory.

The same steps as ``issuer award-bulk`` (:mod:`issuer.cli.bulk`): the file is checked
(``parse_csv``, ``rows_to_issue``), a job is created, and ``run_job`` issues it in batches of
20 that each commit, while the outcomes are collected for printing. For each N (1,000, 5,000
and 10,000 recipients) and each database (SQLite; PostgreSQL too when reachable), a fresh
subprocess with a fresh database runs it, so that the memory peaks of different sizes do not
mix:

1. timed, without tracing: elapsed time; the process's peak resident memory, start-up
   included (``VmHWM``, or ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` where there is no
   ``/proc``: see :func:`_max_rss_mb`); and on Linux the peak while awarding (``VmHWM``
   restarted just before) against the size just before;
2. for the smallest and the largest N, again with ``tracemalloc`` (which makes issuing
   several times slower, so it is not timed): the peak of Python allocations during the
   bulk award.

Every recipient is emailed their badge link, as the command does by default, through an
SMTP server on loopback (aiosmtpd, in a process of its own, discarding what it receives); the
time includes delivering every mail. Afterwards the job must be done, with one stored
credential and one sent mail per row, and a sample of the credentials must verify. Targets
(the performance issue): 10,000 recipients in < 30 s, peak memory
< 300 MB, and memory flat as the count grows (the peak while awarding 10,000 within 20 % of
the peak while awarding 1,000).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.databases import backends, fresh_database
from bench.measures import Report

COUNTS = (1_000, 5_000, 10_000)
QUICK_COUNTS = (200, 500, 1_000)
BATCH_SIZE = 50  # issuer.services.bulk.BATCH_SIZE, which the command line and the web use
TIME_TARGET_S = 30.0
MEMORY_TARGET_MB = 300.0
FLAT_TOLERANCE = 1.2
SAMPLE = 25
BASE_URL = "http://bench.test"


def csv_bytes(count: int, seed: int = 7) -> bytes:
    """A recipients file as a spreadsheet would export it: names, some evidence, some
    narratives, some expiry dates."""
    chooser = random.Random(seed)
    lines = ["recipient,name,evidence_url,narrative,valid_until"]
    for number in range(count):
        evidence = (f"https://portfolio.example.org/work/{number}"
                    if chooser.random() < 0.5 else "")
        narrative = "Led the peer review circle" if chooser.random() < 0.3 else ""
        until = "2031-06-30" if chooser.random() < 0.2 else ""
        lines.append(f"learner{number}@bench.test,Learner {number},{evidence},{narrative},"
                     f"{until}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _max_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports ru_maxrss in KiB).

    Linux carries the peak of the process image an ``exec`` replaced into ``ru_maxrss``, so
    in a child of the (larger) benchmark process it starts at the parent's size; ``VmHWM``
    belongs to the new image alone and is used where the system has it.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _status_mb(name: str) -> float | None:
    """``VmRSS`` (now) or ``VmHWM`` (peak) from ``/proc/self/status``, in MB."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def _restart_peak() -> bool:
    """Start ``VmHWM`` again from the current size (Linux ``clear_refs``), so the peak seen
    afterwards is the bulk award's own, not the start-up's."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


# --- the child process: one bulk award ---------------------------------------------------------


def child(database_url: str, root: Path, count: int, traced: bool,
          smtp_port: int | None = None) -> dict[str, Any]:
    """Set up an issuer, then award ``count`` recipients as ``issuer award-bulk`` does."""
    from issuer.app import create_app, runtime
    from issuer.config import Settings
    from issuer.jobs.transaction import unit_of_work as transaction
    from issuer.services.achievements import create_achievement, get_achievement
    from issuer.services.award_mail import job_mail_counts
    from issuer.services.bulk import (
        DONE,
        PENDING,
        RowOutcome,
        create_job,
        parse_csv,
        rows_to_issue,
        run_job,
    )
    from issuer.services.issuers import create_issuer, get_issuer
    from issuer.storage.db import upgrade

    settings = Settings(database_url=database_url, base_url=BASE_URL, keys_dir=root / "keys",
                        instance_dir=root / "instance",
                        secret_key="benchmark-secret-key-not-for-production",
                        smtp_host="127.0.0.1" if smtp_port else None,
                        smtp_port=smtp_port or 25).validated()
    rt = runtime(create_app(settings))
    ctx = rt.services
    upgrade(rt.engine)
    with transaction(rt.sessions) as session:
        issuer = create_issuer(session, ctx, slug="bench", name="Benchmark Guild")
        create_achievement(session, ctx, issuer, {
            "name": "Benchmark Badge", "slug": "bench-badge",
            "description": "Issued by the performance benchmark.",
            "criteria_narrative": "Be in the benchmark's file.",
        })
    data = csv_bytes(count)
    startup_peak = _status_mb("VmHWM")
    rss_before = _status_mb("VmRSS")
    restarted = _restart_peak()
    if traced:
        tracemalloc.start()
    began = time.perf_counter()

    # --- what `issuer award-bulk` does, minus the printing ---
    parsed = parse_csv(data, today=ctx.now().date(), max_bytes=ctx.settings.max_content_length)
    rows = rows_to_issue(parsed, False)
    with transaction(rt.sessions) as session:
        issuer = get_issuer(session, "bench")
        achievement = get_achievement(session, issuer, "bench-badge")
        job_id = create_job(session, ctx, issuer, achievement, status=PENDING,
                            total=len(rows), filename="bench.csv", skipped=parsed.errors,
                            actor="cli").id
    issued: list[RowOutcome] = []
    failed: list[RowOutcome] = []

    issued_s: list[float] = []

    def on_batch(batch: list[RowOutcome]) -> None:
        for outcome in batch:
            (issued if outcome.credential_id else failed).append(outcome)
        # Called once a batch has committed: the last call is when every badge is issued and
        # the job is done; the mail still being sent is what follows.
        issued_s[:] = [time.perf_counter() - began]

    status = run_job(rt.sessions, ctx, job_id, rows, actor="cli", batch_size=BATCH_SIZE,
                     on_batch=on_batch)
    # ---

    elapsed = time.perf_counter() - began
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else None
    if traced:
        tracemalloc.stop()
    award_peak = _status_mb("VmHWM") if restarted else None
    peaks = [peak for peak in (startup_peak, award_peak) if peak is not None]
    max_rss = max(peaks) if peaks else _max_rss_mb()
    stored, verified = _check(rt, job_id)
    with transaction(rt.sessions) as session:
        mail = job_mail_counts(session, ctx, job_id)
    rt.engine.dispose()
    return {
        "count": count, "status": status, "done": status == DONE, "issued": len(issued),
        "failed": len(failed), "stored": stored, "verified_sample": verified,
        "mail_sent": mail["sent"],
        "elapsed_s": elapsed, "issued_s": issued_s[0] if issued_s else elapsed,
        "rss_before_mb": rss_before, "rss_peak_mb": max_rss,
        "award_rss_peak_mb": award_peak, "traced_peak_mb": traced_peak,
    }


def _check(rt: Any, job_id: int) -> tuple[int, int]:
    """The job's stored credentials, and how many of a random sample verify."""
    from sqlalchemy import func, select

    from issuer.services.verification import verify
    from issuer.storage.models import Credential

    session = rt.sessions()
    try:
        stored = session.scalar(select(func.count()).select_from(Credential)
                                .where(Credential.bulk_job_id == job_id)) or 0
        sample = session.scalars(select(Credential.document)
                                 .where(Credential.bulk_job_id == job_id)
                                 .order_by(func.random()).limit(SAMPLE)).all()
        verified = sum(1 for document in sample if verify(session, rt.services, document).valid)
        return int(stored), verified
    finally:
        session.rollback()
        session.close()


# --- the parent: one subprocess per size and kind of run -------------------------------------


def _spawn(backend: str, count: int, traced: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.bulk", "--backend", backend, "--count", str(count)]
    if traced:
        command.append("--traced")
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200, check=False,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        raise RuntimeError(f"the bulk award of {count} on {backend} failed:\n"
                           f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool = False) -> Report:
    counts = QUICK_COUNTS if quick else COUNTS
    report = Report(title="Bulk award from CSV (issuer award-bulk's code path), "
                          "one fresh process per size")
    for backend in backends():
        timed = {count: _spawn(backend, count, traced=False) for count in counts}
        small, large = min(counts), max(counts)
        traced = {count: _spawn(backend, count, traced=True) for count in (small, large)}
        for count in counts:
            t, m = timed[count], traced.get(count)
            label = f"bulk {count:,} {backend}"
            for run_ in (t, m) if m is not None else (t,):
                if not (run_["done"] and run_["stored"] == count and run_["failed"] == 0):
                    report.notes.append(f"{label}: the job did not issue every row: {run_}")
                if run_["mail_sent"] != count:
                    report.notes.append(f"{label}: {run_['mail_sent']} of {count} mails sent")
                if run_["verified_sample"] != min(SAMPLE, count):
                    report.notes.append(f"{label}: a sampled credential did not verify")
            report.add(f"{label}: every badge issued (job done)", t["issued_s"], "s")
            if count == max(counts):
                report.below(f"{label}: total time, every mail sent", t["elapsed_s"], "s",
                             TIME_TARGET_S)
                report.below(f"{label}: peak RSS", t["rss_peak_mb"], "MB", MEMORY_TARGET_MB)
            else:
                report.add(f"{label}: total time, every mail sent", t["elapsed_s"], "s")
                report.add(f"{label}: peak RSS", t["rss_peak_mb"], "MB")
            report.add(f"{label}: credentials per second", count / t["elapsed_s"], "/s")
            if t["award_rss_peak_mb"] is not None and t["rss_before_mb"] is not None:
                report.add(f"{label}: RSS growth during the award",
                           t["award_rss_peak_mb"] - t["rss_before_mb"], "MB")
            if m is not None:
                report.add(f"{label}: tracemalloc peak", m["traced_peak_mb"], "MB")
            report.exactly(f"{label}: stored and done", t["stored"], f"of {count}", count)
            report.exactly(f"{label}: badge mails sent", t["mail_sent"], f"of {count}", count)
        key = "award_rss_peak_mb" if timed[small]["award_rss_peak_mb"] else "rss_peak_mb"
        rss_ratio = timed[large][key] / timed[small][key]
        traced_ratio = traced[large]["traced_peak_mb"] / traced[small]["traced_peak_mb"]
        report.below(f"memory {backend}: peak RSS while awarding, {large:,} / {small:,}",
                     rss_ratio, "x", FLAT_TOLERANCE)
        report.add(f"memory {backend}: tracemalloc peak {large:,} / {small:,}", traced_ratio,
                   "x")
        report.ratios[f"{backend}: time per credential {large:,} / {small:,}"] = (
            (timed[large]["elapsed_s"] / large) / (timed[small]["elapsed_s"] / small))
    report.notes.append(
        "peak RSS is the whole process's high-water mark (interpreter, app, contexts, "
        "schemas and migrations included); RSS growth is the peak while awarding (VmHWM "
        "restarted just before) minus the size just before; the tracemalloc peak is what "
        "Python allocated during the bulk award, including the file's rows and the outcomes "
        "the command line keeps to print at the end")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one bulk award in this process (JSON out)")
    parser.add_argument("--backend", required=True, choices=("SQLite", "PostgreSQL"))
    parser.add_argument("--count", required=True, type=int)
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="issuer-bench-bulk-") as tmp, smtp_sink() as port:
        root = Path(tmp)
        with fresh_database(args.backend, root) as url:
            result = child(url, root, args.count, args.traced, smtp_port=port)
    print(json.dumps(result))
    return 0


@contextmanager
def smtp_sink() -> Iterator[int]:
    """An SMTP server on loopback, in a process of its own, that accepts and drops mail."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
         "-l", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the loopback SMTP server did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
