"""A bounded in-memory cache of fetched documents (RFC 9111 HTTP Caching, a small part).

A response is kept for its ``Cache-Control: max-age`` (§5.2.2.1) and, when it has an
``ETag``, revalidated with ``If-None-Match`` once stale (§4.3.1); ``no-store`` (§5.2.2.5) is
never kept and ``no-cache`` (§5.2.2.4) is always revalidated. Nothing is kept longer than
:data:`MAX_AGE_CAP`, and the cache holds at most a number of entries and of bytes: the
least recently used go first.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["MAX_AGE_CAP", "CachedResponse", "ResponseCache", "freshness"]

#: A day: even a document that says it never changes is fetched again after this.
MAX_AGE_CAP = 24 * 3600

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?([0-9]+)\"?\s*(?:,|$)", re.IGNORECASE)


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    content_type: str
    etag: str | None
    fresh_until: float
    #: When the server sent (or last confirmed) the body; shown as the document's provenance.
    fetched_at: datetime | None = None


def freshness(cache_control: str | None) -> float | None:
    """Seconds a response may be reused without asking, or None when it must not be kept."""
    value = (cache_control or "").lower()
    directives = {part.strip().split("=", 1)[0] for part in value.split(",")}
    if "no-store" in directives:
        return None
    if "no-cache" in directives:
        return 0.0
    match = _MAX_AGE.search(value)
    return float(min(int(match.group(1)), MAX_AGE_CAP)) if match else 0.0


class ResponseCache:
    """Thread-safe LRU of responses by URL, bounded by entries and by total bytes."""

    def __init__(self, *, max_entries: int = 128, max_bytes: int = 16 * 1024 * 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self.clock = clock

    def get(self, url: str) -> CachedResponse | None:
        with self._lock:
            entry = self._entries.get(url)
            if entry is not None:
                self._entries.move_to_end(url)
            return entry

    def put(self, url: str, body: bytes, content_type: str, *, etag: str | None,
            cache_control: str | None, fetched_at: datetime | None = None) -> None:
        """Keep a response, if its headers let it be reused at all."""
        seconds = freshness(cache_control)
        if seconds is None or (seconds == 0 and etag is None) or len(body) > self._max_bytes:
            self.discard(url)
            return
        entry = CachedResponse(body, content_type, etag, self.clock() + seconds, fetched_at)
        with self._lock:
            self._remove(url)
            self._entries[url] = entry
            self._bytes += len(body)
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                self._remove(next(iter(self._entries)))

    def refresh(self, url: str, cache_control: str | None,
                fetched_at: datetime | None = None) -> CachedResponse | None:
        """After a ``304 Not Modified``: the kept body, fresh again for the new max-age."""
        entry = self.get(url)
        if entry is None:
            return None
        self.put(url, entry.body, entry.content_type, etag=entry.etag,
                 cache_control=cache_control, fetched_at=fetched_at or entry.fetched_at)
        return entry

    def discard(self, url: str) -> None:
        with self._lock:
            self._remove(url)

    def _remove(self, url: str) -> None:
        entry = self._entries.pop(url, None)
        if entry is not None:
            self._bytes -= len(entry.body)

    def __len__(self) -> int:
        return len(self._entries)
