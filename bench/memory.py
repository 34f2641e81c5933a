"""Memory stays flat: a worker's resident set after 10,000 awards through HTTP, against its
size once warm.

A fresh installation (PostgreSQL when reachable, else SQLite) served by ``issuer serve
--workers 2``; 500 awards warm both workers up, then each worker's RSS (``/proc``) is read,
then 10,000 awards (2,000 with ``--quick``) go through, and the RSS is read again.

Target: every worker ends within 10% of its warm size.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.databases import backends, fresh_database
from bench.http import _award_request, run_load, running_service
from bench.measures import Report, group_processes, load_average, rss_bytes

CLIENTS = 8
GROWTH_TARGET = 1.10


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _workers_rss(group: int) -> dict[int, int]:
    """The RSS of each gunicorn worker: a fork of the master, so with the master's command
    line (the embedded ``issuer worker`` beside them has its own)."""
    master = _command(group)
    sizes = {pid: rss_bytes(pid) for pid, parent in group_processes(group).items()
             if parent == group and _command(pid) == master}
    return {pid: size for pid, size in sizes.items() if size is not None}


def run(quick: bool = False) -> Report:
    count = 2000 if quick else 10000
    backend = backends()[-1]
    report = Report(title=f"worker memory over {count:,} awards through HTTP ({backend})")
    report.notes.append(f"load average at the start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="issuer-bench-mem-") as tmp:
        root = Path(tmp)
        with fresh_database(backend, root) as url, running_service(url, root) as service:
            warm = run_load(service, _award_request, 201, seconds=120, cap=500,
                            clients=CLIENTS)
            warm_rss = _workers_rss(service.group)
            load = run_load(service, _award_request, 201, seconds=1800, cap=count,
                            start=warm.completed, clients=CLIENTS)
            end_rss = _workers_rss(service.group)
    report.exactly("awards answered", load.ok, f"of {count}", count)
    for number, pid in enumerate(sorted(warm_rss), start=1):
        if pid not in end_rss:
            report.notes.append(f"worker {number} was restarted during the run")
            continue
        ratio = end_rss[pid] / warm_rss[pid]
        report.add(f"worker {number}: warm RSS", warm_rss[pid] / 2**20, "MiB")
        report.add(f"worker {number}: RSS after the awards", end_rss[pid] / 2**20, "MiB")
        report.ratios[f"worker {number}: RSS after / warm"] = ratio
        report.at_most(f"worker {number}: RSS after / warm", ratio, "x", GROWTH_TARGET)
    if load.errors:
        report.notes.append("errors, e.g. " + " | ".join(load.error_samples))
    report.notes.append(f"load average at the end: {load_average()}")
    return report
