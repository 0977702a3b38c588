"""The Content-Security-Policy breaks no page: every page a demo person opens loads with no
CSP violation (no inline script, handler or style left), and a `no-store` page can still be
kept in Cache Storage by the service worker."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from server.app import create_app
from tests.browser.conftest import log_in
from tests.browser.test_offline import phone

__all__ = ["phone"]  # the fixture, used by the tests below

SKIP = ("/logout", "/sw.js", "/schema", "/healthz", "/offline")


def pages_without_parameters(settings) -> list[str]:
    app = create_app(settings)
    paths = set()
    for route in app.routes:
        if "{" in route.path or route.path.startswith(("/static", "/sync", *SKIP)):
            continue
        if "GET" in getattr(route, "methods", ()) and not route.path.endswith(
            (".xlsx", ".json", ".png", ".ico", ".webmanifest")
        ):
            paths.add(route.path)
    return sorted(paths)


def csp_violations(page: Page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda m: (
            found.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None
        ),
    )
    return found


@pytest.mark.parametrize("username", ["counselor1", "leader1", "office1", "admin"])
def test_every_page_loads_without_a_csp_violation(phone, settings, username):
    page = phone.new_page()
    violations = csp_violations(page)
    log_in(page, username)
    opened = 0
    for path in pages_without_parameters(settings):
        try:
            response = page.goto(path)
        except PlaywrightError as error:
            # an export (an Excel file) starts a download instead of opening a page
            if "Download is starting" in str(error):
                continue
            raise
        if response is not None and response.ok:
            opened += 1
            page.wait_for_load_state("load")
    assert opened >= 10
    assert violations == []


def test_a_no_store_page_can_be_kept_in_cache_storage(phone):
    page = phone.new_page()
    log_in(page, "counselor1")
    kept = page.evaluate(
        """async () => {
            const response = await fetch("/", { cache: "no-store" });
            if (response.headers.get("cache-control") !== "no-store") return "not no-store";
            const cache = await caches.open("xg-test-no-store");
            await cache.put("/no-store-probe", response);
            const back = await cache.match("/no-store-probe");
            await caches.delete("xg-test-no-store");
            return back ? (await back.text()).includes("学工随行") : false;
        }"""
    )
    assert kept is True
