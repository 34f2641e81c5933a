"""Serving the app with gunicorn, a production WSGI server, from the `issuer serve` command."""

from __future__ import annotations

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


def run(app: Any, *, host: str, port: int, workers: int = 2) -> None:
    """Serve ``app``; the app is built before forking, so each worker gets a fresh pool."""
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
    }
    _Server(app, options).run()
