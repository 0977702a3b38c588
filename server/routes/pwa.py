"""What the phone needs to work offline: the service worker, its front-end libraries and the
pages it keeps in its app shell (offline page, door-not-prepared page, outbox).

The shell pages are the same for every user (the outbox list is drawn from the phone's own
IndexedDB), so they need no login: the worker precaches them when it installs, which may be
on the login page.
"""

from __future__ import annotations

import functools
import hashlib
import re

from litestar import Request, Response, get
from litestar.response import Template

from server import bundles, static_files
from server.settings import PROJECT_DIR

SERVICE_WORKER = PROJECT_DIR / "web" / "sw.js"
NODE_MODULES = PROJECT_DIR / "node_modules"
# npm packages whose build folders share file names (index.js), so each gets
# its own folder under /static/npm/<package>/ (server/static_files.py) instead of joining
# app.NPM_DIRS; from package-lock.json
NPM_PACKAGES = {
    "idb": NODE_MODULES / "idb" / "build",  # umd.js: IndexedDB with promises, for importScripts
    # QR decoder for 扫码 where the browser has no BarcodeDetector: es/reader/index.js
    # (ES module, imports ../share.js) and reader/zxing_reader.wasm
    "zxing-wasm": NODE_MODULES / "zxing-wasm" / "dist",
}
SHELL_PAGE = {"exclude_from_auth": True, "sync_to_thread": False, "include_in_schema": False}


@get("/sw.js", name="service_worker", sync_to_thread=False, include_in_schema=False)
def service_worker(request: Request) -> Response:
    # no-cache: the browser checks for a new worker on every visit; compressed once, like the
    # static files (server/static_files.py)
    encoding = static_files.accepted_encoding(request, "text/javascript")
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/", "Vary": "Accept-Encoding"}
    if encoding:
        headers["Content-Encoding"] = encoding
    return Response(_worker_bytes(encoding), media_type="text/javascript", headers=headers)


@functools.cache
def _worker_bytes(encoding: str) -> bytes:
    return static_files.encode(worker_script().encode(), encoding)


ASSET_CALL = re.compile(r'asset\("(/static(/[\w./-]+))"\)')
VERSION_LINE = re.compile(r'^const VERSION = "([^"]+)";', re.M)


@functools.cache
def worker_script() -> str:
    """web/sw.js with every `asset("/static/<file>")` under the file's content hash, and the
    hashes in its cache VERSION (a changed file makes a new worker and a new shell cache).
    Made once per process, like the templates' asset() (a release starts new processes)."""
    from server.app import asset_url  # the app imports this module

    script = ASSET_CALL.sub(
        lambda m: f'asset("{asset_url(m.group(2))}")', SERVICE_WORKER.read_text()
    )
    digest = hashlib.sha256(script.encode()).hexdigest()[:12]
    return VERSION_LINE.sub(lambda m: f'const VERSION = "{m.group(1)}-{digest}";', script, 1)


@get("/offline", name="offline", **SHELL_PAGE)
def offline() -> Template:
    """Shown by the worker for a page that was never cached, while there is no connection."""
    return Template("offline.html")


@get("/offline/door", name="door_not_prepared", **SHELL_PAGE)
def door_not_prepared() -> Template:
    """Shown by the worker for a door label scanned offline whose form was not prepared."""
    return Template("offline_door.html")


@get("/offline/saved", name="saved_offline", **SHELL_PAGE)
def saved_offline() -> Template:
    """The fragment the worker answers an htmx save with when the entry went to the outbox."""
    return Template("_saved_offline.html")


@get("/outbox", name="outbox", **SHELL_PAGE)
def outbox() -> Template:
    """The queued entries and their status; the list is drawn in the page from IndexedDB."""
    return Template("outbox.html")


@get("/offline/shell", name="shell_pages", **SHELL_PAGE)
def shell_pages(request: Request) -> Response:
    """The four pages above in one response (server/bundles.py), kept by the worker at install."""
    reverse = request.app.route_reverse
    return bundles.bundle(
        request,
        {
            reverse("offline"): offline.fn(),
            reverse("door_not_prepared"): door_not_prepared.fn(),
            reverse("saved_offline"): saved_offline.fn(),
            reverse("outbox"): outbox.fn(),
        },
    )


ROUTES = [service_worker, offline, door_not_prepared, saved_offline, outbox, shell_pages]
