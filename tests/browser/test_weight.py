"""What the first visit downloads (issue 16): the service worker's install on the login page
leaves out the QR decoder and fetches no file the page has just loaded. The sizes themselves
are bench/weight.py's."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.test_offline import SW_READY_TIMEOUT_MS


def test_the_install_fetches_no_decoder_and_nothing_twice(page: Page):
    downloaded: list[str] = []

    def finished(request) -> None:
        response = request.response()
        if response is None or response.from_service_worker:
            return
        sizes = request.sizes()
        # Chromium's encoded length: from the HTTP cache it is nothing (body = -headers)
        if sizes["responseHeadersSize"] + sizes["responseBodySize"] > 0:
            downloaded.append(request.url.split("://", 1)[1].split("/", 1)[1])

    page.context.on("requestfinished", finished)
    # the install's last fetch: its files first (cache.addAll), then the shell pages' bundle
    with page.context.expect_event(
        "requestfinished", lambda r: r.url.endswith("/offline/shell"), timeout=SW_READY_TIMEOUT_MS
    ):
        page.goto("/login")
    assert not [url for url in downloaded if "zxing" in url or url.endswith(".wasm")]
    files = [url for url in downloaded if url.startswith("static/")]
    assert files and len(files) == len(set(files)), sorted(files)
