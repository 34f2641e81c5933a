"""Instructions per request, counted by valgrind's callgrind: a cost that does not move with
the machine's speed.

Server CPU time on this machine moves by 15 % between two runs of the same code, and a raw
signature's by a third within a minute (``server_cpu`` reports both), so a change of 10 % to
one request cannot be seen there. Counted instructions can: the same code and inputs give the
same count to within a fraction of a percent, however busy the machine is.

One process under callgrind builds the app as ``issuer serve`` does and calls it directly (the
WSGI app, no HTTP server, so gunicorn's share is not in these counts), after a warm-up of every
kind: :data:`COUNT` requests of each kind are counted between two ``callgrind_control --dump``
calls (a dump also zeroes the counters), and so are as many raw Ed25519 signatures. Reported
per kind: instructions per request, and the ratio to ``GET /healthz`` (the floor of any
request) of the same run. A signature's instructions are printed but are no yardstick here:
signing runs several times more instructions per cycle than the interpreter does (an award
is about 20 signatures in instructions and over 100 in CPU time), so the goals stated in
signatures of CPU time are judged by ``server_cpu`` only.
Each database (SQLite; PostgreSQL too when reachable) gets a process of its own; the two run
side by side. Needs valgrind (Debian's ``valgrind``); without it nothing is measured.

Running the process under callgrind is about fifty times slower than natively: a run takes
two to four minutes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.databases import backends
from bench.http import ACHIEVEMENT_SLUG, _issue_request
from bench.in_process import caller, installation
from bench.measures import Report

#: Requests of each kind counted (and raw signatures).
COUNT = 50
QUICK_COUNT = 10
#: Requests of each kind before counting: caches filled, schemas compiled, statements built.
WARMUP = 30
BASE = "http://127.0.0.1:9"
KINDS = ("GET /healthz", "GET /api/v1/issuer", "POST /api/v1/awards",
         "POST /credentials/issue", "POST /credentials/verify")
SIGNATURE = "raw Ed25519 signature"


# --- the measured process ---------------------------------------------------------------------


def _child() -> None:
    """Serve the kinds the parent names on stdin, one batch at a time (runs under callgrind).

    The request log goes to stderr, as under gunicorn: its cost is counted, and the parent
    keeps its last lines for an error message."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from issuer.app import create_app

    app = create_app()
    token = os.environ["BENCH_TOKEN"]
    key = Ed25519PrivateKey.generate()
    message = bytes(range(64))
    numbers = iter(range(1_000_000))
    awarded: list[str] = []

    call = caller(app, token, BASE)

    issue_body = _issue_request(BASE)

    def award() -> None:
        number = next(numbers)
        body = {"achievement": ACHIEVEMENT_SLUG,
                "recipient": {"email": f"learner{number}@bench.test"}}
        answer = call("POST", "/api/v1/awards", json.dumps(body).encode(), 201)
        if len(awarded) < 64:
            awarded.append(json.dumps(json.loads(answer)["credential"], ensure_ascii=False,
                                      separators=(",", ":")))

    def verify() -> None:
        text = awarded[next(numbers) % len(awarded)]
        call("POST", "/credentials/verify", ('{"verifiableCredential":' + text + "}").encode(),
             200)

    kinds: dict[str, Callable[[], object]] = {
        "GET /healthz": lambda: call("GET", "/healthz", None, 200),
        "GET /api/v1/issuer": lambda: call("GET", "/api/v1/issuer", None, 200),
        "POST /api/v1/awards": award,
        "POST /credentials/issue": lambda: call("POST", "/credentials/issue",
                                                issue_body(next(numbers))[2], 201),
        "POST /credentials/verify": verify,
        SIGNATURE: lambda: key.sign(message),
    }
    call("POST", "/api/v1/achievements", json.dumps({
        "slug": ACHIEVEMENT_SLUG, "name": "Benchmark Badge",
        "description": "Issued by the performance benchmark.",
        "criteria": {"narrative": "Be sent by the benchmark."}}).encode(), 201)
    for kind in (*KINDS, SIGNATURE):
        for _ in range(WARMUP):
            kinds[kind]()
    print("ready", flush=True)
    for line in sys.stdin:
        kind, _, count = line.rstrip("\n").rpartition(" ")
        for _ in range(int(count)):
            kinds[kind]()
        print("done", flush=True)


# --- the parent -------------------------------------------------------------------------------


def _totals(path: Path) -> tuple[str, int]:
    text = path.read_text(encoding="utf-8", errors="replace")
    trigger = re.search(r"^desc: Trigger: (.*)$", text, re.M)
    total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if trigger is None or total is None:
        raise RuntimeError(f"unreadable callgrind output {path}")
    return trigger.group(1), int(total.group(1))


def count_backend(backend: str, count: int) -> dict[str, float]:
    """Instructions per request of each kind (and per raw signature) on ``backend``."""
    with tempfile.TemporaryDirectory(prefix="issuer-bench-instr-") as tmp:
        root = Path(tmp)
        with installation(backend, root, BASE) as (settings, token):
            env = {**os.environ, **settings, "BENCH_TOKEN": token}
            return _measure(env, root, count)


def _measure(env: dict[str, str], root: Path, count: int) -> dict[str, float]:
    out = root / "callgrind"
    out.mkdir()
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p",
         sys.executable, "-m", "bench.instructions", "--child"],
        env=env, cwd=str(Path(__file__).resolve().parents[1]), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdin is not None and process.stdout is not None
    errors: deque[str] = deque(maxlen=40)
    drain = threading.Thread(target=lambda: errors.extend(process.stderr or []), daemon=True)
    drain.start()

    def dump(label: str) -> None:
        subprocess.run(["callgrind_control", f"--dump={label}", str(process.pid)],
                       check=True, capture_output=True, timeout=120)

    try:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the measured process did not start:\n" + "".join(errors))
        dump("warm-up")
        for kind in (*KINDS, SIGNATURE):
            process.stdin.write(f"{kind} {count}\n")
            process.stdin.flush()
            if process.stdout.readline().strip() != "done":
                raise RuntimeError(f"{kind} failed:\n" + "".join(errors))
            dump(kind)
    finally:
        process.stdin.close()
        process.wait(timeout=600)
    counted = dict(_totals(path) for path in out.iterdir())
    return {kind: counted[f"dump {kind}"] / count for kind in (*KINDS, SIGNATURE)}


def run(quick: bool = False) -> Report:
    report = Report(title="instructions per request in-process (callgrind), against "
                          "GET /healthz counted in the same process")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        report.notes.append("valgrind is not installed (Debian: valgrind): nothing measured")
        return report
    count = QUICK_COUNT if quick else COUNT
    results: dict[str, dict[str, float]] = {}
    failures: list[Exception] = []

    def measure_one(backend: str) -> None:
        try:
            results[backend] = count_backend(backend, count)
        except Exception as exc:  # noqa: BLE001 - raised below, from the main thread
            failures.append(exc)

    threads = [threading.Thread(target=measure_one, args=(b,)) for b in backends()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    for backend, per in results.items():
        floor = per["GET /healthz"]
        report.add(f"{backend} {SIGNATURE}: instructions", per[SIGNATURE], "instr")
        for kind in KINDS:
            report.add(f"{backend} {kind}: instructions per request", per[kind], "instr")
            report.ratios[f"{backend} {kind} / GET /healthz"] = per[kind] / floor
    report.notes.append(f"{count} requests of each kind counted after {WARMUP} of each")
    return report


def _main(argv: list[str]) -> Any:
    if argv == ["--child"]:
        return _child()
    raise SystemExit("usage: python -m bench instructions")


if __name__ == "__main__":
    _main(sys.argv[1:])
