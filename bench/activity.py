"""Importing a Stack Exchange dump: time and peak memory for 10,000 and 100,000 posts.

The same steps as ``issuer activity import --format stackexchange`` (:mod:`issuer.cli.activity`):
a generated ``Posts.xml`` (a third questions, the rest answers, most questions with an accepted
answer, bodies of a few hundred bytes as real posts have) is read as a stream
(:func:`issuer.core.activity.stackexchange.read_posts_xml`) and one frequent answerer is
summarised (:func:`issuer.core.activity.rules.summarise`).

Each size is read twice: the whole site (every post kept), and for one person as the command
line reads (``handle``: two passes, only what their summary needs kept); both must give the
same summary. Each in a fresh subprocess:

1. timed, without tracing: elapsed time and peak resident memory (``VmHWM`` where ``/proc``
   has it, else ``ru_maxrss``), and its growth over the size before the import;
2. again with ``tracemalloc``: the peak of Python allocations during the import.

The XML tree is never held: rows are cleared as they are read, so what memory grows with is
the compact interaction records kept for the summary. Targets: 100,000 posts in < 30 s and a
peak of Python allocations < 200 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.measures import Report

COUNTS = (10_000, 100_000)
QUICK_COUNTS = (2_000, 20_000)
TIME_TARGET_S = 30.0
TRACED_TARGET_MB = 200.0
HELPER = 7  # the answerer who is summarised


def write_dump(path: Path, count: int, seed: int = 11) -> None:
    """A ``Posts.xml`` of ``count`` rows, written as a stream."""
    chooser = random.Random(seed)
    words = ("knead proof rise crumb oven steam starter hydration flour salt yeast crust "
             "shape score bake cool rest fold").split()
    questions: list[int] = []
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<posts>\n')
        for post in range(1, count + 1):
            body = "&lt;p&gt;" + " ".join(chooser.choices(words, k=60)) + "&lt;/p&gt;"
            day = 1 + post * 3 // max(count // 365, 1)
            created = f"20{20 + day // 365:02d}-{1 + day % 365 // 31:02d}-" \
                      f"{1 + day % 28:02d}T10:00:00.000"
            if post % 3 == 1 or not questions:
                questions.append(post)
                owner = chooser.randrange(100, 5_000)
                accepted = f' AcceptedAnswerId="{post + 1}"' if chooser.random() < 0.6 else ""
                out.write(f'  <row Id="{post}" PostTypeId="1"{accepted} CreationDate="'
                          f'{created}" Score="{chooser.randrange(-2, 40)}" Body="{body}" '
                          f'OwnerUserId="{owner}" Title="How do I {words[post % 18]}?" />\n')
            else:
                owner = HELPER if chooser.random() < 0.05 else chooser.randrange(100, 5_000)
                out.write(f'  <row Id="{post}" PostTypeId="2" ParentId="{questions[-1]}" '
                          f'CreationDate="{created}" Score="{chooser.randrange(-2, 40)}" '
                          f'Body="{body}" OwnerUserId="{owner}" />\n')
        out.write("</posts>\n")


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _import(path: Path, whole: bool) -> dict[str, Any]:
    from issuer.core.activity.rules import summarise
    from issuer.core.activity.stackexchange import read_posts_xml

    with path.open("rb") as stream:
        archive = read_posts_xml(stream, site="bench.stackexchange.com",
                                 handle=None if whole else str(HELPER))
    summary = summarise(str(HELPER), archive.interactions)
    return {"kept": len(archive.interactions), "errors": len(archive.errors),
            "summary": summary.as_json()}


def child(path: Path, traced: bool, whole: bool) -> dict[str, Any]:
    """One import in this process: timed, or under tracemalloc."""
    import issuer.core.activity.rules
    import issuer.core.activity.stackexchange  # noqa: F401  (imports are not the import)

    before = _peak_rss_mb()
    if traced:
        tracemalloc.start()
        outcome = _import(path, whole)
        outcome["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        return outcome
    start = time.perf_counter()
    outcome = _import(path, whole)
    outcome["elapsed_s"] = time.perf_counter() - start
    outcome["rss_peak_mb"] = _peak_rss_mb()
    outcome["rss_before_mb"] = before
    return outcome


def _run_child(path: Path, traced: bool, whole: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.activity", "--child", str(path)]
    args += ["--traced"] if traced else []
    args += ["--whole"] if whole else []
    done = subprocess.run(args, capture_output=True,
                          text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(done.stdout)


def run(quick: bool = False) -> Report:
    report = Report(title="Stack Exchange dump import (issuer activity import's code path), "
                          "streamed")
    counts = QUICK_COUNTS if quick else COUNTS
    with tempfile.TemporaryDirectory() as folder:
        for count in counts:
            path = Path(folder) / f"Posts-{count}.xml"
            write_dump(path, count)
            size = f"{count:,} posts ({path.stat().st_size / 1e6:.0f} MB)"
            summaries = []
            for whole in (False, True):
                timed = _run_child(path, traced=False, whole=whole)
                traced = _run_child(path, traced=True, whole=whole)
                summaries.append(timed["summary"])
                label = f"{size}, {'whole site' if whole else 'one person'}"
                report.add(f"{label}: posts kept", timed["kept"], "")
                if count >= 100_000:
                    report.below(f"{label}: import and summary", timed["elapsed_s"], "s",
                                 TIME_TARGET_S)
                    report.below(f"{label}: tracemalloc peak", traced["traced_peak_mb"], "MB",
                                 TRACED_TARGET_MB)
                else:
                    report.add(f"{label}: import and summary", timed["elapsed_s"], "s")
                    report.add(f"{label}: tracemalloc peak", traced["traced_peak_mb"], "MB")
                report.add(f"{label}: peak RSS", timed["rss_peak_mb"], "MB")
                report.add(f"{label}: RSS growth during the import",
                           timed["rss_peak_mb"] - timed["rss_before_mb"], "MB")
                report.add(f"{label}: posts per second", count / timed["elapsed_s"], "/s")
            report.exactly(f"{size}: same summary both ways", summaries[0] == summaries[1],
                           "", True)
    report.notes.append("the XML is never held: memory follows the records kept, every post "
                        "(whole site, bounded by --max-items) or one person's (two passes, "
                        "as the command line reads)")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.activity")
    parser.add_argument("--child", type=Path, required=True)
    parser.add_argument("--traced", action="store_true")
    parser.add_argument("--whole", action="store_true", help="keep every post, not one person's")
    args = parser.parse_args(argv)
    print(json.dumps(child(args.child, args.traced, args.whole)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
