"""Security headers on every response; student pages never kept by an HTTP cache; the API
documentation only for logged-in staff and without third-party assets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.testing import TestClient

from tests.test_sessions import https_app

TEMPLATES = Path(__file__).parent.parent / "web" / "templates"


def csp_directives(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()
    }


@pytest.mark.parametrize("path", ["/login", "/healthz", "/sw.js", "/no-such-page"])
def test_every_response_has_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    csp = csp_directives(response)
    assert csp["frame-ancestors"] == "'none'"
    # no inline script, no eval, no other site (WebAssembly for the QR decoder only)
    assert csp["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert csp["style-src"] == "'self'"
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]


def test_a_refused_form_and_a_login_redirect_have_them_too(client):
    refused = client.post("/login", data={"username": "x"})  # no CSRF token
    assert refused.status_code == 403
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]
    redirect = client.get("/records", follow_redirects=False)
    assert redirect.headers["x-content-type-options"] == "nosniff"


def test_no_template_has_inline_script_or_handlers():
    for template in TEMPLATES.glob("*.html"):
        html = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"{template.name}: inline <script>"
        assert not re.search(r"\son[a-z]+\s*=", html), f"{template.name}: inline handler"
        assert "javascript:" not in html and "hx-on" not in html, template.name
        assert "style=" not in html, f"{template.name}: inline style"


@pytest.mark.parametrize("path", ["/", "/records", "/log", "/duty", "/attendance", "/sync/pull"])
def test_pages_with_student_data_are_never_stored_by_a_cache(login, path):
    response = login("counselor1").get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_static_files_and_the_service_worker_keep_their_own_caching(client):
    assert "no-store" not in client.get("/static/app.css").headers.get("cache-control", "")
    assert client.get("/sw.js").headers["cache-control"] == "no-cache"


def test_no_hsts_on_plain_http(client):
    assert "strict-transport-security" not in client.get("/login").headers


def test_hsts_when_the_base_url_is_https(settings):
    with TestClient(https_app(settings), base_url="https://xg.college.example") as client:
        hsts = client.get("/login").headers["strict-transport-security"]
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 180 * 24 * 3600


def test_the_api_schema_needs_a_login(client):
    response = client.get("/schema/openapi.json", follow_redirects=False)
    assert response.status_code in (302, 303, 307, 401)
    assert "paths" not in response.text


def test_logged_in_staff_read_the_json_schema(login):
    response = login("teacher1").get("/schema/openapi.json")
    assert response.status_code == 200
    assert "/sync/push" in response.json()["paths"]


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger", "/schema/redoc", "/schema/rapidoc"])
def test_the_api_documentation_loads_nothing_from_other_sites(login, path):
    response = login("teacher1").get(path)
    assert "cdn." not in response.text and "unpkg" not in response.text
    assert "<script" not in response.text


def test_pages_are_sent_gzip_compressed(login):
    # a phone on a weak signal gets a page in a fraction of its bytes (issue 16: text responses
    # are compressed); httpx decodes the body, the header says what travelled
    counselor = login("counselor1")
    page = counselor.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    script = counselor.get("/static/app.js", headers={"Accept-Encoding": "gzip"})
    assert script.headers["content-encoding"] == "gzip"


def test_favicon_is_an_icon_not_a_404(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/png"
    assert icon.content.startswith(b"\x89PNG")


def test_static_files_under_their_hash_are_cached_for_a_year(login):
    counselor = login("counselor1")
    page = counselor.get("/").text
    versioned = re.search(r'src="(/static/app\.js\?v=[0-9a-f]{12})"', page)
    assert versioned, "base.html asks for app.js under its content hash"
    script = counselor.get(versioned.group(1))
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    # without the hash (the worker's shell, ES module imports) it is revalidated each time
    plain = counselor.get("/static/app.js")
    assert plain.headers["cache-control"] == "no-cache"
    assert plain.headers.get("etag")


def test_a_changed_static_file_gets_a_new_address(tmp_path, monkeypatch):
    from server import app as app_module

    (tmp_path / "x.css").write_text("a{}")
    monkeypatch.setattr(app_module, "STATIC_DIRS", [tmp_path])
    app_module.asset_url.cache_clear()
    try:
        first = app_module.asset_url("/x.css")
        app_module.asset_url.cache_clear()
        (tmp_path / "x.css").write_text("b{}")
        assert app_module.asset_url("/x.css") != first
    finally:
        app_module.asset_url.cache_clear()
