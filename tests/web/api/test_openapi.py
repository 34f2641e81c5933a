"""schemas/openapi.yaml: a well-formed OpenAPI 3.1 description that matches the app.

Every route of the app is described with its methods unless it is listed as a page for
people only (HTML_ONLY, each with its reason), every described path exists, every reference
resolves, and real responses have the status, media type and schema the description gives.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from issuer.core.bundled import SCHEMAS_DIR
from issuer.services.context import ServiceContext
from issuer.storage.learning import EvidenceRecord
from issuer.storage.models import ApiToken, Issuer
from tests import learning_fixtures
from tests.conftest import BASE_URL, World

SPEC_PATH = SCHEMAS_DIR / "openapi.yaml"
API_DIR = SCHEMAS_DIR / "api"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
HTTP_STATUS = re.compile(r"^([1-5][0-9][0-9]|[1-5]XX|default)$")

#: The shape OpenAPI 3.1 §4.8 requires of the parts this description uses.
STRUCTURE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.1\.\d+$"},
        "info": {"type": "object", "required": ["title", "version"],
                 "properties": {"title": {"type": "string"}, "version": {"type": "string"},
                                "license": {"type": "object", "required": ["name"]}}},
        "servers": {"type": "array", "items": {"type": "object", "required": ["url"]}},
        "security": {"$ref": "#/$defs/security"},
        "tags": {"type": "array", "items": {"type": "object", "required": ["name"]}},
        "paths": {"type": "object", "propertyNames": {"pattern": "^/"},
                  "additionalProperties": {"$ref": "#/$defs/pathItem"}},
        "components": {"type": "object", "properties": {
            "schemas": {"type": "object"},
            "responses": {"type": "object", "additionalProperties": {"$ref": "#/$defs/response"}},
            "parameters": {"type": "object",
                           "additionalProperties": {"$ref": "#/$defs/parameter"}},
            "securitySchemes": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["type"],
                "properties": {"type": {"enum": ["apiKey", "http", "mutualTLS", "oauth2",
                                                 "openIdConnect"]}}}},
        }},
    },
    "additionalProperties": False,
    "$defs": {
        "security": {"type": "array", "items": {
            "type": "object", "additionalProperties": {"type": "array"}}},
        "ref": {"type": "object", "required": ["$ref"]},
        "parameter": {"oneOf": [
            {"$ref": "#/$defs/ref"},
            {"type": "object", "required": ["name", "in"],
             "properties": {"in": {"enum": ["query", "header", "path", "cookie"]},
                            "schema": {"type": "object"}},
             "if": {"properties": {"in": {"const": "path"}}},
             "then": {"required": ["required"], "properties": {"required": {"const": True}}}},
        ]},
        "mediaTypes": {"type": "object",
                       "propertyNames": {"pattern": r"^[a-z]+/[a-z0-9.+-]+$"},
                       "additionalProperties": {"type": "object", "required": ["schema"]}},
        "response": {"oneOf": [
            {"$ref": "#/$defs/ref"},
            {"type": "object", "required": ["description"],
             "properties": {"content": {"$ref": "#/$defs/mediaTypes"},
                            "headers": {"type": "object"}}},
        ]},
        "operation": {
            "type": "object", "required": ["responses", "operationId", "summary"],
            "properties": {
                "operationId": {"type": "string"},
                "parameters": {"type": "array", "items": {"$ref": "#/$defs/parameter"}},
                "requestBody": {"type": "object", "required": ["content"],
                                "properties": {"content": {"$ref": "#/$defs/mediaTypes"}}},
                "responses": {"type": "object", "minProperties": 1,
                              "propertyNames": {"pattern": HTTP_STATUS.pattern},
                              "additionalProperties": {"$ref": "#/$defs/response"}},
                "security": {"$ref": "#/$defs/security"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
        },
        "pathItem": {
            "type": "object",
            "properties": {
                "parameters": {"type": "array", "items": {"$ref": "#/$defs/parameter"}},
                **{m: {"$ref": "#/$defs/operation"} for m in METHODS},
            },
            "additionalProperties": False,
        },
    },
}


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=1)
def registry() -> Registry[Any]:
    """The description and the request schemas, addressed as they refer to each other."""
    resources = [("openapi.yaml", Resource.from_contents(
        spec(), default_specification=DRAFT202012))]
    for path in API_DIR.glob("*.json"):
        resources.append((f"api/{path.name}", Resource.from_contents(
            json.loads(path.read_text(encoding="utf-8")),
            default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


def validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"openapi.yaml#{pointer}"}, registry=registry())


def flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec()["paths"].items()
            for method, op in item.items() if method in METHODS]


def deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = spec()
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


# --- the description itself ----------------------------------------------------------------


def test_the_description_has_the_openapi_31_structure() -> None:
    Draft202012Validator.check_schema(STRUCTURE)
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in Draft202012Validator(STRUCTURE).iter_errors(spec())]
    assert errors == []


def test_every_schema_is_a_valid_json_schema_2020_12() -> None:
    for schema in spec()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for path in API_DIR.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path
        Draft202012Validator.check_schema(schema)


def _refs(node: Any, base: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append((base, node["$ref"]))
        for value in node.values():
            found += _refs(value, base)
    elif isinstance(node, list):
        for value in node:
            found += _refs(value, base)
    return found


def test_every_reference_resolves() -> None:
    refs = _refs(spec(), "openapi.yaml")
    for path in API_DIR.glob("*.json"):
        refs += _refs(json.loads(path.read_text(encoding="utf-8")), f"api/{path.name}")
    assert len(refs) > 50
    for base, ref in refs:
        resolver = registry().resolver(base_uri=base)
        resolver.lookup(ref)  # raises if the file or the JSON pointer is missing
        if not ref.startswith("#") and base == "openapi.yaml":
            assert (SPEC_PATH.parent / ref.split("#", 1)[0]).is_file(), ref


def test_operation_ids_are_unique_and_path_parameters_declared() -> None:
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids))
    for path, item in spec()["paths"].items():
        declared = {deref(p)["name"] for p in item.get("parameters", [])
                    if deref(p)["in"] == "path"}
        for method, op in item.items():
            if method not in METHODS:
                continue
            names = declared | {deref(p)["name"] for p in op.get("parameters", [])
                                if deref(p)["in"] == "path"}
            assert names == set(re.findall(r"{([^}]+)}", path)), (path, method)


#: Who may call what: a token for the JSON API and VC API issue, the session cookie of the
#: sign-in pages for a signed-in person's own files, nobody in particular for the rest.
TOKEN_PREFIXES = ("/api/", "/credentials/issue")
SESSION_PREFIXES = ("/learn/", "/admin/")
SESSION_SCHEMES = {"staffSession", "learnerSession"}


@dataclass(frozen=True)
class OwnErrorForm:
    """A protocol whose specification names its own error body: its errors are documented
    with that body (one of ``responses``, shared responses of components/responses), not
    with problem details, and its operations use only its own security ``schemes``."""

    why: str
    responses: frozenset[str]
    schemes: frozenset[str] = frozenset()


#: Path prefixes answering errors in their protocol's own form; the longest prefix that
#: matches a path decides (the app's side: issuer.web.errors.OAUTH_PREFIXES, and
#: issuer.web.ob_api.status_info for /ims/ob/v3p0; tests/web/test_errors.py checks routing
#: errors there).
OWN_ERROR_FORMS: dict[str, OwnErrorForm] = {
    "/oid4vci/": OwnErrorForm(
        "OpenID4VCI 1.0 §6.3 and §8.3.1.2 (RFC 6749 §5.2 error responses)",
        frozenset({"OAuthError"}), frozenset({"oid4vciAccessToken"})),
    "/.well-known/openid-credential-issuer": OwnErrorForm(
        "OpenID4VCI 1.0 §12.2: the wallet meets the flow's one error form",
        frozenset({"OAuthError"})),
    "/.well-known/oauth-authorization-server": OwnErrorForm(
        "RFC 8414 metadata of the OpenID4VCI token endpoint", frozenset({"OAuthError"})),
    "/ims/ob/v3p0/": OwnErrorForm(
        "Open Badges 3.0 §6.2 and §B.3: Imsx_StatusInfo bodies",
        frozenset({"ObStatusInfo"}), frozenset({"obOAuth2"})),
    "/ims/ob/v3p0/oauth/": OwnErrorForm(
        "RFC 6749 §5.2 and RFC 7591 §3.2.2 errors (OB 3.0 §7); the consent page answers "
        "the learner with a page",
        frozenset({"ObOAuthError", "ObPage"}), frozenset({"obClientBasic", "learnerSession"})),
}


def own_error_form(path: str) -> OwnErrorForm | None:
    matches = [prefix for prefix in OWN_ERROR_FORMS if path.startswith(prefix)]
    return OWN_ERROR_FORMS[max(matches, key=len)] if matches else None


def test_protocol_errors_are_documented_in_their_own_form() -> None:
    assert all(form.why.strip() for form in OWN_ERROR_FORMS.values())
    responses = spec()["components"]["responses"]
    schemes = spec()["components"]["securitySchemes"]
    checked = 0
    for path, method, op in operations():
        form = own_error_form(path)
        if form is None:
            continue
        checked += 1
        used = {name for requirement in op.get("security", spec()["security"])
                for name in requirement}
        assert used <= form.schemes, (path, method, used)
        if any(schemes[name]["type"] in ("http", "oauth2") for name in used):
            assert "401" in op["responses"], (path, method)
        if used & SESSION_SCHEMES:
            assert "302" in op["responses"], (path, method)
        if "requestBody" in op:
            assert "400" in op["responses"] and "413" in op["responses"], (path, method)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                ref = response.get("$ref", "")
                assert ref.removeprefix("#/components/responses/") in form.responses, (
                    path, method, status, ref)
    for name in set().union(*(form.responses for form in OWN_ERROR_FORMS.values())):
        assert deref(responses[name]).get("content"), name
        assert "application/problem+json" not in responses[name]["content"], name
    for name in set().union(*(form.schemes for form in OWN_ERROR_FORMS.values())):
        assert name in schemes, name
    assert checked >= 6


def test_errors_are_documented_as_problem_details() -> None:
    security = spec()["security"]
    assert security == [{"bearerAuth": []}]
    schemes = spec()["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    for name in SESSION_SCHEMES:
        assert schemes[name] == {**schemes[name], "type": "apiKey", "in": "cookie",
                                 "name": "issuer_session"}
    for path, method, op in operations():
        if own_error_form(path) is not None:
            continue  # test_protocol_errors_are_documented_in_their_own_form
        responses = op["responses"]
        used = {name for requirement in op.get("security", security) for name in requirement}
        if "bearerAuth" in used:
            assert "401" in responses, (path, method)
        if used & SESSION_SCHEMES:
            # The sign-in pages' cookie: a browser without it is sent to sign in.
            assert "302" in responses and "content" not in deref(responses["302"]), path
        if "requestBody" in op:
            for status in ("413", "415", "422"):
                assert status in responses, (path, method, status)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                content = deref(response).get("content", {})
                assert "application/problem+json" in content, (path, method, status)
        if path.startswith(TOKEN_PREFIXES):
            assert used == {"bearerAuth"}, (path, method)
        elif path.startswith(SESSION_PREFIXES):
            assert used and used <= SESSION_SCHEMES, (path, method)
        else:
            assert used == set(), (path, method)  # public


# --- the description and the app -----------------------------------------------------------

#: Routes that answer people only, never a document for a program: an HTML page, a form that
#: redirects back to a page, or a redirect. Each says why. Every route of the app that is not
#: listed here must be in schemas/openapi.yaml, so a new JSON (or image, CSV...) route cannot
#: be added without describing it; and a page listed here is checked to answer HTML even to a
#: client that asks for JSON (see test_pages_answer_html_even_when_json_is_asked_for). Errors
#: are not a reason to describe a route: every route answers problem details to JSON clients.
HTML_ONLY: dict[str, str] = {
    "/": "the start page",
    "/api/docs": "the interactive API documentation; the description is GET /openapi.yaml",
    "/verify": "the verify form for people; programs use POST /credentials/verify",
    "/credentials/{credential_id}/verify": "the page a scanned QR code opens: the live check "
                                           "for people; programs use POST /credentials/verify",
    "/dev/outbox": "development-only page listing queued mail",
    "/attest/{token}": "a peer's attestation form",
    "/frameworks/scaffolding": "the scaffolding framework peer attestations align to, for "
                               "people (each item an anchor of the page)",
    "/ims/ob/v3p0/terms": "terms and privacy page of the Open Badges API (the service "
                          "description document links to it)",
    "/learn/backpack": "learner page and form listing badges other applications stored",
    "/learn/backpack/send": "learner form sending a badge to a backpack elsewhere; its "
                            "answer is a page with the link to that backpack",
    "/learn/backpack/send/callback": "where a backpack sends the learner back; redirects",
    "/admin/": "staff dashboard",
    "/admin/login": "staff sign-in form; sets the session cookie and redirects",
    "/admin/logout": "staff sign-out form post; redirects",
    "/admin/sessions/end-all": "staff sign-out-everywhere form post; redirects",
    "/admin/issuers/{slug}": "staff page of one issuer",
    "/admin/issuers/{slug}/achievements/new": "staff form; the API has POST /api/v1/achievements",
    "/admin/issuers/{slug}/achievements/{a_slug}/edit": "staff form; the API has PATCH",
    "/admin/issuers/{slug}/achievements/{a_slug}/policy": "staff form: claim policy",
    "/admin/issuers/{slug}/achievements/{a_slug}/measures": "staff form: thresholds of "
        "measured help a claim must meet (also shown on the claim policy page)",
    "/admin/issuers/{slug}/suggestions": "staff upload form: a community's export measured "
                                         "against a badge's thresholds",
    "/admin/issuers/{slug}/suggestions/{upload_id}": "staff page of who meets the "
        "thresholds, and its form opening claims for review",
    "/admin/issuers/{slug}/learners/{learner_id}/measures": "staff page: one learner's "
                                                            "measured help",
    "/admin/issuers/{slug}/award": "staff form; the API has POST /api/v1/awards",
    "/admin/issuers/{slug}/bulk": "staff upload form; the API has POST /api/v1/bulk",
    "/admin/issuers/{slug}/bulk/{job_id}": "staff page following a bulk job",
    "/admin/issuers/{slug}/bulk/{job_id}/cancel": "staff form post; redirects",
    "/admin/issuers/{slug}/bulk/{job_id}/confirm": "staff form post; redirects",
    "/admin/issuers/{slug}/credentials": "staff list page; the API has GET /api/v1/credentials",
    "/admin/issuers/{slug}/credentials/{cid}": "staff page of one credential",
    "/admin/issuers/{slug}/credentials/{cid}/status": "staff form post; the API has revoke, "
                                                      "suspend and reinstate",
    "/admin/issuers/{slug}/credentials/revoke": "staff form post (revoke the selected ones)",
    "/admin/issuers/{slug}/revoke-file": "staff upload form: revoke the credentials of a file",
    "/admin/issuers/{slug}/endorsements": "staff page and form",
    "/admin/issuers/{slug}/keys": "staff page listing the issuer's keys",
    "/admin/issuers/{slug}/keys/compromised": "staff form post; redirects",
    "/admin/issuers/{slug}/keys/rotate": "staff form post; redirects",
    "/admin/issuers/{slug}/reviews": "staff review queue page",
    "/admin/issuers/{slug}/reviews/{public_id}": "staff review page and decision form",
    "/admin/issuers/{slug}/tokens": "staff page and form making API tokens",
    "/admin/issuers/{slug}/tokens/{token_id}/revoke": "staff form post; redirects",
    "/learn/": "learner home page",
    "/learn/badges": "learner page and form choosing what the public profile shows",
    "/learn/sign-in": "learner sign-in form (sends the link by mail)",
    "/learn/sign-in/{token}": "confirmation page of an emailed link; its POST signs in",
    "/learn/sign-out": "learner sign-out form post; redirects",
    "/learn/transcript": "learner transcript page; its files are described",
    "/learn/claims/new": "learner form starting a claim",
    "/learn/claims/{public_id}": "learner claim page",
    "/learn/claims/{public_id}/evidence": "learner form post; redirects",
    "/learn/claims/{public_id}/evidence/{evidence_id}/delete": "learner form post; redirects",
    "/learn/claims/{public_id}/requests": "learner form post; redirects",
    "/learn/claims/{public_id}/requests/{request_id}": "learner page showing a new peer link",
    "/learn/claims/{public_id}/requests/{request_id}/resend": "learner form post; redirects",
    "/learn/claims/{public_id}/statement": "learner form post; redirects",
    "/learn/claims/{public_id}/submit": "learner form post; redirects",
    "/learn/claims/{public_id}/withdraw": "learner form post; redirects",
    "/learn/claims/{public_id}/traces": "learner page and upload form of a community "
                                        "archive; the upload redirects to what was found",
    "/learn/claims/{public_id}/traces/{import_id}": "learner page listing an archive's "
                                                    "posts to pick as evidence",
    "/learn/claims/{public_id}/traces/{import_id}/pick": "learner form post; redirects",
    "/learn/claims/{public_id}/evidence/{evidence_id}/capture": "learner form post; "
        "redirects (the capture's WARC file is described)",
    "/learn/wallet/{credential_id}": "learner's \"Add to wallet\" page; its form starts an "
                                     "exchange and shows its QR code and links (the wallet "
                                     "then calls /exchanges/, which is described)",
    "/learn/wallet/{credential_id}/openid4vci": "learner form post showing a credential offer "
                                                "as a QR code (the wallet then calls "
                                                "/oid4vci/, which is described)",
}
#: Routes that serve files but are not part of the interface.
NOT_DESCRIBED: dict[str, str] = {
    "/static/{filename}": "the pages' own style sheets, scripts and pictures",
    "/api/docs/assets/{name}": "Swagger UI's script and style sheet for the documentation page",
    "/api/{name}.json": "the JSON Schemas of schemas/api/ this description refers to, served "
                        "where its $ref resolves (beside GET /openapi.yaml)",
}


def _routes(app: Flask) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        routes.setdefault(flask_to_openapi(rule.rule), set()).update(methods)
    return routes


def _described() -> dict[str, set[str]]:
    return {path: {m for m in item if m in METHODS} for path, item in spec()["paths"].items()}


def test_every_route_is_described_or_listed_as_a_page(app: Flask) -> None:
    described = _described()
    routes = _routes(app)
    assert all(reason.strip() for reason in {**HTML_ONLY, **NOT_DESCRIBED}.values())
    stale = sorted((set(HTML_ONLY) | set(NOT_DESCRIBED)) - set(routes))
    assert stale == [], f"listed as pages but no longer routes: {stale}"
    both = sorted((set(HTML_ONLY) | set(NOT_DESCRIBED)) & set(described))
    assert both == [], f"described in schemas/openapi.yaml and listed as pages: {both}"
    missing = sorted(path for path in routes
                     if path not in HTML_ONLY and path not in NOT_DESCRIBED
                     and path not in described)
    assert missing == [], (
        f"{missing} are not in schemas/openapi.yaml; describe them, or list them in "
        f"HTML_ONLY with the reason if they only ever answer people with pages")
    for path, methods in routes.items():
        if path in described:
            assert methods == described[path], path
    # The machine interfaces named in the description's introduction are all there.
    for prefix in ("/api/", "/credentials/issue", "/credentials/verify", "/presentations/"):
        assert any(path.startswith(prefix) for path in described), prefix


def test_every_described_path_and_method_has_a_route(app: Flask) -> None:
    routes = _routes(app)
    for path, method, _ in operations():
        assert path in routes, f"{path} has no route"
        assert method in routes[path], f"{method.upper()} {path} has no route"


def test_pages_answer_html_even_when_json_is_asked_for(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    """A page listed in HTML_ONLY that started answering JSON would belong in the spec."""
    from tests.learning_fixtures import make_learner, sign_in_cookie
    from tests.web.admin.test_pages import award_to, signed_in_as

    credential = award_to(session, ctx, "guild", "ada@example.org", "Ada")
    learner = make_learner(session, ctx, "ada@example.org", "Ada")
    token_id = session.scalar(select(ApiToken.id).join(Issuer).where(Issuer.slug == "guild"))
    session.commit()
    browser = signed_in_as(app.test_client(), world.staff_email)
    sign_in_cookie(app, browser, learner.id)  # staff and learner at once: every page
    values = {"slug": "guild", "a_slug": "peer-scaffolder", "cid": credential.id,
              "credential_id": credential.id, "token_id": str(token_id), "job_id": "1",
              "token": "no-such-token", "public_id": "no-such-claim", "evidence_id": "1",
              "request_id": "1", "upload_id": "1", "learner_id": str(learner.id),
              "import_id": "1"}
    pages = 0
    for path, methods in _routes(app).items():
        if path not in HTML_ONLY or "get" not in methods:
            continue
        url = re.sub(r"{([^}]+)}", lambda m: values[m.group(1)], path)
        for accept in ("application/json", "application/ld+json", "*/*"):
            response = browser.get(url, headers={"Accept": accept})
            if 200 <= response.status_code < 300:
                assert response.mimetype == "text/html", (url, accept, response.mimetype)
                pages += accept == "application/json"
            else:
                assert response.status_code in (302, 303, 400, 403, 404, 410), (url, accept)
    assert pages >= 20, "too few pages answered: the test no longer reaches them"


# --- real responses match the described schemas --------------------------------------------


def _check(instance: Any, pointer: str) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in validator(pointer).iter_errors(instance)]
    assert errors == [], (pointer, instance)


def _response_schema(path: str, method: str, status: str, media: str) -> str:
    return (f"/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}/responses/"
            f"{status}/content/{media.replace('/', '~1')}/schema")


def test_responses_match_their_schemas(client: FlaskClient, world: World) -> None:
    headers = {"Authorization": f"Bearer {world.token}"}
    issuer = client.get("/api/v1/issuer", headers=headers)
    _check(issuer.get_json(), _response_schema("/api/v1/issuer", "get", "200",
                                               "application/json"))
    created = client.post("/api/v1/achievements", headers=headers, json={
        "name": "Host", "description": "Hosted a session.", "criteria": {"narrative": "x"}})
    _check(created.get_json(), "/components/schemas/Achievement")
    awarded = client.post("/api/v1/awards", headers=headers, json={
        "achievement": "host", "recipient": {"email": "a@example.org", "name": "A"},
        "validUntil": "2099-01-01T00:00:00Z"})
    assert awarded.status_code == 201
    _check(awarded.get_json(), "/components/schemas/AwardResult")
    listed = client.get("/api/v1/credentials", headers=headers)
    _check(listed.get_json(), "/components/schemas/CredentialList")
    vc = awarded.get_json()["credential"]
    verified = client.post("/credentials/verify", json={"verifiableCredential": vc})
    _check(verified.get_json(), "/components/schemas/VerificationResult")
    problem = client.post("/api/v1/awards", headers=headers, json={"achievement": 1})
    assert problem.status_code == 422
    _check(problem.get_json(), "/components/schemas/Problem")
    batch = client.post("/api/v1/awards/batch", headers=headers, json={"awards": [
        {"achievement": "host", "recipient": {"email": "c@example.org"}},
        {"achievement": "host", "recipient": {"did": "did:example:d"}}]})
    assert batch.status_code == 201
    _check(batch.get_json(), _response_schema("/api/v1/awards/batch", "post", "201",
                                              "application/json"))
    for refused in ({"awards": [{"achievement": "host"}]}, {"awards": [
            {"achievement": "none", "recipient": {"did": "did:example:e"}}]}):
        answer = client.post("/api/v1/awards/batch", headers=headers, json=refused)
        assert answer.status_code == 422
        _check(answer.get_json(), "/components/schemas/Problem")
    bulk = client.post("/api/v1/bulk?achievement=host", headers=headers,
                       data=b"recipient\nb@example.org\nnot-an-address\n",
                       content_type="text/csv")
    _check(bulk.get_json(), "/components/schemas/Problem")
    started = client.post("/api/v1/bulk?achievement=host&issue_valid_rows=true",
                          headers=headers, data=b"recipient\nb@example.org\nbad\n",
                          content_type="text/csv")
    assert started.status_code == 202
    _check(started.get_json(), "/components/schemas/BulkJobAccepted")
    import time

    deadline = time.monotonic() + 60
    while True:
        status = client.get(started.headers["Location"], headers=headers).get_json()
        if status["job"]["status"] == "done" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    _check(status, "/components/schemas/BulkJobStatus")


@pytest.mark.parametrize("name, body", [
    ("award", {"achievement": "x", "recipient": {"email": "a@example.org"}}),
    ("award-batch", {"awards": [{"achievement": "x", "recipient": {"email": "a@example.org"}}]}),
    ("vc-issue", {"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"],
                                 "type": ["VerifiableCredential"],
                                 "credentialSubject": {"id": "did:example:1"}}}),
    ("vc-verify-credential", {"verifiableCredential": "eyJhbGciOiJFZERTQSJ9.e30.c2ln"}),
    ("vc-verify-presentation", {"verifiablePresentation": {}, "options": {"challenge": "c"}}),
    ("achievement-update", {"criteria": {"id": "https://example.org/c"}}),
])
def test_documented_request_examples_are_valid(name: str, body: Any) -> None:
    schema = Path(API_DIR / f"{name}.json")
    assert schema.is_file()
    errors = list(Draft202012Validator({"$ref": f"api/{name}.json"}, registry=registry())
                  .iter_errors(body))
    assert errors == []


# --- the documents and files outside the token API answer as described ---------------------


def _finished_bulk_job(client: FlaskClient, token: dict[str, str]) -> int:
    """A bulk award through the API, once its runner has finished."""
    started = client.post("/api/v1/bulk?achievement=peer-scaffolder&issue_valid_rows=true",
                          headers=token, content_type="text/csv",
                          data=b"recipient,name\nbulk@example.org,Bulk\nnot-an-address,X\n")
    assert started.status_code == 202
    job_id = int(started.get_json()["job"]["id"])
    deadline = time.monotonic() + 60
    while client.get(f"/api/v1/bulk/{job_id}", headers=token).get_json()["job"]["status"] \
            not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return job_id

learner = learning_fixtures.learner
open_achievement = learning_fixtures.open_achievement


def _pointer(path: str, status: str, media: str) -> str:
    """Where the schema of one described answer is, through a shared response if need be."""
    response = spec()["paths"][path]["get"]["responses"][status]
    base = (response["$ref"][1:] if "$ref" in response else
            f"/paths/{path.replace('~', '~0').replace('/', '~1')}/get/responses/{status}")
    return f"{base}/content/{media.replace('/', '~1')}/schema"


#: Path prefixes whose GET answers another test module checks against the protocol's own
#: published description, with that module named.
CHECKED_BY_THEIR_OWN_TESTS: dict[str, str] = {
    "/ims/ob/v3p0/": "tests/web/ob_api/ (every answer checked against the 1EdTech OB 3.0 "
                     "OpenAPI document) and tests/browser/test_ob_api_*.py",
}


class Described:
    """Checks real answers against the description, and remembers which paths it saw."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, path: str, response: TestResponse, status: int = 200) -> TestResponse:
        assert response.status_code == status, (path, response.status_code,
                                                response.get_data(as_text=True)[:300])
        responses = spec()["paths"][path]["get"]["responses"]
        assert str(status) in responses, f"{path} answers {status}, which is not described"
        content = deref(responses[str(status)]).get("content", {})
        if status == 304:
            assert response.data == b""
        elif content:
            assert response.mimetype in content, (path, status, response.mimetype)
            if response.mimetype.endswith(("json", "+json")):
                _check(response.get_json(force=True),
                       _pointer(path, str(status), response.mimetype))
        self.seen.add(path)
        return response


def test_documents_and_files_answer_as_described(
        app: Flask, client: FlaskClient, session: Session, ctx: ServiceContext, world: World,
        learner: learning_fixtures.LearnerClient,
        open_achievement: learning_fixtures.OpenAchievement) -> None:
    from tests.web.admin.test_access import png
    from tests.web.admin.test_pages import signed_in_as
    from tests.web.learner.test_claims import PDF, _file, add, start

    check = Described()
    token = {"Authorization": f"Bearer {world.token}"}
    json_accept = {"Accept": "application/json"}
    uploaded = client.put("/api/v1/achievements/peer-scaffolder/image", headers=token,
                          data=png(), content_type="image/png")
    assert uploaded.status_code == 200
    awarded = client.post("/api/v1/awards", headers=token, json={
        "achievement": "peer-scaffolder",
        "recipient": {"email": learning_fixtures.LEARNER_EMAIL, "name": "Ada"}})
    assert awarded.status_code == 201
    cid = awarded.get_json()["id"]
    document = awarded.get_json()["credential"]
    missing = "00000000-0000-4000-8000-000000000000"

    # Public documents, negotiated: JSON for programs, a page for people.
    for path, url in [("/issuers/{slug}", "/issuers/guild"),
                      ("/issuers/{slug}/achievements/{achievement_slug}",
                       "/issuers/guild/achievements/peer-scaffolder"),
                      ("/credentials/{credential_id}", f"/credentials/{cid}")]:
        check(path, client.get(url, headers=json_accept))
        check(path, client.get(url, query_string={"format": "json"}))
        assert check(path, client.get(url)).mimetype == "text/html"
        gone = url.replace("guild", "nobody").replace(cid, missing)
        assert check(path, client.get(gone, headers=json_accept), 404).mimetype == \
            "application/problem+json"
        assert check(path, client.get(gone), 404).mimetype == "text/html"
    for media in ("application/vc+ld+json", "application/vc", "application/ld+json"):
        answer = check("/credentials/{credential_id}",
                       client.get(f"/credentials/{cid}", headers={"Accept": media}))
        assert answer.mimetype == media
    achievement = client.get("/issuers/guild/achievements/peer-scaffolder?format=json")
    image_url = achievement.get_json()["image"]["id"]
    assert image_url.startswith(f"{BASE_URL}/images/")
    check("/issuers/{slug}/did.json", client.get("/issuers/guild/did.json"))
    check("/issuers/{slug}/did.json", client.get("/issuers/nobody/did.json"), 404)
    status_urls = {entry["statusListCredential"] for entry in document["credentialStatus"]}
    assert status_urls
    for url in status_urls:
        listed = check("/issuers/{slug}/status/{purpose}/{number}",
                       client.get(url.removeprefix(BASE_URL)))
        check("/issuers/{slug}/status/{purpose}/{number}",
              client.get(url.removeprefix(BASE_URL),
                         headers={"If-None-Match": listed.headers["ETag"]}), 304)

    # A credential's files, and the achievement's image.
    for path, media in [("/images/{image_id}", "image/png"),
                        ("/credentials/{credential_id}/download", "application/vc+ld+json"),
                        ("/credentials/{credential_id}/badge.{fmt}", "image/png"),
                        ("/credentials/{credential_id}/badge.{fmt}", "image/svg+xml"),
                        ("/credentials/{credential_id}/og.png", "image/png"),
                        ("/credentials/{credential_id}/qr.png", "image/png"),
                        ("/credentials/{credential_id}/qr.svg", "image/svg+xml")]:
        fmt = "svg" if media == "image/svg+xml" else "png"
        url = (image_url.removeprefix(BASE_URL) if path == "/images/{image_id}" else
               path.format(credential_id=cid, fmt=fmt))
        answer = check(path, client.get(url))
        assert answer.mimetype == media, url
        if "ETag" in answer.headers:
            check(path, client.get(url, headers={"If-None-Match": answer.headers["ETag"]}),
                  304)
        gone = url.replace(cid, missing) if cid in url else "/images/999999"
        check(path, client.get(gone, headers=json_accept), 404)
    download = client.get(f"/credentials/{cid}/download")
    assert download.get_data(as_text=True) == client.get(
        f"/credentials/{cid}?format=json").get_data(as_text=True)

    # A learner's public profile and own files.
    learner.get("/learn/badges")  # links the badge awarded to the learner's address
    badge = re.search(r'name="badge" value="(\d+)"',
                      learner.get("/learn/badges").get_data(as_text=True))
    assert badge is not None
    assert learning_fixtures.post_form(learner, "/learn/badges", {
        "action": "show", "badge": badge.group(1)}, token_from="/learn/badges").status_code == 303
    profile = check("/people/{handle}", client.get(f"/people/{learner.handle}",
                                                   headers=json_accept))
    assert [b["credential"] for b in profile.get_json()["badges"]] == [document["id"]]
    assert check("/people/{handle}", client.get(f"/people/{learner.handle}")).mimetype == \
        "text/html"
    check("/people/{handle}", client.get("/people/nobody", headers=json_accept), 404)
    for path in ("/learn/transcript.json", "/learn/transcript.csv",
                 "/learn/transcript/chart.svg"):
        check(path, learner.get(path))
        check(path, learner.get(path, query_string={"from": "2024-13-01"}), 422)
        signed_out = check(path, app.test_client().get(path), 302)
        assert urlsplit(signed_out.headers["Location"]).path == "/learn/sign-in"
    clr = learner.get("/learn/transcript.json").get_json()
    assert clr["credentialSubject"]["verifiableCredential"][0]["id"] == document["id"]

    public_id = start(learner, open_achievement)
    assert add(learner, public_id, title="Report", file=_file(PDF, "report.pdf")).status_code \
        == 302
    evidence = session.scalar(select(EvidenceRecord.id))
    file_url = f"/learn/claims/{public_id}/evidence/{evidence}/file"
    evidence_path = "/learn/claims/{public_id}/evidence/{evidence_id}/file"
    assert check(evidence_path, learner.get(file_url)).data == PDF
    check(evidence_path, app.test_client().get(file_url), 302)
    peer_row = learning_fixtures.make_learner(session, ctx, "peer@guild.test")
    session.commit()  # signing in reads the learner in a session of its own
    peer = learning_fixtures.signed_in_client(app, peer_row)
    check(evidence_path, peer.get(file_url, headers=json_accept), 404)

    # A page the claim cites, captured as a WARC file through the guarded fetcher's rules
    # (this app runs offline, so the capture is taken with a fetcher allowed one local page).
    from issuer.net.fetcher import fetcher_for
    from issuer.services.captures import capture_evidence
    from tests.net.servers import Reply, serving
    from tests.web.learner.test_claims import claim_row

    with serving(None) as page_server:
        page_server.routes["/q/1"] = Reply(b"<!doctype html><p>Shorten the proof.</p>",
                                           headers={"Content-Type": "text/html"})
        page_url = f"http://127.0.0.1:{page_server.port}/q/1"
        assert add(learner, public_id, title="My answer", url=page_url).status_code == 302
        cited = session.scalar(select(EvidenceRecord.id).where(EvidenceRecord.url == page_url))
        assert cited is not None
        online = fetcher_for(replace(ctx.settings, verify_offline=False,
                                     verify_allow_hosts=(f"127.0.0.1:{page_server.port}",)))
        claim = claim_row(session, public_id)
        captured = capture_evidence(session, ctx, claim.learner, claim, cited, fetcher=online)
        session.commit()
    capture_path = "/learn/claims/{public_id}/captures/{capture_id}.warc.gz"
    capture_url = f"/learn/claims/{public_id}/captures/{captured.id}.warc.gz"
    warc = check(capture_path, learner.get(capture_url))
    assert hashlib.sha256(warc.data).hexdigest() == captured.warc_sha256
    check(capture_path, learner.get(capture_url, headers={"If-None-Match": warc.headers["ETag"]}),
          304)
    signed_out = check(capture_path, app.test_client().get(capture_url), 302)
    assert urlsplit(signed_out.headers["Location"]).path == "/learn/sign-in"
    check(capture_path, peer.get(capture_url, headers=json_accept), 404)
    check(capture_path, peer.get(capture_url), 404)

    # The staff bulk page's example file.
    example = "/admin/issuers/{slug}/bulk/example.csv"
    staff = signed_in_as(app.test_client(), world.staff_email)
    assert check(example, staff.get("/admin/issuers/guild/bulk/example.csv")).data.startswith(
        b"recipient,")
    check(example, signed_in_as(app.test_client(), world.other_staff_email).get(
        "/admin/issuers/guild/bulk/example.csv", headers=json_accept), 403)
    signed_out = check(example, app.test_client().get("/admin/issuers/guild/bulk/example.csv"),
                       302)
    assert urlsplit(signed_out.headers["Location"]).path == "/admin/login"

    # The description itself, and the results of a bulk award for the issuer's staff.
    description = check("/openapi.yaml", client.get("/openapi.yaml"))
    assert description.data == SPEC_PATH.read_bytes()
    check("/openapi.yaml", client.get("/openapi.yaml",
                                      headers={"If-None-Match": description.headers["ETag"]}),
          304)
    results = "/admin/issuers/{slug}/bulk/{job_id}/results.csv"
    job_id = _finished_bulk_job(client, token)
    assert check(results, staff.get(f"/admin/issuers/guild/bulk/{job_id}/results.csv")) \
        .data.startswith(b"row,recipient,")
    check(results, signed_in_as(app.test_client(), world.other_staff_email).get(
        f"/admin/issuers/guild/bulk/{job_id}/results.csv", headers=json_accept), 403)
    check(results, staff.get("/admin/issuers/guild/bulk/2147483647/results.csv",
                             headers=json_accept), 404)
    check(results, app.test_client().get(f"/admin/issuers/guild/bulk/{job_id}/results.csv"),
          302)

    # What wallets read: an exchange's interaction URL, the OpenID4VCI metadata and offers.
    from issuer.services.exchanges import start_exchange
    from issuer.services.oid4vci import create_offer
    from issuer.storage.models import Credential
    from issuer.storage.wallets import WalletExchange

    awarded_row = session.get_one(Credential, cid)
    exchange = start_exchange(session, ctx, awarded_row, started_by="test")
    stale = start_exchange(session, ctx, awarded_row, started_by="test")
    session.execute(update(WalletExchange)
                    .where(WalletExchange.challenge == stale.challenge)
                    .values(expires_at=ctx.now() - timedelta(seconds=1)))
    offer = create_offer(session, ctx, awarded_row, tx_code="123456")
    session.commit()
    interaction = "/exchanges/{exchange_id}"
    assert check(interaction, client.get(f"/exchanges/{exchange.exchange_id}?iuv=1")
                 ).get_json() == {"protocols": {"vcapi": exchange.exchange_url}}
    check(interaction, client.get(f"/exchanges/{exchange.exchange_id}"), 405)
    check(interaction, client.get("/exchanges/no-such-exchange?iuv=1"), 404)
    check(interaction, client.get(f"/exchanges/{stale.exchange_id}?iuv=1"), 410)
    issuer_metadata = check("/.well-known/openid-credential-issuer",
                            client.get("/.well-known/openid-credential-issuer"))
    check("/.well-known/oauth-authorization-server",
          client.get("/.well-known/oauth-authorization-server"))
    offered = check("/oid4vci/offers/{offer_id}",
                    client.get(offer.offer_uri.removeprefix(BASE_URL)))
    assert offered.get_json()["credential_issuer"] == \
        issuer_metadata.get_json()["credential_issuer"]
    for accept in ({"Accept": "text/html"}, json_accept):
        check("/oid4vci/offers/{offer_id}", client.get("/oid4vci/offers/no-such-offer",
                                                       headers=accept), 404)

    # What operators' tools read (the 503 of /readyz: tests/web/ops, on an empty database).
    assert check("/healthz", client.get("/healthz")).get_json() == {"status": "ok"}
    assert check("/readyz", client.get("/readyz")).get_json()["status"] == "ready"
    assert check("/metrics", client.get("/metrics")).mimetype == "text/plain"
    assert check("/metrics", client.get("/metrics", headers=json_accept,
                                        environ_base={"REMOTE_ADDR": "192.0.2.1"}),
                 403).mimetype == "application/problem+json"

    # Every described path outside the token API was fetched above, except those whose
    # own tests check every answer against a published description of their protocol.
    untested = {path for path in spec()["paths"] if not path.startswith(TOKEN_PREFIXES)
                and not path.startswith(tuple(CHECKED_BY_THEIR_OWN_TESTS))
                and "get" in spec()["paths"][path]} - check.seen
    assert untested == set(), f"add a real request for {sorted(untested)}"
