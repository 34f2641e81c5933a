"""The JSON API for credential status: revoke, suspend, reinstate, and the history.

``POST /api/v1/credentials/<id>/revoke`` (and ``/suspend``, ``/reinstate``) with
``{"reason": "…"}``; the token acts for one issuer, and another issuer's credential answers
404 exactly as a missing one. A change the credential's state does not allow (reinstating a
revoked credential: revocation is permanent) is 409, a missing reason 422.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from issuer.app import db, services
from issuer.services.awards import credential_url
from issuer.services.context import ServiceContext
from issuer.services.status import (
    ACTIONS,
    REINSTATE,
    change_status,
    credential_status,
    own_credential,
    status_events,
)
from issuer.storage.models import Credential, StatusEvent
from issuer.web.api_common import json_body, json_response, token_actor, token_issuer
from issuer.web.api_repr import timestamp


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
    db().commit()
    return json_response(result)


def revoke(credential_id: str) -> ResponseReturnValue:
    """Revoke for good (W3C Bitstring Status List §2.1: not reversible)."""
    return _change(credential_id, "revoke")


def suspend(credential_id: str) -> ResponseReturnValue:
    return _change(credential_id, "suspend")


def reinstate(credential_id: str) -> ResponseReturnValue:
    """Lift a suspension; a revoked credential stays revoked (409)."""
    return _change(credential_id, "reinstate")


def status(credential_id: str) -> ResponseReturnValue:
    credential = own_credential(db(), token_issuer(), credential_id)
    result = status_json(services(), credential)
    db().commit()
    return json_response(result)


def register(bp: Blueprint) -> None:
    views = {"revoke": revoke, "suspend": suspend, "reinstate": reinstate}
    for action in ACTIONS:
        view = views[action]
        bp.add_url_rule(f"/api/v1/credentials/<credential_id>/{action}",
                        endpoint=f"api_{action}", view_func=view, methods=["POST"])
    bp.add_url_rule("/api/v1/credentials/<credential_id>/status", endpoint="api_status",
                    view_func=status, methods=["GET"])
