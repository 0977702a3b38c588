"""扫码 in the installed app (issue 6), in a real browser: Chromium's fake camera shows a door
label's QR code (a Y4M file written here), the app decodes it and opens the door form, online
and offline after 准备巡查; a foreign QR code gets a message and no navigation. Also: the
manifest passes Chromium's installability check, and the install offer is made only once.

The fake camera plays one file per browser process, so each camera test launches its own
Chromium with the file it needs (the session's `browser` has no camera flags).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import qrcode
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, log_in
from tests.browser.test_door_visit import door_url, room_to_visit
from tests.browser.test_offline import prepare_for_rounds, wait_for_worker

FRAME_W, FRAME_H = 640, 480  # VGA, what a phone's preview gives at least
QR_PX = 420  # the code fills most of the frame, as when held 30 cm from a label
SCAN_TIMEOUT_MS = 20_000  # the decoder (about 1 MB of wasm) loads, then a frame is read
FOREIGN_URL = "https://example.com/d/1.1.AAAAAAAA"  # a door-like path on someone else's site


# --- the fake camera ------------------------------------------------------------------------


def write_y4m(path: Path, text: str) -> Path:
    """A Y4M video (I420) of one frame: the QR code of `text`, black on white, centred."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the white quiet zone
    module = QR_PX // len(matrix)
    size = module * len(matrix)
    left, top = (FRAME_W - size) // 2, (FRAME_H - size) // 2
    white, black = 235, 16  # video-range luma
    luma = bytearray([white]) * (FRAME_W * FRAME_H)
    for y in range(size):
        row = matrix[y // module]
        start = (top + y) * FRAME_W + left
        luma[start : start + size] = bytes(
            black if row[x // module] else white for x in range(size)
        )
    chroma = bytes([128]) * (FRAME_W * FRAME_H // 4)  # grey: no colour
    header = f"YUV4MPEG2 W{FRAME_W} H{FRAME_H} F15:1 Ip A1:1 C420\n".encode()
    path.write_bytes(header + b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


@pytest.fixture
def camera_showing(playwright, tmp_path, browser_context_args):
    """camera_showing(text) → a new phone (browser context) whose rear camera sees that QR code."""
    browsers: list[Browser] = []

    def phone(text: str):
        video = write_y4m(tmp_path / f"camera-{len(browsers)}.y4m", text)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        browsers.append(browser)
        return browser.new_context(**browser_context_args, permissions=["camera"])

    yield phone
    for browser in browsers:
        browser.close()


def watched(page: Page, errors: list[str]) -> Page:
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return page


def tap_scan(page: Page) -> None:
    page.locator(".scan-entry").get_by_role("link", name="扫码", exact=True).click()
    expect(page).to_have_url(re.compile(r"/scan$"))


# --- scanning -------------------------------------------------------------------------------


def test_scanning_a_door_label_opens_its_form_in_the_app(camera_showing, db, door_labels):
    room = room_to_visit(db, "counselor1")
    label = door_url(door_labels, room)
    errors: list[str] = []
    page = watched(camera_showing(label).new_page(), errors)
    log_in(page, "counselor1")
    page.goto("/")

    tap_scan(page)
    expect(page).to_have_url(label, timeout=SCAN_TIMEOUT_MS)
    expect(page.get_by_role("heading", level=1)).to_contain_text(room.number)
    expect(page.get_by_role("button", name="保存走访记录")).to_be_visible()
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def test_scanning_offline_after_preparing_for_rounds_opens_the_cached_form(
    camera_showing, db, door_labels
):
    room = room_to_visit(db, "counselor1")
    label = door_url(door_labels, room)
    errors: list[str] = []
    phone = camera_showing(label)
    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    prepare_for_rounds(page)

    phone.set_offline(True)
    page.goto("/")
    tap_scan(page)
    expect(page).to_have_url(label, timeout=SCAN_TIMEOUT_MS)
    expect(page.locator("[data-offline-copy]")).to_contain_text("离线 · 数据截至")
    expect(page.get_by_role("heading", level=1)).to_contain_text(room.number)
    expect(page.get_by_role("button", name="保存走访记录")).to_be_visible()
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def test_a_foreign_qr_code_gets_a_message_and_no_navigation(camera_showing):
    errors: list[str] = []
    page = watched(camera_showing(FOREIGN_URL).new_page(), errors)
    log_in(page, "counselor1")
    page.goto("/")
    tap_scan(page)

    message = page.locator("[data-scan-message]")
    expect(message).to_contain_text("这不是学工随行的门牌二维码", timeout=SCAN_TIMEOUT_MS)
    expect(message).to_contain_text(FOREIGN_URL)
    expect(page).to_have_url(re.compile(r"/scan$"))
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def test_no_camera_permission_says_so_and_offers_the_manual_path(page: Page):
    """The session's browser has no fake camera flags and the context no camera permission."""
    log_in(page, "counselor1")
    page.goto("/scan")
    expect(page.locator("[data-scan-message]")).to_contain_text("手动查找宿舍")
    page.get_by_role("link", name="手动查找宿舍").click()
    expect(page).to_have_url(re.compile(r"/rooms/find$"))


# --- the manual path, as typed --------------------------------------------------------------


def test_typing_a_room_lists_it_with_residents_and_opens_its_form(page: Page, db):
    room = room_to_visit(db, "counselor1")
    log_in(page, "counselor1")
    page.goto("/rooms/find")
    page.get_by_label("楼栋和房间号，或门牌上的编号").fill(f"{room.building} {room.number}")
    result = page.locator(".room-results li").first
    expect(result).to_contain_text(room.residents[0].name)
    result.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(room.number)


# --- installing -----------------------------------------------------------------------------


def test_chromium_finds_the_app_installable(playwright, tmp_path, browser_context_args):
    """Chromium's own check (what Lighthouse's installable-manifest audit used), run in a
    profile on disk: a Playwright context is off the record, and there Chromium stops at
    "in-incognito" without checking the rest."""
    phone = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, **browser_context_args
    )
    try:
        page = phone.pages[0] if phone.pages else phone.new_page()
        log_in(page, "counselor1")
        page.goto("/")
        wait_for_worker(page)
        cdp = page.context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"].endswith("/manifest.webmanifest")
        assert manifest["errors"] == []
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    finally:
        phone.close()


OFFER_INSTALL = """() => {
  const event = new Event("beforeinstallprompt", { cancelable: true });
  event.prompt = () => {};
  event.userChoice = Promise.resolve({ outcome: "dismissed" });
  window.dispatchEvent(event);
}"""


def test_the_install_offer_is_made_once(page: Page):
    log_in(page, "counselor1")
    page.goto("/")
    offer = page.locator("[data-install-offer]")
    expect(offer).to_be_hidden()
    page.evaluate(OFFER_INSTALL)  # as Chromium does when the app can be installed
    expect(offer).to_be_visible()
    offer.get_by_role("button", name="不用了").click()
    expect(offer).to_be_hidden()

    page.reload()
    page.evaluate(OFFER_INSTALL)
    expect(page.locator("[data-install-button]").first).to_be_attached()
    expect(offer).to_be_hidden()
    page.goto("/install")  # the install page still offers it
    page.evaluate(OFFER_INSTALL)
    expect(page.get_by_role("button", name="安装学工随行")).to_be_visible()


WASM = "/static/npm/zxing-wasm/reader/zxing_reader.wasm"
CACHED_WASM = f"""async () => {{
  for (const name of await caches.keys()) {{
    const cache = await caches.open(name);
    if (await cache.match("{WASM}", {{ ignoreSearch: true }})) return true;  // under ?v=<hash>
  }}
  return false;
}}"""


def test_the_qr_decoder_is_kept_by_preparing_not_at_install(page: Page):
    # the worker installs on the login page: its shell leaves out the 1 MB decoder, which
    # 准备巡查 keeps on a browser without a QR-reading BarcodeDetector (Chromium on Linux)
    page.goto("/login")
    wait_for_worker(page)
    assert page.evaluate(CACHED_WASM) is False
    log_in(page, "counselor1")
    prepare_for_rounds(page)
    native = page.evaluate(
        "async () => 'BarcodeDetector' in window && "
        "(await BarcodeDetector.getSupportedFormats()).includes('qr_code')"
    )
    assert page.evaluate(CACHED_WASM) is (not native)
