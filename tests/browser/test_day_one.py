"""A real college on day one (issue 11), in a real browser against a fresh database:

`xuegong create-admin` → log in with the one-time password → forced to set a new one →
download the template → fill and upload it → preview → confirm → the imported counselor gets
a one-time password, logs in, sets a password and sees their class, students and the door
form of a room their students live in; the labels print for the imported rooms.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from server.db import make_engine, make_sessionmaker, upgrade
from server.models import Room, SchoolClass
from server.settings import PROJECT_DIR, Settings
from tests.browser.conftest import LiveServer, free_port

NEW_PASSWORD = "jiyuan-xg-2026"
ROWS = {
    "系部": [["机电工程系"]],
    "教职工": [["T9001", "王建国", "机电工程系", "辅导员", "13800000001"],
               ["T9002", "李红", "机电工程系", "班主任", "13800000002"]],
    "班级": [["2026级机电一体化1班", "2026", "机电一体化技术", "机电工程系", "T9001", "T9002"]],
    "学生": [["2026090101", "赵一鸣", "男", "2026级机电一体化1班", "重点", "13900000001", "在读"],
             ["2026090102", "钱二虎", "男", "2026级机电一体化1班", "", "13900000002", ""]],
    "家长": [["2026090101", "赵大山", "父亲", "13700000001"]],
    "宿舍": [["北苑1号楼", "301", "4", "男"]],
    "床位": [["2026090101", "北苑1号楼", "301", "1"], ["2026090102", "北苑1号楼", "301", "2"]],
    "课程": [["2026级机电一体化1班", "机械制图", "孙老师", "13600000001", "是"]],
}  # fmt: skip


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory, settings):
    """The app on an empty, migrated database: no users, no college."""
    folder = tmp_path_factory.mktemp("day_one")
    url = f"sqlite:///{folder / 'college.sqlite3'}"
    upgrade(url)
    fresh = Settings.from_env(
        environ={
            "XUEGONG_DATABASE_URL": url,
            "XUEGONG_SECRET_KEYS": ",".join(settings.secret_keys),
            "XUEGONG_VAR_DIR": str(folder / "var"),
        }
    )
    server = LiveServer(fresh, free_port(), folder / "server.log")
    server.start()
    try:
        yield server, url
    finally:
        server.stop()


def xuegong(server: LiveServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=PROJECT_DIR, env=server.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def log_in_and_set_password(page: Page, base: str, username: str, one_time: str) -> None:
    page.goto(f"{base}/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(one_time)
    page.get_by_role("button", name="登录").click()
    # a one-time password opens nothing but the password form
    expect(page).to_have_url(re.compile(r"/account/password"))
    expect(page.locator("[data-forced]")).to_be_visible()
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/account/password"))
    page.get_by_label("当前密码").fill(one_time)
    page.get_by_label(re.compile("^新密码")).fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator("[data-forced]")).to_have_count(0)
    page.goto(f"{base}/")
    expect(page).not_to_have_url(re.compile(r"/account/password|/login"))


def filled(template: bytes) -> bytes:
    """The downloaded template with the college's rows under each sheet's notes row."""
    book = load_workbook(io.BytesIO(template))
    for name, rows in ROWS.items():
        sheet = book[name]
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_college_starts_from_an_empty_database(browser, fresh_app, tmp_path):
    server, url = fresh_app
    made = xuegong(server, "create-admin", "root", "--name", "系统管理员")
    assert made.returncode == 0, made.stderr
    admin_otp = made.stdout.strip().splitlines()[-1]

    admin = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                timezone_id="Asia/Shanghai", accept_downloads=True)  # fmt: skip
    page = admin.new_page()
    log_in_and_set_password(page, server.url, "root", admin_otp)

    # the template, filled in and uploaded
    page.goto(f"{server.url}/admin/import")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("下载导入模板")).click()
    workbook = tmp_path / "college.xlsx"
    workbook.write_bytes(filled(download.value.path().read_bytes()))
    page.locator('input[type="file"][name="file"]').set_input_files(str(workbook))
    page.get_by_role("button", name="上传并检查").click()
    # the preview: new rows per sheet, no errors, then one confirmation
    confirm = page.get_by_role("button", name="确认导入")
    expect(confirm).to_be_visible(timeout=30_000)
    expect(page.locator("table.tally").first).to_contain_text("学生")
    confirm.click()
    expect(page.get_by_role("status")).to_contain_text("已导入", timeout=30_000)

    # the imported counselor gets a one-time password from the admin
    page.goto(f"{server.url}/admin/accounts?q=T9001")
    page.locator("tr", has_text="T9001").get_by_role("link", name="管理", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("王建国")
    page.get_by_role("button", name="重置密码").click()
    counselor_otp = page.locator("[data-one-time-password]").inner_text().strip()
    assert counselor_otp

    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        school_class = db.scalar(select(SchoolClass).where(SchoolClass.name.like("2026级机电%")))
        room = db.scalar(select(Room).where(Room.number == "301"))
        class_id, room_id, building_id = school_class.id, room.id, room.building_id
    engine.dispose()

    # the labels print for the imported rooms
    page.goto(f"{server.url}/labels/{building_id}")
    expect(page.locator("figure.label")).to_have_count(1)
    expect(page.locator("figure.label .number")).to_have_text("301")
    admin.close()

    counselor = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                    timezone_id="Asia/Shanghai")  # fmt: skip
    phone = counselor.new_page()
    log_in_and_set_password(phone, server.url, "T9001", counselor_otp)
    phone.goto(f"{server.url}/attendance")
    expect(phone.locator("main")).to_contain_text("2026级机电一体化1班")
    phone.goto(f"{server.url}/classes/{class_id}/attendance")
    expect(phone.locator("main")).to_contain_text("赵一鸣")
    expect(phone.locator("main")).to_contain_text("钱二虎")
    # the door form of the room their students sleep in, residents filled in
    phone.goto(f"{server.url}/rooms/{room_id}/visit")
    expect(phone.locator(".resident .name")).to_have_text(
        [re.compile("1号床 赵一鸣"), re.compile("2号床 钱二虎")]
    )
    plan = phone.request.get(f"{server.url}/rounds/plan").json()
    assert any(item["kind"] == "room" and item["title"].endswith("301") for item in plan["items"])
    counselor.close()
