"""``python -m bench [NAME ...] [--quick] [--output PATH]``: run benchmarks, print tables and
write the results as JSON (default ``bench/results/latest.json``, which is not versioned).

``canon`` (canonicalization and signing), ``http`` (issuance and verification through the
production server, and verification in-process), ``bulk`` (bulk award from CSV),
``activity`` (importing a Stack Exchange dump), ``cli_start`` (start-up of ``issuer sign``
and ``issuer verify``, and a folder verified in one call) and ``multi_node`` (awards through
two web nodes and a worker on PostgreSQL and Redis, against one node), ``server_cpu`` (the
server's CPU per award, issue and verify against one raw Ed25519 signature), ``concurrency``
(awards/s and p99 at 32 clients on PostgreSQL beside one client), ``memory`` (a worker's
RSS after 10,000 awards against its warm size) and ``instructions`` (instructions per request
in-process under callgrind, against a raw signature and ``GET /healthz``: the measure to
compare two versions by), ``floor`` (in-process, what an award costs beside the least
an award can cost on this stack); all of them when none is named (``make bench``).

A new benchmark is a module with ``run(quick: bool) -> bench.Result``, added to BENCHMARKS.
A :class:`bench.measures.Report` also carries measures with their targets, printed as a table
that says which targets are met. Results of benchmarks not run this time are kept in the JSON
file from earlier runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import platform
import sys
from pathlib import Path
from typing import Any

from bench import Result
from bench.measures import Measure

#: Benchmark name → module (relative to this package).
BENCHMARKS: dict[str, str] = {
    "canon": "bench.canon",
    "http": "bench.http",
    "bulk": "bench.bulk",
    "activity": "bench.activity",
    "cli_start": "bench.cli_start",
    "multi_node": "bench.multi_node",
    "server_cpu": "bench.server_cpu",
    "concurrency": "bench.concurrency",
    "memory": "bench.memory",
    "instructions": "bench.instructions",
    "floor": "bench.floor",
}

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"


def _print(name: str, result: Result) -> None:
    print(f"\n== {name}: {result.title}")
    width = max((len(t.name) for t in result.timings), default=10)
    print(f"{'operation':<{width}}  {'ms/op':>10}  {'ops/s':>10}  {'min..max ms':>19}")
    for t in result.timings:
        spread = f"{t.spread_ms[0]:.3f}..{t.spread_ms[1]:.3f}"
        print(f"{t.name:<{width}}  {t.ms_per_op:>10.4f}  {t.ops_per_s:>10.0f}  {spread:>19}")
    if result.ratios:
        print("ratios (same run):")
        rwidth = max(len(k) for k in result.ratios)
        for key, value in result.ratios.items():
            print(f"  {key:<{rwidth}}  {value:8.2f}x")
    measures = getattr(result, "measures", None)
    if measures:
        _print_measures(measures)
    for note in result.notes:
        print(f"note: {note}")


def _print_measures(measures: list[Measure]) -> None:
    width = max(len(m.name) for m in measures)
    print(f"{'measure':<{width}}  {'value':>24}  {'target':>9}")
    for m in measures:
        verdict = "" if m.met is None else ("  met" if m.met else "  MISSED")
        print(f"{m.name:<{width}}  {m.text:>24}  {m.target or '':>9}{verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run ({', '.join(BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true", help="fewer samples, for a smoke test")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")

    output: Path = args.output
    try:
        stored: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
        if not isinstance(stored.get("benchmarks"), dict):
            stored = {}
    except (OSError, ValueError):
        stored = {}
    benchmarks: dict[str, Any] = dict(stored.get("benchmarks", {}))

    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        result: Result = module.run(quick=args.quick)
        _print(name, result)
        benchmarks[name] = {
            **result.as_dict(),
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "quick": args.quick,
        }

    report = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "benchmarks": benchmarks,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
