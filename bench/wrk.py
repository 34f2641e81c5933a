"""Load from ``wrk`` (Debian's ``wrk``), a load generator in C, so that the client takes as
little as it can of the machine it shares with the server it measures.

The Python client of :func:`bench.http.run_load` (threads under one interpreter,
``http.client``) spends 0.3–0.4 ms of CPU per request, wrk about 0.1 ms; on two cores the
difference is CPU the server does not get. The server CPU and throughput goals are measured
with wrk when it is installed; without it (or with ``ISSUER_BENCH_LOAD=python``) the Python
client is used, and the report says which.

Requests come from a pool made in advance by the same :data:`~bench.http.RequestFactory` the
Python client uses, sent in turn and again from the start once all were sent: an award to an
address already awarded is a new award, an issue of the same subject a new credential. Every
answer's status is checked; the first ``keep`` answers of the expected status are kept for
the caller to check (that each credential verifies, say).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.http import HOST, RequestFactory, Service

#: wrk's own threads: one per core of the machine the goals are set on.
THREADS = 2

_SCRIPT = r"""
local threads = {}
local count = 0

function setup(thread)
  thread:set("index", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  local pool_path, token = args[1], args[2]
  expected, keep, stride, out_dir = tonumber(args[3]), tonumber(args[4]), tonumber(args[5]), args[6]
  local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json",
                   ["Authorization"] = "Bearer " .. token}
  requests = {}
  local f = assert(io.open(pool_path, "rb"))
  while true do
    local line = f:read("*l")
    if not line then break end
    local method, path, size = line:match("^(%S+) (%S+) (%d+)$")
    local body = nil
    if tonumber(size) > 0 then body = f:read(tonumber(size)) end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
  f:close()
  position = index
  ok, bad, kept, shown = 0, 0, 0, 0
  kept_file = assert(io.open(out_dir .. "/kept-" .. index, "wb"))
  bad_file = assert(io.open(out_dir .. "/bad-" .. index, "wb"))
end

function request()
  local r = requests[(position % #requests) + 1]
  position = position + stride
  return r
end

function response(status, headers, body)
  if status == expected then
    ok = ok + 1
    if kept < keep then
      kept_file:write(#body, "\n", body)
      kept = kept + 1
    end
  else
    bad = bad + 1
    if shown < 3 then
      local text = string.sub(body or "", 1, 300)
      bad_file:write(status, " ", #text, "\n", text)
      shown = shown + 1
    end
  end
  if (ok + bad) % 64 == 0 then kept_file:flush(); bad_file:flush() end
end

function done(summary, latency, requests)
  local ok_total, bad_total = 0, 0
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    bad_total = bad_total + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT %d %d %d %d %d %d %d %d %d %.1f %.1f %.1f\n",
    summary.duration, summary.requests, ok_total, bad_total,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""

_RESULT = re.compile(r"^RESULT ((?:\S+ ?){12})$", re.M)


def available() -> bool:
    """Whether wrk is installed and not put aside: ``ISSUER_BENCH_LOAD=python`` measures with
    the Python client, to compare the two."""
    if os.environ.get("ISSUER_BENCH_LOAD", "").strip().lower() == "python":
        return False
    return shutil.which("wrk") is not None


@dataclass
class WrkLoad:
    """What one wrk run produced."""

    elapsed_s: float
    answered: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    #: CPU seconds wrk itself used (its threads, all of them).
    client_cpu_s: float
    ok_bodies: list[bytes] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return self.answered + self.errors

    @property
    def ok(self) -> int:
        return self.answered

    @property
    def per_second(self) -> float:
        return self.answered / self.elapsed_s if self.elapsed_s > 0 else 0.0


def _read_records(path: Path, *, with_status: bool) -> list[tuple[str, bytes]]:
    data = path.read_bytes() if path.exists() else b""
    records: list[tuple[str, bytes]] = []
    position = 0
    while position < len(data):
        end = data.index(b"\n", position)
        head = data[position:end].decode("ascii").split()
        size = int(head[-1])
        records.append((head[0] if with_status else "", data[end + 1:end + 1 + size]))
        position = end + 1 + size
    return records


def run_wrk(service: Service, make: RequestFactory, expected: int, *, seconds: float,
            clients: int, start: int = 0, pool: int = 2000, keep: int = 0) -> WrkLoad:
    """``clients`` connections send requests back to back for ``seconds``, from a pool of
    ``pool`` requests made by ``make(start)``, ``make(start + 1)``…; the first ``keep``
    answers with status ``expected`` are returned with the counts."""
    with tempfile.TemporaryDirectory(prefix="issuer-bench-wrk-") as tmp:
        root = Path(tmp)
        with (root / "pool").open("wb") as out:
            for number in range(start, start + pool):
                method, path, body = make(number)
                out.write(f"{method} {path} {len(body)}\n".encode("ascii") + body)
        (root / "load.lua").write_text(_SCRIPT, encoding="utf-8")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        threads = max(1, min(THREADS, clients))
        per_thread_keep = -(-keep // threads)
        finished = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s",
             "--timeout", "60s", "-s", str(root / "load.lua"),
             f"http://{HOST}:{service.port}/", "--",
             str(root / "pool"), service.token, str(expected), str(per_thread_keep),
             str(threads), str(root)],
            capture_output=True, text=True, timeout=seconds + 120, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        found = _RESULT.search(finished.stdout)
        if finished.returncode != 0 or found is None:
            raise RuntimeError(f"wrk failed ({finished.returncode}): "
                               f"{(finished.stderr or finished.stdout)[-500:]}")
        fields = found.group(1).split()
        duration_us, _sent, ok, bad = (int(v) for v in fields[:4])
        connect, read, write, _status, timeout = (int(v) for v in fields[4:9])
        p50_us, p99_us, max_us = (float(v) for v in fields[9:12])
        kept: list[bytes] = []
        samples: list[str] = []
        for index in range(threads):
            kept += [body for _, body in _read_records(root / f"kept-{index}",
                                                       with_status=False)]
            samples += [f"{status}: {body[:300].decode('utf-8', 'replace')}"
                        for status, body in _read_records(root / f"bad-{index}",
                                                          with_status=True)]
        socket_errors = connect + read + write + timeout
        if socket_errors:
            samples.append(json.dumps({"connect": connect, "read": read, "write": write,
                                       "timeout": timeout}))
        cpu = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))
        return WrkLoad(elapsed_s=duration_us / 1e6, answered=ok, errors=bad + socket_errors,
                       p50_ms=p50_us / 1000.0, p99_ms=p99_us / 1000.0, max_ms=max_us / 1000.0,
                       client_cpu_s=cpu, ok_bodies=kept[:keep], error_samples=samples)
