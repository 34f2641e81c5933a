"""``GET /healthz``: the process answers. ``GET /readyz``: this node can serve requests:
the database answers, its schema is the one this code expects, the active signing keys can
be loaded, and the job queue's broker answers when one is used
(:mod:`issuer.services.readiness`). Otherwise 503 as RFC 9457 problem details, like every
other error of the service, with each check's outcome in the extension member ``checks``
(RFC 9457 §3.2).

Both are public and cheap, for load balancers; neither says anything secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import jsonify
from flask.typing import ResponseReturnValue

from issuer.services import readiness
from issuer.web.blueprints import ops as bp
from issuer.web.context import background, runtime
from issuer.web.errors import problem

log = logging.getLogger("issuer.web.ops")


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    response = jsonify({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    rt = runtime()

    def with_session(check: Callable[..., str], *args: object) -> str:
        with rt.sessions() as session:
            return check(session, *args)

    checks: dict[str, Callable[[], str]] = {
        "database": lambda: with_session(readiness.database),
        "schema": lambda: readiness.schema(rt.engine),
        "signing_keys": lambda: with_session(readiness.signing_keys, rt.services),
        "queue": background().check_queue,
    }
    results: dict[str, str] = {}
    skipped: set[str] = set()
    for name, check in checks.items():
        if name != "database" and results.get("database", readiness.OK) != readiness.OK:
            results[name] = "not checked: the database cannot be used"
            skipped.add(name)
            continue
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - a failed check is an answer, not an error
            log.warning("readiness check %s failed: %s", name, type(exc).__name__)
            results[name] = f"failed ({type(exc).__name__})"
    failed = [name for name, value in results.items()
              if value != readiness.OK and name not in skipped]
    if failed:
        named = " and ".join(filter(None, (", ".join(failed[:-1]), failed[-1])))
        response = problem(503, f"This node cannot serve requests: the {named} "
                                f"check{'s' if len(failed) > 1 else ''} failed.",
                           title="Not ready", checks=results)
    else:
        response = jsonify({"status": "ready", "checks": results})
    response.headers["Cache-Control"] = "no-store"
    return response
