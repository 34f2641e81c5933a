"""Serving the app with gunicorn, a production WSGI server, from the `issuer serve` command."""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._app


def freeze_long_lived() -> None:
    """Move every object alive now out of the garbage collector's sight (``gc.freeze``).

    The app holds a large set of objects that live as long as the process (the JSON-LD
    contexts, the schemas, the mapped classes, compiled statements). A full collection walks
    all of them, and so stopped a worker for over 100 ms every few thousand requests: the
    slowest requests were those collections. Frozen, they are never walked again, and the
    pages they sit on stay shared between the forked workers. What is frozen is never
    collected, so this is called only when nothing but long-lived objects remain: after a
    full collection, once the app is built and once a worker has served its first request.
    """
    gc.collect()
    gc.freeze()


def _after_first_request(worker: Any, _req: Any, _environ: Any, _resp: Any) -> None:
    # The first request fills the caches built on first use (templates, validators,
    # statement caches); freeze those too, once.
    if not getattr(worker, "_issuer_frozen", False):
        worker._issuer_frozen = True
        freeze_long_lived()


def run(app: Any, *, host: str, port: int, workers: int = 2, certfile: str | None = None,
        keyfile: str | None = None) -> None:
    """Serve ``app``; the app is built before forking, so each worker gets a fresh pool.

    With ``certfile`` and ``keyfile`` (PEM) it serves https itself (gunicorn's TLS).
    """
    from issuer.app import runtime

    runtime(app).engine.dispose()
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-",
        "errorlog": "-",
        "limit_request_line": 8190,
        "post_fork": lambda _server, _worker: runtime(app).engine.dispose(close=False),
        "post_request": _after_first_request,
    }
    if certfile is not None and keyfile is not None:
        options.update(certfile=certfile, keyfile=keyfile)
    freeze_long_lived()
    _Server(app, options).run()
