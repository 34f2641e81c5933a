"""The public side: credential, issuer and achievement pages, images, QR codes, baked badges,
link previews and verification.

Every URL here is public and read-only, except the verify form, which only reads what is
submitted. Pages for people and JSON for machines share one address (content negotiation, see
:mod:`issuer.web.public.negotiation`).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, render_template, request, url_for

from issuer.net.provenance import recording
from issuer.services.achievements import (
    achievement_builder,
    get_achievement,
    get_image,
    image_url,
    list_achievements,
)
from issuer.services.attestation_reading import read_endorsements
from issuer.services.awards import credential_url, get_credential
from issuer.services.baking import badge_source, bake_badge, issued_image
from issuer.services.errors import NotFound
from issuer.services.issuers import did_document, get_issuer, issuer_did, profile_document
from issuer.services.revocation import credential_status
from issuer.services.verification import verify, verify_presented
from issuer.web.blueprints import public as bp
from issuer.web.context import db, services
from issuer.web.public.negotiation import (
    CREDENTIAL_TYPES,
    LD_JSON_TYPES,
    json_not_found,
    json_response,
    json_type,
)
from issuer.web.public.qr import qr_png, qr_svg
from issuer.web.public.share import OG_HEIGHT, OG_WIDTH, PreviewCard, preview_png, share_links
from issuer.web.public.verdict import credential_verdict
from issuer.web.public.verify import (
    FormProblem,
    read_email,
    read_submission,
    recipient_view,
    report_view,
    source_views,
)
from issuer.web.public.view import (
    credential_view,
    display_date,
    load_document,
    paragraphs,
    web_url,
)

#: An SVG opened on its own is a document that could run script; this keeps it a picture.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
#: An image id is never reused for other bytes, so the bytes can be cached for good.
IMMUTABLE = "public, max-age=31536000, immutable"
QR_CACHE = "public, max-age=86400"
#: A baked badge carries the whole credential: browsers may keep it, shared caches may not,
#: and every reuse is revalidated against the ETag so a changed credential is never stale.
BAKED_CACHE = "private, no-cache"
#: Link-preview crawlers fetch the picture once per share; a day keeps them off the renderer.
PREVIEW_CACHE = "public, max-age=86400"
#: did:web resolvers re-read the document often; five minutes keeps key rotation visible soon.
DID_CACHE = "public, max-age=300"

#: OB 3.0 context list, as in the issuer Profile the service publishes.
OB_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"human_date": display_date, "base": services().base}


def _page(template: str, *, status: int = 200, **context: Any) -> Response:
    response = make_response(render_template(template, **context), status)
    response.vary.add("Accept")
    return response


def _dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


def _cacheable(response: Response, cache_control: str) -> Response:
    response.headers["Cache-Control"] = cache_control
    response.add_etag()
    response.make_conditional(request)  # answers 304 in place when the ETag matches
    return response


def verify_url(credential_id: str) -> str:
    """The address the QR code carries: the live check a phone opens after scanning."""
    return f"{credential_url(services(), credential_id)}/verify"


@bp.get("/")
def start() -> Response:
    return _page("public/start.html")


@bp.get("/issuers/<slug>")
def issuer_profile(slug: str) -> Response:
    """OB 3.0 Implementation Guide, "Issuer quickstart": the Profile at the issuer's URL."""
    wanted = json_type(LD_JSON_TYPES)
    try:
        issuer = get_issuer(db(), slug)
    except NotFound as exc:
        if wanted:
            return json_not_found(exc.message)
        raise
    if wanted:
        return json_response(_dumps(profile_document(services(), issuer)),
                             "application/ld+json")
    return _page("public/issuer.html", issuer=issuer,
                 description=paragraphs(issuer.description), website=web_url(issuer.url),
                 achievements=list_achievements(db(), issuer),
                 did=issuer_did(services(), issuer))


@bp.get("/issuers/<slug>/did.json")
def issuer_did_document(slug: str) -> Response:
    """did:web §3.2.2 Read: ``did:web:host:issuers:slug`` resolves to this document."""
    try:
        issuer = get_issuer(db(), slug)
    except NotFound as exc:
        return json_not_found(exc.message)
    response = json_response(_dumps(did_document(services(), issuer)),
                             "application/did+json", vary=False)
    return _cacheable(response, DID_CACHE)


@bp.get("/issuers/<slug>/achievements/<achievement_slug>")
def achievement(slug: str, achievement_slug: str) -> Response:
    """OB 3.0 §B.1.1 Achievement, at the URL that is its ``id``."""
    wanted = json_type(LD_JSON_TYPES)
    try:
        issuer = get_issuer(db(), slug)
        row = get_achievement(db(), issuer, achievement_slug)
    except NotFound as exc:
        if wanted:
            return json_not_found(exc.message)
        raise
    if wanted:
        document = {"@context": OB_CONTEXTS, **achievement_builder(services(), row).to_json()}
        return json_response(_dumps(document), "application/ld+json")
    return _page(
        "public/achievement.html", issuer=issuer, achievement=row,
        description=paragraphs(row.description), criteria=paragraphs(row.criteria_narrative),
        criteria_url=web_url(row.criteria_url),
        image_url=image_url(services(), row.image) if row.image is not None else None,
        alignments=[_alignment(a) for a in row.alignments],
    )


def _alignment(item: dict[str, Any]) -> dict[str, str | None]:
    """OB 3.0 §B.1.5 Alignment, with a link only when it is a web address."""
    return {"name": str(item.get("targetName", "")), "url": web_url(item.get("targetUrl")),
            "framework": item.get("targetFramework")}


@bp.get("/images/<int:image_id>")
def image(image_id: int) -> Response:
    """An uploaded badge image, for pages of this site and badge displays on others.

    Other sites fetch it, so CORS stays open and Cross-Origin-Resource-Policy (both from the
    Fetch standard) says so outright; nosniff is set here, not only by the app-wide default, so the
    stored media type is the only one a browser will use. An SVG is a document that could
    run script when opened on its own: its CSP sandboxes it and permits none.
    """
    row = get_image(db(), image_id)
    response = Response(row.data, mimetype=row.media_type)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if row.media_type == "image/svg+xml":
        response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["Cache-Control"] = IMMUTABLE
    response.set_etag(row.sha256)
    response.make_conditional(request)
    return response


@bp.get("/credentials/<credential:credential_id>")
def credential(credential_id: str) -> Response:
    """OB 3.0 §5.2: the credential exactly as issued for machines, a page for people."""
    wanted = json_type(CREDENTIAL_TYPES)
    try:
        row = get_credential(db(), credential_id)
    except NotFound as exc:
        if wanted:
            return json_not_found(exc.message)
        raise
    if wanted:
        # The stored text is what was signed; re-serializing it could break the proof.
        return json_response(row.document, wanted)
    document = load_document(row.document)
    view = credential_view(document)
    title = view.achievement_name or row.achievement_name
    issuer_name = view.issuer_name or row.issuer.name
    url = credential_url(services(), row.id)
    return _page(
        "public/credential.html", credential=row, view=view, title=title,
        summary=view.summary(row.achievement_name, row.issuer.name),
        og_image=f"{url}/og.png", og_width=OG_WIDTH, og_height=OG_HEIGHT,
        share=share_links(view, title=title, issuer_name=issuer_name, url=url,
                          credential_id=row.id),
        url=url, now=services().now(),
        credential_state=credential_status(db(), services(), row),
        verdict=credential_verdict(services(), row,
                                   lambda text: verify(db(), services(), text)),
        endorsements=read_endorsements(db(), services(), document),
    )


def _not_modified(etag: str, cache_control: str) -> Response | None:
    """A 304 when the client already holds this version, before any image work is done."""
    if not request.if_none_match.contains_weak(etag):  # RFC 9110 §13.1.2: weak comparison
        return None
    response = Response(status=304)
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    return response


@bp.get("/credentials/<credential_id>/badge.<any(png, svg):fmt>")
def baked_badge(credential_id: str, fmt: str) -> Response:
    """OB 3.0 §5.3: the credential baked into its badge image, as a file to keep."""
    row = get_credential(db(), credential_id)
    source = badge_source(db(), services(), row, fmt)
    cached = _not_modified(source.etag, BAKED_CACHE)
    if cached is not None:
        return cached
    baked = bake_badge(source)
    response = Response(baked.data, mimetype=source.media_type)
    # The file name is a slug (ASCII letters, digits and '-'), so it is safe in the header.
    response.headers["Content-Disposition"] = f'attachment; filename="{source.filename}"'
    if fmt == "svg":
        response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["Cache-Control"] = BAKED_CACHE
    response.set_etag(source.etag)
    return response


@bp.get("/credentials/<credential_id>/og.png")
def preview_image(credential_id: str) -> Response:
    """The picture of the credential page's link preview (Open Graph ``og:image``)."""
    row = get_credential(db(), credential_id)
    view = credential_view(load_document(row.document))
    image = issued_image(db(), services(), row)
    card = PreviewCard(
        title=view.achievement_name or row.achievement_name,
        issuer_name=view.issuer_name or row.issuer.name,
        recipient_name=view.recipient_name,
        # SVG cannot be drawn without a rasterizer; the default badge stands in for it.
        image=image if image is not None and image.media_type == "image/png" else None,
    )
    cached = _not_modified(card.etag, PREVIEW_CACHE)
    if cached is not None:
        return cached
    response = Response(preview_png(card), mimetype="image/png")
    response.headers["Cache-Control"] = PREVIEW_CACHE
    response.set_etag(card.etag)
    return response


@bp.get("/credentials/<credential_id>/download")
def download(credential_id: str) -> Response:
    row = get_credential(db(), credential_id)
    response = Response(row.document.encode("utf-8"), mimetype=CREDENTIAL_TYPES[0])
    # row.id is the stored UUID, so it is safe inside the header.
    response.headers["Content-Disposition"] = f'attachment; filename="badge-{row.id}.json"'
    return response


@bp.get("/credentials/<credential_id>/qr.png")
def qr_code_png(credential_id: str) -> Response:
    row = get_credential(db(), credential_id)
    return _cacheable(Response(qr_png(verify_url(row.id)), mimetype="image/png"), QR_CACHE)


@bp.get("/credentials/<credential_id>/qr.svg")
def qr_code_svg(credential_id: str) -> Response:
    row = get_credential(db(), credential_id)
    response = Response(qr_svg(verify_url(row.id)), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    return _cacheable(response, QR_CACHE)


def _no_store(response: Response) -> Response:
    # A verdict is true only at the moment it is computed; no cache may replay it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/credentials/<credential_id>/verify")
def credential_verify(credential_id: str) -> Response:
    """The page a scanned QR code opens: the credential checked now, from the stored bytes."""
    row = get_credential(db(), credential_id)
    report = verify(db(), services(), row.document)
    return _no_store(_page(
        "public/credential_verify.html", credential=row,
        report=report_view(db(), services(), report), checked_at=services().now(),
        page_url=url_for("public.credential", credential_id=row.id),
    ))


@bp.route("/verify", methods=["GET", "POST"])
def verify_page() -> Response:
    """The employer's page: paste, upload, or give the address of a badge (typed or scanned).

    What is fetched to check the badge (the badge itself, its issuer's DID document, its
    status list) is listed with where and when it came from.
    """
    if request.method == "GET":
        return _page("public/verify.html", pasted="", url="", email="")
    pasted = request.form.get("credential", "")
    url = request.form.get("url", "")
    email = request.form.get("email", "")
    with recording() as fetched:
        try:
            wanted = read_email(request.form)
            submission = read_submission(db(), services(), request.form,
                                         request.files.get("file"))
        except FormProblem as exc:
            return _no_store(_page("public/verify.html", status=exc.status, error=exc.message,
                                   pasted=pasted, url=url, email=email))
        report = verify_presented(db(), services(), submission.data)
    return _no_store(_page("public/verify.html", pasted=pasted, url=url, email=email,
                           source=submission.source, checked_at=services().now(),
                           report=report_view(db(), services(), report),
                           recipient=recipient_view(report, wanted),
                           sources=source_views(fetched, report.credential, submission.url),
                           from_records=submission.from_records))
