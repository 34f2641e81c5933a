"""Mail queued during a request goes out once the request's transaction has committed.

Services queue a message in the outbox (:mod:`issuer.services.mail`) in the transaction of
the change it reports. After the request's commit (:mod:`issuer.web.context`) the messages
that commit wrote are delivered, before the answer leaves; a request that rolled back, or
an attempt whose SAVEPOINT was undone, sends nothing of what it queued.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request

from issuer.services.mail import DeliveryReport, take_queued
from issuer.web.context import after_commit, background, db, runtime

log = logging.getLogger("issuer.web.mail")


def init_app(app: Flask) -> None:
    app.before_request(_deliver_after_commit)


def _deliver_after_commit() -> None:
    # Given as the request starts, so it runs before any callback of the view, which then
    # finds the outcome ready.
    after_commit(_deliver)


def _deliver(_answer: Response) -> None:
    deliver_committed_mail()


def deliver_committed_mail() -> DeliveryReport:
    """What became of the mail of this request's committed transaction, delivered on the
    first call; for an :func:`~issuer.web.context.after_commit` callback that tells the
    outcome in its answer (and only there: before the commit it would take messages that
    are not stored yet).

    A delivery that fails is logged and reported as nothing sent: the change is committed
    and stays, and the messages wait in the outbox.
    """
    report: DeliveryReport | None = g.get("mail_report")
    if report is not None:
        return report
    report = DeliveryReport()
    queued = take_queued(db())
    if queued:
        rt = runtime()
        try:
            report = background().deliver_mail(rt.sessions, rt.services, queued)
        except Exception:
            log.exception("mail delivery after %s %s failed", request.method, request.path)
    g.mail_report = report
    return report


__all__ = ["deliver_committed_mail", "init_app"]
