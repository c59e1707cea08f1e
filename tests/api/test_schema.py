"""OpenAPI schema, Swagger UI and ReDoc, with local assets and working security schemes."""

from __future__ import annotations

import re

import pytest
import yaml


def test_schema_declares_jwt_and_api_key_security(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    schemes = schema["components"]["securitySchemes"]
    assert schemes["jwtAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["apiKeyHeader"]["in"] == "header" and schemes["apiKeyHeader"]["name"] == "X-API-Key"
    assert schemes["apiKeyQuery"]["in"] == "query" and schemes["apiKeyQuery"]["name"] == "api_key"
    assert schemes["cookieAuth"]["in"] == "cookie"
    me = schema["paths"]["/api/v1/users/me"]["get"]
    assert {"jwtAuth": []} in me["security"] and {"apiKeyHeader": []} in me["security"]
    assert "/api/v1/auth/login" in schema["paths"]
    assert "/api/auth/callback/credentials" in schema["paths"]


@pytest.mark.parametrize("url", ["/swagger/", "/swagger/index.html", "/redoc/"])
def test_docs_pages_load_with_local_assets(client, db, settings, url):
    # Production serves collectstatic's output through whitenoise; tests find the same files
    # in the installed apps instead (read when the client builds its middleware).
    settings.WHITENOISE_USE_FINDERS = True
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    # Swagger UI's start-up script is a file of its own (the CSP runs no inline script): the
    # schema's address is in there.
    for script in re.findall(r'<script src="([^"]*[?&;]script=[^"]*)"', page):
        page += client.get(script.replace("&amp;", "&")).content.decode()
    assert "/api/schema/" in page
    assert "drf_spectacular_sidecar" in page
    assert not re.search(r"""(src|href)=["']https?://""", page)
    for asset in re.findall(r"""["'](/static/drf_spectacular_sidecar/[^"']+)["']""", page):
        asset_response = client.get(asset)
        assert asset_response.status_code == 200, asset
