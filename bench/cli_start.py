"""``issuer sign`` and ``issuer verify`` from the terminal: what starting the command costs,
and what verifying a folder in one call costs per badge.

Measures, each the median of several runs of the installed ``issuer`` script in a fresh
process (a script verifying a folder file by file pays this every time):

- ``python -c pass``, the interpreter alone, as the baseline;
- ``import issuer.cli``, and ``issuer sign`` and ``issuer verify --offline`` on one small
  credential; the start-up overhead of ``verify`` is its wall time less the baseline's,
  as the median of paired runs (each run of the command right after one of the
  baseline), less the time the core takes to verify that credential in a warm process
  (target < 0.15 s; ``sign`` has the same target, less nothing);
- ``issuer verify --offline FOLDER`` on 1,000 copies of the credential (100 with
  ``--quick``): its time per badge against the core's (target < 1.5x).

Every command runs as an installed product runs it: with its modules' bytecode cached (the
first, unmeasured run writes it into a folder of the benchmark's own, ``PYTHONPYCACHEPREFIX``),
even where the environment says ``PYTHONDONTWRITEBYTECODE``, which would have every run
compile the project's own modules again (an editable install, as a checkout has, keeps no
bytecode then; ``pip install`` writes it). The verification is timed that way as well, for
information.

The machine is shared: the spread of the runs is printed with each timing.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import Timing, measure
from bench.measures import Report

ISSUER = str(Path(sys.executable).with_name("issuer"))

#: Start-up overhead of one ``issuer verify`` beyond the interpreter and the verification.
START_BUDGET_S = 0.15
#: A badge verified in a folder call may cost this much more than in a warm process.
BATCH_RATIO = 1.5


def _badge(issuer_id: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:2d4c5f6e-0a7b-4c1d-9e8f-1a2b3c4d5e6f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": "Community of Practice"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Peer Scaffolder",
        "credentialSubject": {
            "id": "did:example:learner-1",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://badges.example/achievements/peer-scaffolder",
                "type": ["Achievement"],
                "name": "Peer Scaffolder",
                "description": "Helped at least three colleagues learn a new practice.",
                "criteria": {"narrative": "Three peers attest to help received."},
            },
        },
    }


def _environment(cache: Path | None) -> dict[str, str]:
    """The commands' environment: bytecode cached under ``cache``, or never written (None)."""
    env = dict(os.environ)
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


#: The environment of every run: set by :func:`run` (bytecode cached in its work folder).
_ENV: dict[str, str] = dict(os.environ)


def _run(args: list[str], cwd: Path, expect: int = 0) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=_ENV)
    if done.returncode != expect:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-500:]}")
    return done.stdout


def _wall(name: str, args: list[str], cwd: Path, runs: int) -> Timing:
    """The median wall time of ``args`` in a fresh process, over ``runs`` runs."""
    _run(args, cwd)  # warms the file system cache and bytecode
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        _run(args, cwd)
        times.append(time.perf_counter() - start)
    return Timing(name=name, ms_per_op=statistics.median(times) * 1000.0, samples=runs,
                  batch=1, spread_ms=(min(times) * 1000.0, max(times) * 1000.0))


def _beyond(name: str, args: list[str], baseline: list[str], cwd: Path, runs: int) -> Timing:
    """How much longer ``args`` runs than ``baseline``: the median of ``runs`` differences,
    each of the two run one after the other, so that a change in the machine's speed
    during the measurement (it is shared) weighs on both sides of every difference."""
    _run(args, cwd)
    differences = []
    for _ in range(runs):
        start = time.perf_counter()
        _run(baseline, cwd)
        middle = time.perf_counter()
        _run(args, cwd)
        differences.append((time.perf_counter() - middle) - (middle - start))
    return Timing(name=name, ms_per_op=statistics.median(differences) * 1000.0, samples=runs,
                  batch=1, spread_ms=(min(differences) * 1000.0, max(differences) * 1000.0))


def _core_verify_ms(credential: bytes) -> Timing:
    """The core's time to verify ``credential`` in a warm process, offline."""
    from issuer.cli.credentials import standalone_verifier

    verifier = standalone_verifier([], offline=True)
    if not verifier.verify(credential).valid:
        raise RuntimeError("the benchmark credential does not verify")
    return measure("core: verify one badge (warm process)", lambda: verifier.verify(credential),
                   samples=7)


def run(quick: bool) -> Report:
    runs = 3 if quick else 9
    count = 100 if quick else 1000
    report = Report(title="issuer sign / verify: start-up and many files in one call")
    global _ENV
    work = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    _ENV = _environment(work / "bytecode")
    try:
        key = work / "issuer.pem"
        did = _run([ISSUER, "keys", "generate", "--out", str(key)], work).strip()
        unsigned = work / "unsigned.json"
        unsigned.write_text(json.dumps(_badge(did)), encoding="utf-8")
        sign = [ISSUER, "sign", str(unsigned), "--key", str(key)]
        credential = work / "credential.json"
        credential.write_text(_run(sign, work), encoding="utf-8")
        folder = work / "badges"
        folder.mkdir()
        for n in range(count):
            shutil.copyfile(credential, folder / f"badge-{n:04d}.json")

        python = _wall("python -c pass", [sys.executable, "-c", "pass"], work, runs)
        imported = _wall("python -c 'import issuer.cli'",
                         [sys.executable, "-c", "import issuer.cli"], work, runs)
        signed = _wall("issuer sign (one credential)", sign, work, runs)
        verified = _wall("issuer verify --offline (one credential)",
                         [ISSUER, "verify", "--offline", str(credential)], work, runs)
        many = _wall(f"issuer verify --offline ({count} badges, one call)",
                     [ISSUER, "verify", "--offline", str(folder)], work, max(1, runs // 3))
        core = _core_verify_ms(credential.read_bytes())
        pairs = 7 if quick else 25
        python_cmd = [sys.executable, "-c", "pass"]
        verify_beyond = _beyond("issuer verify --offline, beyond python -c pass (paired)",
                                [ISSUER, "verify", "--offline", str(credential)], python_cmd,
                                work, pairs)
        sign_beyond = _beyond("issuer sign, beyond python -c pass (paired)", sign, python_cmd,
                              work, pairs)
        _ENV = _environment(None)
        compiling = _wall("issuer verify --offline, compiling every run (no bytecode kept)",
                          [ISSUER, "verify", "--offline", str(credential)], work, runs)
        _ENV = _environment(work / "bytecode")
        report.timings = [python, imported, signed, verified, many, core, verify_beyond,
                          sign_beyond, compiling]

        report.ratios["issuer verify / python -c pass"] = verified.ms_per_op / python.ms_per_op
        report.ratios["issuer sign / python -c pass"] = signed.ms_per_op / python.ms_per_op
        report.add("import issuer.cli beyond python", (imported.ms_per_op - python.ms_per_op)
                   / 1000.0, "s")
        start_s = (verify_beyond.ms_per_op - core.ms_per_op) / 1000.0
        report.below("issuer verify start-up overhead", start_s, "s", START_BUDGET_S)
        report.below("issuer sign beyond python", sign_beyond.ms_per_op / 1000.0, "s",
                     START_BUDGET_S)
        per_badge_ms = (many.ms_per_op - verified.ms_per_op) / max(1, count - 1)
        report.add("folder call: ms per badge", per_badge_ms, "ms")
        report.below("folder call per badge / core per badge", per_badge_ms / core.ms_per_op,
                     "x", BATCH_RATIO)
        report.add("issuer verify start-up, compiling every run (no target)",
                   (compiling.ms_per_op - python.ms_per_op - core.ms_per_op) / 1000.0, "s")
        report.notes.append(
            "bytecode cached as an installed product keeps it (PYTHONPYCACHEPREFIX in the "
            "work folder), except in the row that says otherwise")
        report.notes.append(
            "start-up overhead = median over paired runs of (verify wall - python wall), "
            "less the core's verify time in a warm process; "
            "folder per badge = (folder wall - one-file wall) / (badges - 1)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report
