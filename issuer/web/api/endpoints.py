"""The JSON API under ``/api/v1``: one bearer token acts for exactly one issuer.

Every route works on the token's issuer only. Something that belongs to another issuer (a
credential id, a bulk job, an achievement URL) answers 404, exactly as if it did not exist,
so a token cannot be used to learn what other issuers hold. Token use (``last_used_at``) is
recorded only when a request succeeds: the request's unit of work commits successes and
rolls failures back (:mod:`issuer.web.context`). Errors are RFC 9457 problem details (see
:mod:`issuer.web.errors`).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from flask import Response, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, or_, select

from issuer.core.errors import IssuerError, SchemaError
from issuer.services.achievements import (
    create_achievement,
    get_achievement,
    list_achievements,
    store_image,
    update_achievement,
)
from issuer.services.award_batches import BatchItem, award_batch
from issuer.services.award_mail import AwardMail, award_mails, delivered_mail, queue_award_mail
from issuer.services.awards import (
    AwardRequest,
    EvidenceItem,
    Recipient,
    award,
    credential_url,
    get_credential,
    search_credentials,
)
from issuer.services.bulk import end_of_day
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.idempotency import Earlier, Taken, claim, parse_key, record
from issuer.services.issuers import issuer_url
from issuer.storage.models import Achievement, Credential, Issuer
from issuer.web.api.common import (
    MAX_SCHEMA_ERRORS,
    json_body,
    json_response,
    paging_headers,
    query_int,
    query_text,
    raw_json_response,
    require_media_type,
    schema_errors,
    token_actor,
    token_issuer,
)
from issuer.web.api.representations import (
    achievement_data,
    achievement_json,
    credential_summary,
    issuer_json,
)
from issuer.web.blueprints import api as bp
from issuer.web.context import after_commit, db, services
from issuer.web.mail_delivery import deliver_committed_mail

IMAGE_TYPES = ("image/png", "image/svg+xml")
MAX_PAGE = 200
MAX_QUERY = 200  # characters of a search (schemas/openapi.yaml says so too)
MAX_OFFSET = 10**9


def _api_url(path: str) -> str:
    return f"{services().base}/api/v1{path}"


# --- issuer and achievements ---------------------------------------------------------------


@bp.get("/issuer")
def issuer() -> ResponseReturnValue:
    body = issuer_json(services(), token_issuer())
    return json_response(body)


@bp.get("/achievements")
def achievements() -> ResponseReturnValue:
    ctx = services()
    body = {"achievements": [achievement_json(ctx, a)
                             for a in list_achievements(db(), token_issuer())]}
    return json_response(body)


@bp.post("/achievements")
def create() -> ResponseReturnValue:
    ctx = services()
    issuer = token_issuer()
    body = json_body("achievement-create")
    achievement = create_achievement(db(), ctx, issuer, achievement_data(body))
    result = achievement_json(ctx, achievement)
    return json_response(result, 201,
                         headers={"Location": _api_url(f"/achievements/{achievement.slug}")})


@bp.get("/achievements/<slug>")
def achievement(slug: str) -> ResponseReturnValue:
    body = achievement_json(services(), get_achievement(db(), token_issuer(), slug))
    return json_response(body)


@bp.patch("/achievements/<slug>")
def edit(slug: str) -> ResponseReturnValue:
    """JSON Merge Patch (RFC 7396) of the editable members."""
    ctx = services()
    found = get_achievement(db(), token_issuer(), slug)
    body = json_body("achievement-update")
    update_achievement(db(), ctx, found, achievement_data(body))
    result = achievement_json(ctx, found)
    return json_response(result)


@bp.put("/achievements/<slug>/image")
def image(slug: str) -> ResponseReturnValue:
    """The achievement's image (OB 3.0 §B.1.10), sent as the raw PNG or SVG body."""
    ctx = services()
    issuer = token_issuer()
    found = get_achievement(db(), issuer, slug)
    media_type = require_media_type(*IMAGE_TYPES)
    stored = store_image(db(), ctx, issuer, request.get_data(), media_type)
    found.image = stored
    update_achievement(db(), ctx, found, {})  # a new version: new awards carry the new image
    result = achievement_json(ctx, found)
    return json_response(result)


# --- awards and credentials ----------------------------------------------------------------


def _achievement_named(issuer: Issuer, name: str) -> Achievement:
    """An achievement by short name or by its id URL, among the token issuer's only."""
    prefix = f"{issuer_url(services(), issuer.slug)}/achievements/"
    if name.startswith(("http://", "https://")):
        if not name.startswith(prefix) or "/" in name[len(prefix):]:
            raise NotFound(f"no achievement {name!r} for this issuer")
        name = name[len(prefix):]
    # Every award reads it: this process's checked copy (see issuer.services.lookups).
    return get_achievement(db(), issuer, name, lookups=services().lookups)


def _valid_until(value: str | None) -> datetime | None:
    if value is None:
        return None
    if len(value) == 10:
        return end_of_day(date.fromisoformat(value))
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed.astimezone(UTC)


def award_request(body: dict[str, Any]) -> AwardRequest:
    recipient = body["recipient"]
    return AwardRequest(
        recipient=Recipient.parse(recipient.get("email") or recipient.get("did") or "",
                                  recipient.get("name")),
        evidence=tuple(
            EvidenceItem(url=e.get("url"), name=e.get("name"), narrative=e.get("narrative"),
                         description=e.get("description"), genre=e.get("genre"))
            for e in body.get("evidence", [])
        ),
        narrative=body.get("narrative"),
        valid_until=_valid_until(body.get("validUntil")),
    )


@bp.post("/awards")
def award_one() -> ResponseReturnValue:
    """Issue one OB 3.0 AchievementCredential; nothing is stored if any step fails.

    An email recipient is sent the credential's link (unless ``"notify": false``) once the
    award has committed; ``email`` in the answer says how that went. A mail that fails
    leaves the credential issued.
    """
    ctx = services()
    issuer = token_issuer()
    body = json_body("award")
    found = _achievement_named(issuer, body["achievement"])
    key = _idempotency_key(issuer, "awards")
    if isinstance(key, Earlier):
        return _replayed(key, many=False)
    row = award(db(), ctx, issuer, found, award_request(body), actor=token_actor(),
                flush=False)
    message = (queue_award_mail(db(), ctx, row, issuer_name=issuer.name, write_now=True)
               if body.get("notify", True) else None)
    if key is not None:
        record(key, [row.id])
    head = _answer_head(row)
    url = credential_url(ctx, row.id)

    def told(_answer: Response) -> Response:
        # The answer is made once the credential is stored and its mail went out.
        email = delivered_mail(ctx, row, message, deliver_committed_mail())
        return _created(_with_email(head, email), url)

    after_commit(told)
    return _created(head + "}", url)


@bp.post("/awards/batch")
def award_many() -> ResponseReturnValue:
    """Issue up to :data:`~issuer.services.award_batches.MAX_AWARDS` credentials, each
    given as ``POST /api/v1/awards`` takes one, all or none: if any award is refused,
    nothing is stored and the answer names every item at fault that could be seen before
    issuing. The answer lists each award's result in the order sent."""
    ctx = services()
    issuer = token_issuer()
    body = json_body("award-batch")
    items = _batch_items(issuer, body["awards"])
    key = _idempotency_key(issuer, "awards/batch")
    if isinstance(key, Earlier):
        return _replayed(key, many=True)
    done = award_batch(db(), ctx, issuer, items, actor=token_actor())
    if key is not None:
        record(key, [a.credential.id for a in done])
    heads = [_answer_head(a.credential) for a in done]

    def told(_answer: Response) -> Response:
        report = deliver_committed_mail()
        parts = [_with_email(head, delivered_mail(ctx, a.credential, a.message, report))
                 for head, a in zip(heads, done, strict=True)]
        return _awards_answer(parts)

    after_commit(told)
    return _awards_answer([head + "}" for head in heads])


def _awards_answer(parts: list[str]) -> Response:
    """A batch's answer, made of each award's (:func:`_answer_head`, :func:`_with_email`)."""
    return raw_json_response('{"awards":[' + ",".join(parts) + "]}", 201)


def _answer_head(credential: Credential) -> str:
    """An award's answer up to its ``email`` member. The stored text goes out as it is:
    parsing and serializing it again would cost more than the rest of the answer."""
    url = credential_url(services(), credential.id)
    return (json.dumps({"id": credential.id, "url": url}, ensure_ascii=False,
                       separators=(",", ":"))[:-1] + ',"credential":' + credential.document)


def _with_email(head: str, email: AwardMail) -> str:
    return head + ',"email":' + json.dumps(email.to_json(), ensure_ascii=False,
                                           separators=(",", ":")) + "}"


def _idempotency_key(issuer: Issuer, route: str) -> Taken | Earlier | None:
    """The request's ``Idempotency-Key``, taken for it; what an earlier request with the
    key issued; or None when no key was sent."""
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    return claim(db(), services(), issuer, route, parse_key(value),
                 request.get_data(cache=True))


def _replayed(earlier: Earlier, *, many: bool) -> Response:
    """The answer to the key's earlier request, as it stands now (its mail read again)."""
    ctx = services()
    if not earlier.credentials:
        raise Conflict("The credentials this Idempotency-Key's request issued no longer exist.")
    mail = award_mails(db(), ctx, earlier.credentials)
    parts = [_with_email(_answer_head(c), mail[c.id]) for c in earlier.credentials]
    if many:
        response = _awards_answer(parts)
    else:
        response = _created(parts[0], credential_url(ctx, earlier.credentials[0].id))
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _batch_items(issuer: Issuer, bodies: list[Any]) -> list[BatchItem]:
    """Each award of a batch checked as ``POST /api/v1/awards`` checks its body; every
    item at fault is named (``awards[i]…``) before anything is issued."""
    problems: list[str] = []
    for number, item in enumerate(bodies):
        problems += [f"awards[{number}]" + (m[len("(body)"):] if m.startswith("(body)")
                                             else "." + m)
                     for m in schema_errors(item, "award")]
    if problems:
        raise SchemaError(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in "
                          f"the batch, nothing was issued: {problems[0]}",
                          problems[:MAX_SCHEMA_ERRORS])
    items: list[BatchItem] = []
    faults: dict[str, str] = {}
    named: dict[str, Achievement] = {}
    for number, item in enumerate(bodies):
        try:
            name = item["achievement"]
            if name not in named:
                named[name] = _achievement_named(issuer, name)
            items.append(BatchItem(named[name], award_request(item), item.get("notify", True)))
        except (IssuerError, ValueError) as exc:
            faults[f"awards[{number}]"] = getattr(exc, "message", None) or str(exc)
    if faults:
        where, what = next(iter(faults.items()))
        raise Invalid(f"{len(faults)} award{'s' if len(faults) != 1 else ''} of the batch "
                      f"cannot be made, nothing was issued: {where}: {what}", faults)
    return items


def _created(text: str, url: str) -> Response:
    response = raw_json_response(text, 201)
    response.headers["Location"] = url
    return response


def _count_credentials(issuer: Issuer, query: str | None) -> int:
    # The same filter as services.awards.search_credentials, counted.
    stmt = select(func.count()).select_from(Credential).where(
        Credential.issuer_id == issuer.id)
    if query:
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(or_(
            Credential.recipient_email.ilike(like),
            Credential.recipient_name.ilike(like),
            Credential.recipient_did.ilike(like),
            Credential.achievement_name.ilike(like),
            Credential.id.ilike(like),
        ))
    return int(db().scalar(stmt) or 0)


@bp.get("/credentials")
def credentials() -> ResponseReturnValue:
    """Issued credentials, newest first; paged as OB 3.0 §6.4 pages getCredentials."""
    ctx = services()
    issuer = token_issuer()
    query = query_text("q", max_length=MAX_QUERY)
    limit = query_int("limit", 50, lowest=1, highest=MAX_PAGE)
    offset = query_int("offset", 0, lowest=0, highest=MAX_OFFSET)
    total = _count_credentials(issuer, query)
    rows = search_credentials(db(), issuer, query, limit=limit, offset=offset)
    body = {"credentials": [credential_summary(ctx, r) for r in rows], "total": total,
            "limit": limit, "offset": offset}
    return json_response(body, headers=paging_headers(total, limit, offset))


@bp.get("/credentials/<credential_id>")
def credential(credential_id: str) -> ResponseReturnValue:
    """The signed credential exactly as stored (and as served at its public URL)."""
    row = get_credential(db(), credential_id)
    if row.issuer_id != token_issuer().id:
        raise NotFound("no such credential")
    document = row.document
    return raw_json_response(document)

