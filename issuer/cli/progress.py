"""Progress of reading a large file, on stderr only: stdout stays what scripts read.

On a terminal one line is rewritten in place; elsewhere (a log, a test) each update is a line
of its own, so nothing depends on carriage returns. Updates come at most every
:data:`INTERVAL` seconds, so a progress display costs nothing measurable.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["INTERVAL", "Progress", "open_counted"]

#: Seconds between two updates.
INTERVAL = 0.5
_MB = 1024 * 1024


class Progress:
    """Bytes read of the files being read, and the time since the start."""

    def __init__(self, *, enabled: bool, stream: IO[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self._stream = stream if stream is not None else sys.stderr
        self._terminal = self._stream.isatty()
        self._clock = clock
        self._started = clock()
        self._shown = self._started
        self._label = ""
        self._total = 0
        self._position = 0
        self._passes = 1

    def start(self, path: Path, *, counted: bool = True) -> None:
        """A new file: its name and size. ``counted`` is false for a file read by a library
        that opens it itself: then only its size is shown, until :meth:`finish`."""
        self._label = path.name
        self._total = path.stat().st_size
        self._position = 0
        self._passes = 1
        if counted:
            self.update(0, force=True)
        elif self.enabled:
            self._write(f"reading {self._label} ({self._total / _MB:.1f} MB)")

    def update(self, position: int, *, force: bool = False) -> None:
        """Reading has reached ``position``; a position before the last one starts another
        pass over the file (a reader that goes through it twice)."""
        if position < self._position:
            self._passes += 1
        self._position = position
        now = self._clock()
        if not self.enabled or (not force and now - self._shown < INTERVAL):
            return
        self._shown = now
        share = f" ({position / self._total:.0%})" if self._total else ""
        again = f", pass {self._passes}" if self._passes > 1 else ""
        self._write(f"reading {self._label}{again}: {position / _MB:.1f} of "
                    f"{self._total / _MB:.1f} MB{share}, {now - self._started:.1f} s")

    def finish(self, kept: int) -> None:
        """The end: how long it took, and how many items were kept."""
        if not self.enabled:
            return
        self._write(f"done in {self._clock() - self._started:.1f} s: kept {kept} "
                    f"item{'s' if kept != 1 else ''}")
        if self._terminal:
            self._stream.write("\n")
            self._stream.flush()

    def _write(self, line: str) -> None:
        if self._terminal:
            # Rewrite the line in place; the padding wipes a longer line before it.
            self._stream.write("\r" + line.ljust(78))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()


class _CountedRaw(io.RawIOBase):
    """A file whose reads are reported to a :class:`Progress`."""

    def __init__(self, raw: io.FileIO, progress: Progress) -> None:
        self._raw = raw
        self._progress = progress

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._raw.readinto(buffer)
        if count:
            self._progress.update(self._raw.tell())
        return count or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_counted(path: Path, progress: Progress) -> io.BufferedReader:
    """``path`` opened for reading in binary, each read counted."""
    progress.start(path)
    return io.BufferedReader(_CountedRaw(io.FileIO(path, "rb"), progress))
