"""Content negotiation for the public URLs: one address, a page for people, JSON for machines.

OB 3.0 Implementation Guide, "Issuer quickstart" and "Hosted verification": the issuer, the
achievement and the credential each live at one URL that answers JSON-LD to machines and
HTML to browsers (RFC 9110 §12.5.1 Accept).
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Response, request

from issuer.web.errors import problem

HTML = "text/html"

#: JSON-LD first: what the issuer and achievement URLs answer with whatever JSON was asked for.
LD_JSON_TYPES = ("application/ld+json", "application/json")

#: OB 3.0 §5.2 and VCDM 2.0 §6.3 (media types): a credential with an embedded proof.
CREDENTIAL_TYPES = ("application/vc+ld+json", "application/vc", "application/ld+json",
                    "application/json")


def json_type(offered: Sequence[str]) -> str | None:
    """The JSON media type the client prefers, or None when it should get the HTML page.

    HTML is listed first so that a tie (``*/*``, or no Accept header at all) gives people
    the page; ``?format=json`` lets a person open the JSON in a browser.
    """
    if request.args.get("format") == "json":
        return offered[0]
    best = request.accept_mimetypes.best_match(
        [HTML, *offered, "application/xhtml+xml"]
    )
    return best if best in offered else None


def json_response(body: str | bytes, media_type: str, *, vary: bool = True) -> Response:
    """A public JSON document, readable from any origin."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = Response(data, mimetype=media_type)
    # Public, cookie-free data: browser-based verifiers on other origins may read it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    if vary:
        response.vary.add("Accept")
    return response


def json_not_found(detail: str) -> Response:
    """RFC 9457 problem for a JSON client, whichever JSON type it asked for."""
    response = problem(404, detail)
    response.vary.add("Accept")
    return response
