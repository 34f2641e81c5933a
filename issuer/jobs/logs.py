"""The ``issuer worker`` log: one JSON object a line, like the web's request log, so that
one collector reads both.

A line holds the time, level, logger and message, and the record's ``fields`` (a job's id,
its rows and outcome). E-mail addresses never appear in full: whatever a message, a field
or a traceback says, an address is cut to its first letter and its domain
(``a…@example.org``), enough to tell a failing domain apart and no more (a log is kept
longer and read by more people than the outbox). Settings are never logged: the queue's
URL may hold a password.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

__all__ = ["JsonLines", "log_as_json", "masked"]

#: An address as it appears in running text (RFC 5322's dot-atom, the common case).
_ADDRESS = re.compile(r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]*"
                      r"@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def masked(text: str) -> str:
    """``text`` with every e-mail address cut to its first letter and its domain."""
    return _ADDRESS.sub(r"\1…@\2", text)


def _clean(value: object) -> object:
    if isinstance(value, str):
        return masked(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return masked(str(value))


class JsonLines(logging.Formatter):
    """A record as one JSON object: time, level, logger, message and its ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": masked(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({str(key): _clean(value) for key, value in fields.items()})
        if record.exc_info:
            entry["error"] = masked(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def log_as_json(level: int = logging.INFO) -> None:
    """Send every log record of the process (ours and the libraries', Dramatiq's) to
    standard error as JSON lines, replacing whatever handlers the root logger had."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root.addHandler(handler)
    root.setLevel(level)
