"""The leader's chart pages (考核, server/charts.py) stay light on phones: each is fetched
over HTTP from the running app with `Accept-Encoding: gzip`, as a phone would, and its bytes
on the wire are checked against LIMIT (150 KB compressed, issue 14). Also timed.

`make bench` runs it on the college-size demo; `python -m bench.chart_page` alone loads the
small demo college into a temporary SQLite database.
"""

from __future__ import annotations

import gzip
import os
import sys
import time
import urllib.request

from bench.live import LiveApp

LIMIT = 150 * 1024
PAGES = ("/assessment/charts", "/assessment", "/assessment/office")
USERS = {"/assessment/office": "office1"}


def fetch(app: LiveApp, path: str) -> tuple[int, int, float]:
    """(compressed bytes, uncompressed bytes, seconds) of one page."""
    request = urllib.request.Request(f"{app.base}{path}", headers={"Accept-Encoding": "gzip"})
    started = time.perf_counter()
    with app.opener.open(request) as answer:
        body = answer.read()
        encoding = answer.headers.get("Content-Encoding", "")
    took = time.perf_counter() - started
    plain = gzip.decompress(body) if encoding == "gzip" else body
    return len(body), len(plain), took


def run(name: str, url: str) -> list[tuple]:
    """(database, page, compressed bytes, plain bytes, seconds, within the limit) per page."""
    rows = []
    for path in PAGES:
        with LiveApp(url) as app:
            app.log_in(USERS.get(path, "leader1"))
            fetch(app, path)  # warm up
            wire, plain, took = fetch(app, path)
        ok = wire < LIMIT
        rows.append((name, path, wire, plain, took, ok))
        print(f"{name:10} {path:22} {wire / 1024:6.1f} KB compressed ({plain / 1024:.1f} KB) "
              f"in {took * 1000:.0f} ms {'ok' if ok else 'OVER THE LIMIT'}", flush=True)  # fmt: skip
    return rows


def figures(rows: list[tuple]) -> list[str]:
    lines = [
        "",
        f"考核 chart pages (issue 14), fetched with gzip as a phone would; limit"
        f" {LIMIT // 1024} KB transferred:",
        "",
        "| database | page | transferred (gzip) | uncompressed | answer time | within limit |",
        "|---|---|---|---|---|---|",
    ]
    for db, path, wire, plain, took, ok in rows:
        lines.append(f"| {db} | `{path}` | {wire / 1024:.1f} KB | {plain / 1024:.1f} KB |"
                     f" {took * 1000:.0f} ms | {'yes' if ok else '**no**'} |")  # fmt: skip
    return lines


def main() -> int:
    from server import demo
    from server.db import make_engine, upgrade

    url = f"sqlite:////tmp/xuegong-bench-charts-{os.getpid()}.sqlite3"
    upgrade(url)
    engine = make_engine(url)
    demo.load(engine, size="small", seed=1, weeks=4)
    engine.dispose()
    try:
        rows = run("SQLite", url)
    finally:
        os.remove(url.removeprefix("sqlite:///"))
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
