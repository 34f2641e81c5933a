"""``GET /metrics``: Prometheus figures (``prometheus_client``, text format 0.0.4).

* Per process: ``issuer_http_requests_total`` and the latency histogram
  ``issuer_http_request_duration_seconds`` by method and route (the URL rule, so the label
  values stay few), and ``issuer_verifications_total`` by route and status. Under
  ``issuer serve`` the gunicorn workers share them through prometheus_client's
  multiprocess mode, so one scrape counts every worker of the node.
* From the database, the same on every node: ``issuer_credentials_issued``,
  ``issuer_bulk_jobs`` by status (the job queue's depth is ``pending`` + ``running``;
  failures ``failed``), ``issuer_mail_waiting`` and ``issuer_mail_failed``
  (:mod:`issuer.services.monitoring`).

The figures say how busy the site is and what fails, so they are not public: with
``ISSUER_METRICS_TOKEN`` set a scraper sends it as a bearer token; without it only this
machine (a loopback address) may read them. Anything else is 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterator

from flask import Flask, Response, g, request
from flask.typing import ResponseReturnValue
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from issuer.services.monitoring import figures
from issuer.web.blueprints import ops as bp
from issuer.web.context import runtime
from issuer.web.errors import problem
from issuer.web.ops.logs import route

REQUESTS = Counter("issuer_http_requests", "HTTP requests answered",
                   ["method", "route", "status"])
LATENCY = Histogram("issuer_http_request_duration_seconds", "Time to answer a request",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
VERIFICATIONS = Counter("issuer_verifications", "Credentials and presentations verified",
                        ["route", "status"])
#: Every bulk award status, so a series exists (at 0) before the first job of that kind.
JOB_STATES = ("preview", "pending", "running", "done", "failed", "cancelled")


def init_app(app: Flask) -> None:
    app.after_request(_observe)


def _observe(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:
        return response
    rule = route()
    LATENCY.labels(request.method, rule).observe(time.perf_counter() - started)
    REQUESTS.labels(request.method, rule, str(response.status_code)).inc()
    if request.method == "POST" and "verify" in rule:
        VERIFICATIONS.labels(rule, str(response.status_code)).inc()
    return response


class DatabaseFigures(Collector):
    """The database's figures, read at each scrape."""

    def collect(self) -> Iterator[Metric]:
        with runtime().sessions() as session:
            found = figures(session)
        yield CounterMetricFamily("issuer_credentials_issued",
                                  "Credentials issued by this site", found.credentials_issued)
        jobs = GaugeMetricFamily("issuer_bulk_jobs", "Bulk awards by status",
                                 labels=["status"])
        for status in sorted({*JOB_STATES, *found.bulk_jobs}):
            jobs.add_metric([status], found.bulk_jobs.get(status, 0))
        yield jobs
        yield GaugeMetricFamily("issuer_mail_waiting", "Messages waiting to be sent",
                                found.mail_waiting)
        yield GaugeMetricFamily("issuer_mail_failed", "Messages that could not be sent",
                                found.mail_failed)


def _allowed() -> bool:
    token = runtime().settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _process_figures() -> bytes:
    registry = CollectorRegistry()
    try:
        # Set up by `issuer serve` for its gunicorn workers; raises outside that mode.
        multiprocess.MultiProcessCollector(registry)
    except ValueError:
        return generate_latest(REGISTRY)
    return generate_latest(registry)


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    if not _allowed():
        return problem(403, "the metrics are for this machine, or for a scraper with the "
                            "metrics token (ISSUER_METRICS_TOKEN)")
    database = CollectorRegistry()
    database.register(DatabaseFigures())
    body = _process_figures() + generate_latest(database)
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST,
                                   "Cache-Control": "no-store"})


__all__ = ["LATENCY", "REQUESTS", "VERIFICATIONS", "init_app"]
