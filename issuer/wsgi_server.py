"""Serving the app with gunicorn, a production WSGI server, from the `issuer serve` command."""

from __future__ import annotations

import gc
import socket
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


def take_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` and held, for :func:`run` to serve from.

    Raises OSError (``EADDRINUSE`` for a port in use). Taking the port first, before the
    database is touched or anything is printed, lets the command say in one line that it
    cannot; and as gunicorn is handed this socket rather than binding its own, no other
    program can take the port in between.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As gunicorn does: the connections of a server just stopped, left in TIME_WAIT,
        # must not keep the next one off its port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        # Bound, it is not listening yet (a client is refused until the server is up, not
        # left waiting); a socket bound without SO_REUSEADDR is one no other may share,
        # until gunicorn sets it again and listens.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
    except BaseException:
        sock.close()
        raise
    return sock


def _after_first_request(worker: Any, _req: Any, _environ: Any, _resp: Any) -> None:
    # The first request fills the caches built on first use (templates, validators,
    # statement caches); freeze those too, once.
    if not getattr(worker, "_issuer_frozen", False):
        worker._issuer_frozen = True
        freeze_long_lived()


def run(app: Any, *, listener: socket.socket, workers: int = 2, certfile: str | None = None,
        keyfile: str | None = None) -> None:
    """Serve ``app`` from ``listener`` (:func:`take_port`), which gunicorn takes over; the app is
    built before forking, so each worker gets a fresh pool.

    With ``certfile`` and ``keyfile`` (PEM) it serves https itself (gunicorn's TLS).
    """
    from issuer.app import runtime

    runtime(app).engine.dispose()
    # gunicorn closes the descriptor it is given once it has its own copy: the socket object
    # lets go of it, so that nothing closes it twice.
    options = {
        "bind": f"fd://{listener.detach()}",
        "workers": workers,
        "worker_class": "sync",
        "timeout": 60,
        "graceful_timeout": 10,
        # Each request is logged once, by the app (a JSON line with its request id):
        # gunicorn's own access log would print a second, differently shaped line.
        "accesslog": None,
        "errorlog": "-",
        "limit_request_line": 8190,
        "post_fork": lambda _server, _worker: runtime(app).engine.dispose(close=False),
        "post_request": _after_first_request,
    }
    if certfile is not None and keyfile is not None:
        options.update(certfile=certfile, keyfile=keyfile)
    freeze_long_lived()
    _Server(app, options).run()
