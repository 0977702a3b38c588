"""The installed app without a browser: manifest, icons, install and scan pages, short labels.

Chromium's own installability check runs in tests/browser/test_scan.py.
"""

import re
import struct

import qrcode
from itsdangerous import URLSafeSerializer

from server import doors
from server.models import Room
from tests.conftest import rooms_of_students_of

THEME = "#1f6f5c"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_manifest_names_the_app_and_opens_standalone_at_home(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] == "学工随行"
    assert manifest["short_name"]
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["theme_color"] == THEME
    purposes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes


def test_every_declared_icon_is_a_png_of_its_declared_size(client):
    icons = client.get("/manifest.webmanifest").json()["icons"]
    for icon in icons:
        response = client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        assert response.headers["content-type"] == icon["type"] == "image/png"
        assert "max-age" in response.headers["cache-control"]
        width, height = (int(n) for n in icon["sizes"].split("x"))
        assert png_size(response.content) == (width, height), icon["src"]


def test_every_page_links_the_manifest_and_the_iphone_icon(login, client):
    for page in (client.get("/install"), login("counselor1").get("/")):
        assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text
        icon = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', page.text)[1]
        assert png_size(client.get(icon).content) == (180, 180)
        assert '<meta name="apple-mobile-web-app-capable" content="yes">' in page.text
        assert f'<meta name="theme-color" content="{THEME}">' in page.text


def test_an_unknown_icon_is_404(client):
    assert client.get("/icons/favicon.png").status_code == 404


def test_the_install_page_covers_android_iphone_and_wechat_before_login(client):
    page = client.get("/install")
    assert page.status_code == 200
    for words in (
        "安卓手机（Chrome）",
        "iPhone（Safari）",
        "在微信里",
        "在浏览器打开",
        "添加到主屏幕",
    ):
        assert words in page.text, words
    assert "data-install-button" in page.text


def test_home_has_the_scan_button_and_the_manual_path(login):
    page = login("counselor1").get("/")
    assert '<a class="button primary" href="/scan">扫码</a>' in page.text
    assert 'href="/rooms/find"' in page.text
    assert 'href="/install"' in page.text  # iPhones never get an install prompt
    assert "data-install-offer hidden" in page.text


def test_the_scan_page_loads_the_decoder_from_this_app(client):
    page = client.get("/scan")
    assert page.status_code == 200
    decoder = re.search(r'data-decoder-url="([^"]+)"', page.text)[1]
    wasm = re.search(r'data-wasm-url="([^"]+)"', page.text)[1]
    assert decoder.startswith("/static/npm/zxing-wasm/") and wasm.startswith("/static/npm/")
    assert client.get(decoder).status_code == 200
    served = client.get(wasm)
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/wasm"  # for streaming compilation
    assert 'href="/rooms/find"' in page.text


def test_the_service_worker_keeps_the_scanner_for_offline_use(client):
    worker = client.get("/sw.js").text
    # the shell at install, and what 准备巡查 adds (the scanner among it)
    shell = re.search(r"const SHELL = \[(.*?)\];", worker, re.S)[1]
    rounds = re.search(r"const ROUNDS_FILES = \[(.*?)\];", worker, re.S)[1]
    assert re.search(r'"/static/install\.js\?v=\w+"', shell)
    assert '"/scan"' in rounds and re.search(r'"/static/scan\.js\?v=\w+"', rounds)
    decoder = re.search(r"const DECODER = \[(.*?)\];", worker, re.S)[1]
    for url in re.findall(r'"(/static/npm/zxing-wasm/[^"]+)"', decoder):
        assert client.get(url).status_code == 200, url


# --- short door labels ------------------------------------------------------------------------


def test_the_door_token_is_short(db, settings):
    room = db.get(Room, rooms_of_students_of(db, "counselor1")[0])
    token = doors.room_token(settings, room)
    assert len(token) <= 20, token
    assert doors.room_from_token(db, settings, token).id == room.id


def qr_version(url: str) -> int:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make(fit=True)
    return qr.version


def test_a_door_url_fits_a_small_qr_code(db, settings):
    base = "https://xg.example.edu.cn/d/"
    room = db.get(Room, 1)
    assert qr_version(base + doors.room_token(settings, room)) <= 3  # 29 × 29 modules
    # a college of 10,000 rooms: still version 4 (33 × 33); the long form needed version 5
    big = Room(id=10_000, label_version=1)
    assert qr_version(base + doors.room_token(settings, big)) <= 4


def test_labels_printed_with_the_long_token_still_open(db, settings):
    room = db.get(Room, 1)
    long_form = URLSafeSerializer(list(reversed(settings.secret_keys)), salt=doors.SALT)
    printed = long_form.dumps([room.id, room.label_version])
    assert doors.room_from_token(db, settings, printed).id == room.id


def test_a_short_token_with_a_wrong_mac_or_version_is_refused(db, settings):
    room = db.get(Room, 1)
    room_id, version, mac = doors.room_token(settings, room).split(".")
    other_mac = ("A" if mac[0] != "A" else "B") + mac[1:]
    for forged in (
        f"{room_id}.{version}.{other_mac}",
        f"{int(room_id) + 1}.{version}.{mac}",
        f"{room_id}.{int(version) + 1}.{mac}",
    ):
        try:
            doors.room_from_token(db, settings, forged)
        except doors.BadLabel:
            continue
        raise AssertionError(f"{forged} was accepted")


def test_the_door_page_opens_with_the_short_token(login, db, settings):
    room = db.get(Room, rooms_of_students_of(db, "counselor1")[0])
    page = login("counselor1").get(f"/d/{doors.room_token(settings, room)}")
    assert page.status_code == 200
    assert room.number in page.text


def test_labels_print_the_short_code_and_how_to_scan(login, db):
    room = db.get(Room, 1)
    page = login("admin").get(f"/labels/{room.building_id}")
    labels = page.text.count('class="label"')
    assert page.text.count("使用学工随行扫码") == labels
    assert f'<span class="code">编号 {doors.short_code(room)}</span>' in page.text
