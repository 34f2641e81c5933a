"""The API's description and its interactive documentation, served by the product itself.

``/openapi.yaml`` is ``schemas/openapi.yaml`` as shipped (OpenAPI 3.1; the media type is
``application/yaml``, RFC 9512 §2.1), and ``/api/NAME.json`` the JSON Schemas of
``schemas/api/`` that it refers to. ``/api/docs`` shows it with Swagger UI, whose script and
style sheet come from the ``flask-swagger-ui`` package's copy of the Swagger UI distribution:
nothing is fetched from another site, so the page works offline and under the site's
Content-Security-Policy (``script-src 'self'``). The package's own blueprint is not used: its
page starts Swagger UI with an inline script, which that policy refuses.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Response, abort, render_template, request, send_from_directory

from issuer.core.bundled import SCHEMAS_DIR
from issuer.web.blueprints import public as bp

OPENAPI_PATH = SCHEMAS_DIR / "openapi.yaml"
#: The JSON Schemas the description refers to (``$ref: "api/award.json"``), which a viewer
#: resolves against the description's own address: they are served beside it, under /api/.
PARTS_DIR = SCHEMAS_DIR / "api"
#: JSON Schema 2020-12 (draft-bhutton-json-schema-01 §14) names this media type.
SCHEMA_TYPE = "application/schema+json"
#: RFC 9512 §2.1 registers ``application/yaml``; OpenAPI 3.1 §4.2 allows YAML 1.2 documents.
YAML_TYPE = "application/yaml"
#: The description changes with a release only; a few minutes keeps an upgrade visible soon.
DOCS_CACHE = "public, max-age=300"
#: The files of the Swagger UI distribution the page uses, and nothing else of the folder.
VIEWER_DIR = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
VIEWER_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})


@bp.get("/openapi.yaml", endpoint="openapi_document")
def openapi_document() -> Response:
    """The OpenAPI description of every interface for programs, as the product ships it."""
    return _document(OPENAPI_PATH.read_bytes(), YAML_TYPE)


def _document(data: bytes, media_type: str) -> Response:
    response = Response(data, mimetype=media_type)
    # Tools on other sites (editors, client generators) may read it: it is public.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = DOCS_CACHE
    response.add_etag()
    return response.make_conditional(request)


def _parts() -> frozenset[str]:
    return frozenset(path.name for path in PARTS_DIR.glob("*.json"))


@bp.get("/api/<name>.json", endpoint="openapi_part")
def openapi_part(name: str) -> Response:
    """A JSON Schema of the description, at the address its ``$ref`` resolves to."""
    filename = f"{name}.json"
    if filename not in _parts():  # only the shipped files, never a path built from input
        abort(404)
    return _document((PARTS_DIR / filename).read_bytes(), SCHEMA_TYPE)


@bp.get("/api/docs", endpoint="api_docs")
def api_docs() -> str:
    """Swagger UI over ``/openapi.yaml``: read the operations, try them with a token."""
    return render_template("docs/api.html")


@bp.get("/api/docs/assets/<name>", endpoint="api_docs_asset")
def api_docs_asset(name: str) -> Response:
    if name not in VIEWER_FILES:
        abort(404)
    return send_from_directory(VIEWER_DIR, name, max_age=86400)
