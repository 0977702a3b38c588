"""The installed app: web app manifest, icons, the 安装到手机 page and the in-app scanner.

Why install: a QR code scanned with the phone's camera app opens in the system browser
(Safari on iPhones) or in WeChat's web view, whose storage is not the installed app's, so
the pages cached by 准备巡查 and the outbox are not there. Scanning from inside the app keeps
everything in one place, offline too.

All of these are the same for every user and need no login: the browser fetches the
manifest and icons without cookies, the install page is read before logging in, and the
scanner page is kept in the service worker's app shell (web/sw.js) so it opens offline.
"""

from __future__ import annotations

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Response, Template

from server import icons

THEME_COLOUR = "#1f6f5c"  # as base.html's theme-color and app.css's --green
BACKGROUND_COLOUR = "#f5f7f6"  # app.css --bg: the splash screen while the app starts
ICON_MAX_AGE_SECONDS = 7 * 24 * 3600
FAVICON_PIXELS = 32
# name → (pixels, maskable); the manifest lists them all, base.html the apple-touch-icon
ICONS = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "icon-maskable-512.png": (512, True),
    "apple-touch-icon.png": (180, False),  # iOS ignores the manifest's icons
}
PUBLIC = {"exclude_from_auth": True, "sync_to_thread": False, "include_in_schema": False}


@get("/manifest.webmanifest", name="manifest", **PUBLIC)
def manifest(request: Request) -> Response:
    reverse = request.app.route_reverse
    return Response(
        {
            "id": "/",
            "name": "学工随行",
            "short_name": "学工随行",
            "description": "辅导员和班主任的日常工作记录：宿舍走访、查课、值班，没有信号也能用。",
            "lang": "zh-CN",
            "start_url": reverse("home"),
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "theme_color": THEME_COLOUR,
            "background_color": BACKGROUND_COLOUR,
            "icons": [
                {
                    "src": reverse("app_icon", file=name),
                    "sizes": f"{size}x{size}",
                    "type": "image/png",
                    "purpose": "maskable" if maskable else "any",
                }
                for name, (size, maskable) in ICONS.items()
                if name != "apple-touch-icon.png"
            ],
        },
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@get("/icons/{file:str}", name="app_icon", **PUBLIC)
def app_icon(file: str) -> Response:
    if file not in ICONS:
        raise NotFoundException("没有这个图标。")
    size, maskable = ICONS[file]
    return Response(
        icons.png(size, maskable=maskable),
        media_type="image/png",
        headers={"Cache-Control": f"public, max-age={ICON_MAX_AGE_SECONDS}"},
    )


@get("/favicon.ico", name="favicon", **PUBLIC)
def favicon() -> Response:
    # browsers ask for /favicon.ico before reading any <link rel=icon>: a PNG answers it (every
    # browser reads a PNG served there), instead of a 404 on every first visit
    return Response(
        icons.png(FAVICON_PIXELS, maskable=False),
        media_type="image/png",
        headers={"Cache-Control": f"public, max-age={ICON_MAX_AGE_SECONDS}"},
    )


@get("/install", name="install", **PUBLIC)
def install() -> Template:
    """How to put the app on the home screen: Android Chrome, iPhone Safari, WeChat."""
    return Template("install.html")


@get("/scan", name="scan", **PUBLIC)
def scan() -> Template:
    """扫码: the rear camera reads a door label and opens its form in the app (web/static/scan.js)."""
    return Template("scan.html")


ROUTES = [manifest, app_icon, favicon, install, scan]
