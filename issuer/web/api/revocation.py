"""The JSON API for credential status: revoke, suspend, reinstate, and the history.

``POST /api/v1/credentials/<id>/revoke`` (and ``/suspend``, ``/reinstate``) with
``{"reason": "…"}``; the token acts for one issuer, and another issuer's credential answers
404 exactly as a missing one. A change the credential's state does not allow (reinstating a
revoked credential: revocation is permanent) is 409, a missing reason 422.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue

from issuer.services.awards import credential_url
from issuer.services.context import ServiceContext
from issuer.services.revocation import (
    REINSTATE,
    change_status,
    credential_status,
    own_credential,
    status_events,
)
from issuer.storage.models import Credential, StatusEvent
from issuer.web.api.common import json_body, json_response, token_actor, token_issuer
from issuer.web.api.representations import timestamp
from issuer.web.blueprints import status as bp
from issuer.web.context import db, services


def event_json(event: StatusEvent) -> dict[str, Any]:
    return {"action": event.action, "from": event.from_status, "to": event.to_status,
            "reason": event.reason, "actor": event.actor, "at": timestamp(event.at)}


def status_json(ctx: ServiceContext, credential: Credential) -> dict[str, Any]:
    view = credential_status(db(), ctx, credential)
    return {"id": credential.id, "url": credential_url(ctx, credential.id),
            "status": view.state, "reason": view.reason, "since": timestamp(view.since),
            "history": [event_json(e) for e in status_events(db(), credential)]}


def _change(credential_id: str, action: str) -> ResponseReturnValue:
    ctx = services()
    issuer = token_issuer()
    own_credential(db(), issuer, credential_id)  # 404 before the body is even read
    body: dict[str, Any] = {}
    if action != REINSTATE or request.get_data(cache=True):
        body = json_body("status-change")
    event = change_status(db(), ctx, issuer, credential_id, action,
                          reason=body.get("reason"), actor=token_actor())
    result = status_json(ctx, own_credential(db(), issuer, event.credential_id))
    return json_response(result)


@bp.post("/api/v1/credentials/<credential_id>/revoke", endpoint="api_revoke")
def revoke(credential_id: str) -> ResponseReturnValue:
    """Revoke for good (W3C Bitstring Status List §2.1: not reversible)."""
    return _change(credential_id, "revoke")


@bp.post("/api/v1/credentials/<credential_id>/suspend", endpoint="api_suspend")
def suspend(credential_id: str) -> ResponseReturnValue:
    return _change(credential_id, "suspend")


@bp.post("/api/v1/credentials/<credential_id>/reinstate", endpoint="api_reinstate")
def reinstate(credential_id: str) -> ResponseReturnValue:
    """Lift a suspension; a revoked credential stays revoked (409)."""
    return _change(credential_id, "reinstate")


@bp.get("/api/v1/credentials/<credential_id>/status", endpoint="api_status")
def status(credential_id: str) -> ResponseReturnValue:
    credential = own_credential(db(), token_issuer(), credential_id)
    result = status_json(services(), credential)
    return json_response(result)

