"""What operators and their tools read: ``/healthz`` and ``/readyz`` for load balancers and
orchestrators, ``/metrics`` for Prometheus, and one JSON log line per request.

* :mod:`issuer.web.ops.health`: the two probes.
* :mod:`issuer.web.ops.metrics`: request counts and latencies, and figures from the database.
* :mod:`issuer.web.ops.logs`: the request id and the request log.
"""

from __future__ import annotations

from flask import Flask

from issuer.web.ops import logs, metrics


def init_app(app: Flask) -> None:
    logs.init_app(app)
    metrics.init_app(app)


__all__ = ["init_app"]
