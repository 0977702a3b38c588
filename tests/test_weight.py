"""Page weight (issue 16): compressed responses, static files under their hash and kept a
year, the service worker's shell without the QR decoder, 准备巡查's rooms in one response.
The bytes themselves are measured by bench/weight.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.app import asset_url

WEB = Path(__file__).parent.parent / "web"


def test_pages_are_sent_brotli_compressed_and_gzip_to_browsers_without_it(login):
    counselor = login("counselor1")
    page = counselor.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert page.headers["content-encoding"] == "br"
    assert "Accept-Encoding" in page.headers["vary"]
    older = counselor.get("/", headers={"Accept-Encoding": "gzip"})
    assert older.headers["content-encoding"] == "gzip"
    assert older.text.count("<main>") == page.text.count("<main>") == 1


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_static_files_are_compressed_once_and_decode_to_the_file(client, encoding):
    response = client.get(asset_url("/htmx.min.js"), headers={"Accept-Encoding": encoding})
    assert response.headers["content-encoding"] == encoding
    assert response.headers["vary"] == "Accept-Encoding"
    on_disk = Path(__file__).parent.parent / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
    assert response.content == on_disk.read_bytes()  # httpx decoded what travelled


def test_a_file_under_its_hash_is_kept_a_year_without_a_cookie_or_a_policy(login):
    response = login("counselor1").get(asset_url("/app.css"))  # a session: still no cookie
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "etag" not in response.headers  # never revalidated
    assert response.headers["x-content-type-options"] == "nosniff"
    # a policy governs documents and workers; a Set-Cookie keeps caches from keeping the file
    assert "content-security-policy" not in response.headers
    assert "set-cookie" not in response.headers


def test_a_file_without_its_hash_answers_304_while_unchanged(client):
    share = "/static/npm/zxing-wasm/es/share.js"  # the QR reader imports it under this name
    first = client.get(share)
    assert first.headers["cache-control"] == "no-cache"
    again = client.get(share, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_the_wasm_decoder_is_served_as_wasm_for_streaming_compilation(client):
    response = client.get(asset_url("/npm/zxing-wasm/reader/zxing_reader.wasm"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/wasm"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server/app.py",
        "/static/%2e%2e/pyproject.toml",
        "/static/npm/idb/../../package.json",
        "/static/npm/nope/index.js",
        "/static/no-such-file.js",
    ],
)
def test_nothing_outside_the_static_folders_is_served(client, path):
    assert client.get(path).status_code == 404


def test_every_template_names_static_files_by_their_hash():
    for template in (WEB / "templates").glob("*.html"):
        html = template.read_text()
        assert "url_for('static'" not in html and "url_for('npm_" not in html, template.name
        assert not re.search(r"""(src|href)="/static/""", html), template.name


def worker_list(worker: str, name: str) -> str:
    return re.search(rf"const {name} = \[(.*?)\];", worker, re.S)[1]


def test_the_worker_asks_for_its_shell_under_the_hashes_pages_use(client):
    worker = client.get("/sw.js").text
    shell = worker_list(worker, "SHELL")
    for file in ("/app.css", "/app.js", "/htmx.min.js", "/npm/idb/umd.js", "/outbox.js"):
        assert f'"{asset_url(file)}"' in shell, file
    assert re.search(r'^const VERSION = "v\d+-[0-9a-f]{12}";', worker, re.M)


def test_the_install_leaves_out_the_qr_decoder_and_the_rounds_files(client):
    worker = client.get("/sw.js").text
    shell = worker_list(worker, "SHELL")
    assert "zxing" not in shell and ".wasm" not in shell
    assert "zxing_reader.wasm" in worker_list(worker, "DECODER")
    rounds = worker_list(worker, "ROUNDS_FILES")
    assert '"/scan"' in rounds and asset_url("/photos.js") in rounds


def test_preparing_rounds_gets_every_rooms_door_page_in_one_response(login):
    counselor = login("counselor1")
    plan = counselor.get("/rounds/plan").json()
    rooms = {item["url"]: item["title"] for item in plan["items"] if item["kind"] == "room"}
    assert rooms and plan["rooms_url"] == "/rounds/rooms"
    bundle = counselor.get(plan["rooms_url"])
    assert bundle.headers["cache-control"] == "no-store"
    pages = {page["url"]: page["html"] for page in bundle.json()["pages"]}
    assert pages.keys() == rooms.keys()
    url, html = next(iter(pages.items()))
    alone = counselor.get(url).text
    # the same page as /d/<token> draws, but for the entry id made when a form is drawn
    entry_id = re.compile(r'name="entry_id" value="[^"]+"')
    assert entry_id.sub("", html) == entry_id.sub("", alone)


def test_the_rooms_bundle_needs_a_login(client):
    response = client.get("/rounds/rooms", follow_redirects=False)
    assert response.status_code in (302, 303, 401)


def test_the_worker_script_comes_compressed_and_unkept(client):
    worker = client.get("/sw.js", headers={"Accept-Encoding": "br"})
    assert worker.headers["content-encoding"] == "br"
    assert worker.headers["cache-control"] == "no-cache"
    assert "const SHELL = [" in worker.text


def test_the_shell_pages_come_in_one_response_without_a_login(client):
    pages = {p["url"]: p["html"] for p in client.get("/offline/shell").json()["pages"]}
    assert set(pages) == {"/offline", "/offline/door", "/offline/saved", "/outbox"}
    assert pages["/outbox"] == client.get("/outbox").text


def test_a_static_file_answers_head_without_a_body(client):
    response = client.head(asset_url("/app.css"), headers={"Accept-Encoding": "br"})
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0 and response.content == b""
