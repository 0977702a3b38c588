"""/admin/import: upload → preview → confirm, as the admin, in-process."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.models import ImportRun, ImportStatus
from tests.conftest import csrf_token, log_in
from tests.test_import_fixtures import college, counts, with_rows, xlsx

# the import database and its fixtures (empty, import_client …)
pytest_plugins = ["tests.test_import_fixtures"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def as_admin(client):
    assert log_in(client, "admin").status_code == 303
    return client


def upload(client, content: bytes, filename: str = "学院.xlsx", sheet: str = ""):
    return client.post(
        "/admin/import/uploads",
        files={"file": (filename, content, XLSX)},
        data={"sheet": sheet, "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )


def post(client, url: str):
    return client.post(url, data={"_csrf_token": csrf_token(client)}, follow_redirects=False)


def test_upload_preview_confirm_applies_the_workbook(import_client, empty):
    client = as_admin(import_client)
    page = client.get("/admin/import")
    assert "下载导入模板" in page.text
    uploaded = upload(client, xlsx(college()))
    assert uploaded.status_code == 303
    run_url = uploaded.headers["location"]
    assert "开始检查" in client.get(run_url).text  # the page starts the check itself (htmx)

    checked = post(client, run_url + "/check")
    assert checked.status_code == 303 and checked.headers["location"] == run_url
    preview = client.get(run_url).text
    assert "确认导入" in preview
    assert re.search(r"<td>学生</td><td>4</td><td>0</td><td>0</td>", preview)
    assert counts(empty)["students"] == 0  # nothing is written before the confirmation

    confirmed = post(client, run_url + "/apply")
    assert confirmed.status_code == 303
    assert "已导入：新增 23 行" in client.get(run_url).text
    assert counts(empty)["students"] == 4
    listing = client.get("/admin/import").text
    assert "学院.xlsx" in listing and "已导入" in listing and "管理员" in listing


def test_htmx_steps_answer_with_a_client_redirect(import_client):
    client = as_admin(import_client)
    run_url = upload(client, xlsx(college())).headers["location"]
    response = client.post(
        run_url + "/check", data={"_csrf_token": csrf_token(client)}, headers={"HX-Request": "true"}
    )
    assert response.headers["hx-redirect"] == run_url
    progress = client.get(run_url + "/progress")
    assert "待确认" in progress.text and 'value="100"' in progress.text


def test_a_workbook_with_errors_cannot_be_confirmed(import_client, empty):
    client = as_admin(import_client)
    bad = with_rows("学生", ["2024010101", "重复", "男", "2024级软件1班", "", "", ""])
    run_url = upload(client, xlsx(bad)).headers["location"]
    post(client, run_url + "/check")
    page = client.get(run_url).text
    assert "不能导入" in page and "确认导入" not in page
    assert "<td>学生</td><td>6</td><td>学号</td>" in page
    post(client, run_url + "/apply")  # posting anyway does nothing
    assert counts(empty)["departments"] == 0
    run_id = run_url.rsplit("/", 1)[1]
    assert empty.get(ImportRun, run_id).status == ImportStatus.rejected


def test_confirming_twice_applies_once(import_client, empty):
    client = as_admin(import_client)
    run_url = upload(client, xlsx(college())).headers["location"]
    post(client, run_url + "/check")
    post(client, run_url + "/apply")
    post(client, run_url + "/apply")
    empty.expire_all()
    assert empty.scalars(select(ImportRun.status)).all() == [ImportStatus.applied]
    assert counts(empty)["students"] == 4


def test_an_unreadable_upload_says_why(import_client):
    client = as_admin(import_client)
    run_url = upload(client, b"just some text", "学院.docx").headers["location"]
    post(client, run_url + "/check")
    assert "无法读取文件：无法识别的文件" in client.get(run_url).text


def test_a_file_above_10_mb_is_refused_at_upload(import_client, empty):
    client = as_admin(import_client)
    response = upload(client, b"PK\x03\x04" + b"\x00" * (10 * 1024 * 1024))
    assert response.status_code == 422 and "文件超过 10 MB" in response.text
    assert empty.scalars(select(ImportRun)).all() == []


def test_an_upload_without_a_file_asks_for_one(import_client):
    client = as_admin(import_client)
    without = client.post("/admin/import/uploads", data={"_csrf_token": csrf_token(client)})
    assert without.status_code == 422 and "请选择要导入的文件" in without.text
    assert upload(client, b"", "").status_code == 422


def test_the_template_downloads_as_a_workbook(import_client):
    client = as_admin(import_client)
    response = client.get("/admin/import/template.xlsx")
    assert response.status_code == 200 and response.content.startswith(b"PK")
    assert response.headers["content-type"] == XLSX


def test_only_the_admin_may_import(login):
    client = login("office1")
    assert client.get("/admin/import").status_code == 403
    assert client.get("/admin/import/template.xlsx").status_code == 403
    response = client.post(
        "/admin/import/uploads",
        files={"file": ("x.xlsx", b"PK", XLSX)},
        data={"_csrf_token": csrf_token(client)},
    )
    assert response.status_code == 403


def test_an_unknown_run_is_not_found(import_client):
    assert as_admin(import_client).get("/admin/import/nothing-here").status_code == 404


def test_an_imported_counselor_cannot_log_in_before_a_password_is_issued(import_client, empty):
    client = as_admin(import_client)
    run_url = upload(client, xlsx(college())).headers["location"]
    post(client, run_url + "/check")
    post(client, run_url + "/apply")
    client.post("/logout", data={"_csrf_token": csrf_token(client)})
    for password in ("!", "", "demo1234"):
        response = log_in(client, "T001", password)
        assert response.status_code == 400 and "用户名或密码不正确" in response.text


def test_a_failure_while_applying_leaves_nothing_written(import_client, empty, monkeypatch):
    from server.college_import import applying

    def broken(db, rows):  # the last sheet fails after every other sheet was written
        raise RuntimeError("disk full")

    monkeypatch.setattr(applying, "_courses", broken)  # apply() looks its steps up per call
    client = as_admin(import_client)
    run_url = upload(client, xlsx(college())).headers["location"]
    post(client, run_url + "/check")
    post(client, run_url + "/apply")
    assert "导入时出错，已全部撤销，未写入任何数据" in client.get(run_url).text
    assert counts(empty) == {name: 0 for name in counts(empty)} | {"users": 1, "user_roles": 1}
