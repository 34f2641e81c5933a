"""The API documentation the product serves: the OpenAPI file and Swagger UI, from this site
only (no CDN), under the site's Content-Security-Policy."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import yaml
from flask.testing import FlaskClient

from tests.web.api.test_openapi import SPEC_PATH


def test_the_description_is_served_as_shipped(client: FlaskClient) -> None:
    answer = client.get("/openapi.yaml")
    assert answer.status_code == 200 and answer.mimetype == "application/yaml"
    assert answer.data == SPEC_PATH.read_bytes()
    assert yaml.safe_load(answer.data)["openapi"].startswith("3.1.")
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    again = client.get("/openapi.yaml", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_every_file_the_description_refers_to_is_where_its_reference_resolves(
        client: FlaskClient) -> None:
    references = set(re.findall(r'\$ref: "([^#"][^"#]*)', SPEC_PATH.read_text()))
    assert references, "the description refers to files of its own"
    for reference in references:
        answer = client.get(urljoin("/openapi.yaml", reference))
        assert answer.status_code == 200, reference
        assert answer.mimetype == "application/schema+json"
        assert answer.data == (SPEC_PATH.parent / reference).read_bytes()
    for name in ("nothing", "..%2Fopenapi", "%2E%2E"):
        assert client.get(f"/api/{name}.json").status_code == 404, name


def test_the_docs_page_loads_only_this_sites_files(client: FlaskClient) -> None:
    answer = client.get("/api/docs", headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert 'data-url="/openapi.yaml"' in html
    addresses = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert not [a for a in addresses if "//" in a], "everything comes from this site"
    assert "<script>" not in html  # no inline script: the CSP would refuse it
    for asset in [a for a in addresses if a.endswith((".js", ".css"))]:
        with client.get(asset) as response:
            assert response.status_code == 200, asset
            assert len(response.data) > 100, asset
    with client.get("/api/docs/assets/swagger-ui-bundle.js") as bundle:
        assert bundle.mimetype in ("text/javascript", "application/javascript")
        assert b"SwaggerUIBundle" in bundle.data


def test_only_the_viewers_own_files_are_served(client: FlaskClient) -> None:
    for name in ("LICENSE", "index.css", "oauth2-redirect.html", "..%2F__init__.py",
                 "swagger-ui.js"):
        assert client.get(f"/api/docs/assets/{name}").status_code == 404, name
