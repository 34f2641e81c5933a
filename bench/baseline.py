"""The raw Ed25519 signature, timed while a measured stretch runs, as the yardstick of that
stretch.

On a shared machine the speed of a core changes by a fifth from one second to the next (a
signature took 36–53 µs of CPU within one minute here), so a baseline timed before and after
a run of several minutes says little about the seconds in which a given request type was
measured. :class:`SignatureClock` times it during them: a separate process signs a short
batch, sleeps, and signs again, for as long as the stretch lasts; the median of its batches
is the yardstick, and the spread of the batches is reported beside it. It is a process of
its own so that the benchmark's client threads (and their GIL) do not slow it, and it keeps
about a tenth of one core busy, like any other load on the machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
from dataclasses import dataclass
from types import TracebackType

#: Signatures per batch (about 5–10 ms of CPU) and the pause between batches.
BATCH = 200
PAUSE_S = 0.1

_PROBE = """
import sys, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
key = Ed25519PrivateKey.generate()
message = bytes(range(64))
batch, pause = int(sys.argv[1]), float(sys.argv[2])
for _ in range(10):
    key.sign(message)
while True:
    start = time.thread_time()
    for _ in range(batch):
        key.sign(message)
    print((time.thread_time() - start) / batch * 1000.0, flush=True)
    time.sleep(pause)
"""


@dataclass(frozen=True)
class Yardstick:
    """CPU milliseconds per raw signature over a stretch: the median batch, and the fastest
    and slowest batch."""

    ms: float
    fastest_ms: float
    slowest_ms: float
    batches: int


class SignatureClock:
    """``with SignatureClock() as clock: ...`` then ``clock.yardstick()``."""

    def __init__(self, batch: int = BATCH, pause_s: float = PAUSE_S) -> None:
        self._args = [sys.executable, "-c", _PROBE, str(batch), str(pause_s)]
        self._samples: list[float] = []
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> SignatureClock:
        process = subprocess.Popen(self._args, stdout=subprocess.PIPE, text=True)
        self._process = process
        assert process.stdout is not None
        stream = process.stdout

        def read() -> None:
            for line in stream:
                self._samples.append(float(line))

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._process is None:
            return
        self._process.terminate()
        self._process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()

    def yardstick(self) -> Yardstick:
        """The stretch's signature cost; raises if no batch finished (a stretch too short)."""
        samples = list(self._samples)
        if not samples:
            raise RuntimeError("no signature batch finished during the stretch")
        return Yardstick(statistics.median(samples), min(samples), max(samples),
                         len(samples))
