"""One JSON line per request on the ``issuer.request`` logger, with a request id.

The id is the caller's ``X-Request-ID`` when it is a short token (a proxy's), else a new
one; it is sent back in the answer's ``X-Request-ID`` so a report can be matched with the
log. A line holds the method, the route (the URL rule, such as
``/learn/sign-in/<token>``, never the path's values nor the query string, where sign-in
tokens and OAuth codes travel), the status, the time taken and the client address: no
header, cookie or body.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, request

log = logging.getLogger("issuer.request")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message and its ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Standard error as it is when the line is written, not when the app was made (a
    test runner, or a server, may have replaced it since)."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def init_app(app: Flask) -> None:
    if not log.handlers:
        handler = _Stderr()
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    app.before_request(_start)
    app.after_request(_finish)


def request_id() -> str:
    """This request's id (made on first use)."""
    found: str | None = g.get("request_id")
    if found is None:
        given = request.headers.get("X-Request-ID", "")
        found = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_id = found
    return found


def route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "(no route)"


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    response.headers["X-Request-ID"] = request_id()
    log.info("request", extra={"fields": {
        "request_id": request_id(), "method": request.method, "route": route(),
        "status": response.status_code, "duration_ms": round(seconds * 1000, 2),
        "client": request.remote_addr,
    }})
    return response


__all__ = ["JsonFormatter", "init_app", "request_id", "route"]
