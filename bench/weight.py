"""Page weight (issue 16): the bytes a phone downloads, 准备巡查 on a slow link, Lighthouse.

`python -m bench.weight [database URL of a loaded college] [-v] [--no-lighthouse]` (without
a URL it loads the demo college into a temporary SQLite file; -v lists every download). Real headless Chromium (Playwright) against the app on
127.0.0.1; "transferred" is what crossed the network, headers included, as DevTools counts
it: the page's requests and the service worker's own (its install, 准备巡查), not what the
worker or the HTTP cache answered.

Targets: the first load of `/login` and of `/` (counselor1), the worker's install included,
≤ 50 KB; a later page ≤ 10 KB; 准备巡查 for counselor1 ≤ 600 KB and ≤ 10 s at 1.6 Mbps and
150 ms RTT (Chromium's own throttling, on the page and on the worker); Lighthouse mobile ≥ 0.95
in performance, accessibility and best practices on `/login`, `/`, a door page and an
attendance form.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from websockets.sync.client import connect

from bench.live import LiveApp, free_port
from server.demo import DEMO_PASSWORD
from server.settings import PROJECT_DIR

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIGHTHOUSE = PROJECT_DIR / "node_modules" / ".bin" / "lighthouse"
USER = "counselor1"
LATER_PAGE = "/week"
SLOW_LINK = {  # Chromium's Network.emulateNetworkConditions: bytes/s and ms
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 1_600_000 / 8,
}
QUIET_S = 1.0  # no request in flight for this long: the load (and the worker's install) is over
PREPARE_TIMEOUT_MS = 120_000
DECODER = "/static/npm/zxing-wasm/"
WORKER_SCRIPT = "/sw.js"
FIRST_LOAD_KB, LATER_KB, PREPARE_KB, PREPARE_S, LIGHTHOUSE_MIN = 50, 10, 600, 10, 0.95


class Transfers:
    """Bytes that crossed the network for the context's pages and its service worker."""

    def __init__(self, context: BrowserContext, base: str):
        self.base = base
        self.rows: list[tuple[str, int]] = []
        self.in_flight = 0
        self.last_change = time.monotonic()
        context.on("request", self._started)
        context.on("requestfinished", self._finished)
        context.on("requestfailed", self._failed)

    def _started(self, request) -> None:
        self.in_flight += 1
        self.last_change = time.monotonic()

    def _failed(self, request) -> None:
        self.in_flight -= 1
        self.last_change = time.monotonic()

    def _finished(self, request) -> None:
        self._failed(request)
        response = request.response()
        if response is None or response.from_service_worker:
            return  # answered by the worker: its own fetch, if any, is counted
        sizes = request.sizes()
        # Chromium's encoded length, headers included: from the HTTP cache the body counts
        # minus the headers (nothing crossed); the worker script's body is not counted at all
        size = sizes["responseHeadersSize"] + sizes["responseBodySize"]
        path = request.url.removeprefix(self.base)
        if path == WORKER_SCRIPT and sizes["responseBodySize"] == 0:
            size += int(response.headers.get("content-length", 0))
        if size > 0:
            self.rows.append((path, size))

    def wait_quiet(self, page: Page) -> None:
        while self.in_flight > 0 or time.monotonic() - self.last_change < QUIET_S:
            page.wait_for_timeout(100)  # bench only: the tests wait for states

    def take(self) -> list[tuple[str, int]]:
        rows, self.rows = self.rows, []
        return rows


def kb(rows, keep=lambda url: True) -> float:
    return sum(size for url, size in rows if keep(url)) / 1000


def wait_for_install(page: Page) -> None:
    """Until the worker is installed (its shell kept) and active."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def wait_for_worker(page: Page) -> None:
    """Until the worker is active and controls the page (it claims pages on activate)."""
    wait_for_install(page)
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()


def log_in(context: BrowserContext, base: str) -> None:
    """A session cookie in the context without loading the login page's files."""
    login = context.request.get(f"{base}/login").text()
    token = re.search(r'name="_csrf_token" value="([^"]+)"', login)[1]
    context.request.post(
        f"{base}/login",
        form={"username": USER, "password": DEMO_PASSWORD, "_csrf_token": token},
        max_redirects=0,
    )


class WorkerThrottle:
    """Chromium's network throttling on the service worker: a page's throttling does not
    reach the worker's own fetches (its install, 准备巡查). Over the DevTools protocol."""

    def __init__(self, socket):
        self.socket = socket
        self.next_id = 0

    @classmethod
    @contextmanager
    def on_port(cls, port: int):
        version = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version"))
        with connect(version["webSocketDebuggerUrl"], max_size=None) as socket:
            yield cls(socket)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            answer = json.loads(self.socket.recv())
            if answer.get("id") == self.next_id:
                return answer.get("result", {})

    def slow_down_workers(self) -> int:
        targets = self.call("Target.getTargets")["targetInfos"]
        workers = [t for t in targets if t["type"] == "service_worker"]
        for worker in workers:
            attached = self.call("Target.attachToTarget", {"targetId": worker["targetId"], "flatten": True})
            self.call("Network.enable", session=attached["sessionId"])
            self.call("Network.emulateNetworkConditions", SLOW_LINK, attached["sessionId"])
        return len(workers)


@contextmanager
def chromium(debug_port: int):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--remote-debugging-port={debug_port}"]
        )
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser, base: str) -> tuple[BrowserContext, Page, Transfers]:
    context = browser.new_context(
        service_workers="allow", viewport={"width": 390, "height": 844}, locale="zh-CN"
    )
    return context, context.new_page(), Transfers(context, base)


def first_loads(browser, base: str) -> dict:
    """KB of the first load of /login, of / (logged in), and of a later page."""
    figures = {}
    context, page, transfers = new_context(browser, base)
    page.goto(f"{base}/login")
    wait_for_install(page)
    transfers.wait_quiet(page)
    figures["/login"] = transfers.take()
    context.close()

    context, page, transfers = new_context(browser, base)
    log_in(context, base)
    transfers.take()
    page.goto(f"{base}/")
    wait_for_install(page)
    transfers.wait_quiet(page)
    figures["/"] = transfers.take()
    page.goto(f"{base}{LATER_PAGE}")
    transfers.wait_quiet(page)
    figures[LATER_PAGE] = transfers.take()
    context.close()
    return figures


def prepare_rounds(browser, base: str, debug_port: int) -> dict:
    """准备巡查 on a slow link: KB, seconds, rooms kept."""
    context, page, transfers = new_context(browser, base)
    log_in(context, base)
    page.goto(f"{base}/")
    wait_for_worker(page)
    transfers.wait_quiet(page)
    with WorkerThrottle.on_port(debug_port) as throttle:
        workers = throttle.slow_down_workers()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
        transfers.take()
        started = time.monotonic()
        page.get_by_role("button", name="准备巡查").click()
        summary = page.locator("[data-prepare-summary]")
        expect(summary).to_have_text(re.compile(r"^已缓存"), timeout=PREPARE_TIMEOUT_MS)
        seconds = time.monotonic() - started
        said = summary.text_content()
        transfers.wait_quiet(page)
        rows = transfers.take()
    context.close()
    return {"rows": rows, "seconds": seconds, "summary": said, "throttled_workers": workers}


def lighthouse(app: LiveApp, pages: dict[str, str]) -> dict[str, dict[str, float]]:
    """Lighthouse's mobile scores of each page (its own Chromium, logged in by cookie)."""
    cookie = "; ".join(f"{c.name}={c.value}" for c in app.cookies)
    scores = {}
    for name, path in pages.items():
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / "report.json"
            command = [
                str(LIGHTHOUSE), f"{app.base}{path}", "--quiet", "--output=json",
                f"--output-path={report}",
                "--only-categories=performance,accessibility,best-practices",
                "--chrome-flags=--headless=new " + " ".join(CHROMIUM_ARGS),
                f"--port={free_port()}",  # its Chromium's debugging port (XUEGONG_BENCH_PORTS)
            ]  # fmt: skip
            if name != "/login":
                command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
            subprocess.run(
                command,
                env={**os.environ, "CHROME_PATH": CHROMIUM},
                check=True,
                capture_output=True,
                timeout=180,
            )
            result = json.loads(report.read_text())
        scores[name] = {
            key: category["score"] for key, category in result["categories"].items()
        }
        scores[name]["failing"] = [
            audit["id"]
            for audit in result["audits"].values()
            if audit.get("score") is not None
            and audit["score"] < 0.9
            and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
        ]
    return scores


def lighthouse_pages(app: LiveApp) -> dict[str, str]:
    plan = json.loads(app.get("/rounds/plan"))
    door = next(i["url"] for i in plan["items"] if i["kind"] == "room")
    form = next(i["url"] for i in plan["items"] if i["kind"] == "roster")
    return {"/login": "/login", "/": "/", "/d/<token>": door, "attendance form": form}


def run(url: str, with_lighthouse: bool = True) -> dict:
    os.environ.setdefault("XUEGONG_BENCH_PORTS", "18100-18199")
    with LiveApp(url) as app:
        debug_port = free_port()
        with chromium(debug_port) as browser:
            loads = first_loads(browser, app.base)
            prepared = prepare_rounds(browser, app.base, debug_port)
        app.log_in(USER)
        wanted = with_lighthouse and LIGHTHOUSE.exists()
        scores = lighthouse(app, lighthouse_pages(app)) if wanted else {}
    return {"loads": loads, "prepare": prepared, "lighthouse": scores}


def figures(result: dict) -> list[str]:
    loads, prepared = result["loads"], result["prepare"]
    lines = [
        "",
        f"Page weight (`bench/weight.py`, {USER}, headless Chromium; KB = 1,000 bytes"
        " transferred, headers included; targets in brackets):",
        "",
        "| what | transferred | requests |",
        "|---|---|---|",
    ]
    for page, rows in loads.items():
        target = LATER_KB if page == LATER_PAGE else FIRST_LOAD_KB
        what = f"later page `{page}`" if page == LATER_PAGE else f"first load of `{page}` with the worker's install"
        lines.append(f"| {what} (≤ {target} KB) | {kb(rows):.1f} KB | {len(rows)} |")
    rows = prepared["rows"]
    pages_kb = kb(rows, lambda u: not u.startswith(DECODER))
    lines += [
        f"| 准备巡查 at 1.6 Mbps / 150 ms (≤ {PREPARE_KB} KB, ≤ {PREPARE_S} s) | {kb(rows):.0f} KB"
        f" in {prepared['seconds']:.1f} s; without the QR decoder (a browser with a"
        f" BarcodeDetector) {pages_kb:.0f} KB | {len(rows)} |",
        "",
        f"准备巡查 said: {prepared['summary']}",
    ]
    if result["lighthouse"]:
        lines += [
            "",
            f"Lighthouse 12 mobile (≥ {LIGHTHOUSE_MIN}):",
            "",
            "| page | performance | accessibility | best practices | audits under 0.9 |",
            "|---|---|---|---|---|",
        ]
        for page, s in result["lighthouse"].items():
            failing = ", ".join(s["failing"]) or "none"
            lines.append(
                f"| `{page}` | {s['performance']:.2f} | {s['accessibility']:.2f}"
                f" | {s['best-practices']:.2f} | {failing} |"
            )
    return lines


def _demo_college() -> str:
    from bench.my_week import college_with_a_semester

    url = f"sqlite:////tmp/xuegong-weight-college-{os.getpid()}.sqlite3"
    college_with_a_semester(url)
    return url


def main(argv: list[str]) -> int:
    urls = [a for a in argv[1:] if not a.startswith("-")]
    url = urls[0] if urls else _demo_college()
    result = run(url, with_lighthouse="--no-lighthouse" not in argv)
    print("\n".join(figures(result)))
    if "-v" in argv:
        for page, rows in {**result["loads"], "准备巡查": result["prepare"]["rows"]}.items():
            print(f"\n{page}")
            for path, size in sorted(rows, key=lambda r: -r[1]):
                print(f"  {size:>8,}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
