"""Accounts: the admin's /admin/accounts, one-time passwords (the forced change before
anything else), the printable sheet, and `xuegong create-admin` / `reset-password`."""

from __future__ import annotations

import itertools
import re

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete

from server import accounts
from server.cli import main as xuegong
from server.models import LoginFailure, Role, User
from tests.conftest import log_in, user_named
from tests.test_sessions import is_logged_in, logged_in, post

_numbers = itertools.count(1)
SHOWN = re.compile(r"<code>([a-z0-9]{10})</code>")


@pytest.fixture
def admin(login):
    return login("admin")


@pytest.fixture
def username(db):
    """A fresh 工号 for one test; its account (if made) goes afterwards."""
    name = f"acc{next(_numbers):03d}"
    yield name
    db.rollback()
    db.execute(delete(LoginFailure).where(LoginFailure.username == name))
    db.execute(delete(User).where(User.username == name))
    db.commit()


def create(admin, login_name: str, **fields):
    data = {"username": login_name, "name": "张老师", "department": "", "roles": ["counselor"]}
    return post(admin, "/admin/accounts/create", data | fields)


def stored(db, username: str) -> User:
    db.expire_all()
    return user_named(db, username)


# ---------------------------------------------------------------- create, edit


def test_admin_creates_a_counselor_and_class_teacher_with_a_one_time_password(admin, db, username):
    department = user_named(db, "counselor1").department_id
    response = create(
        admin, username, department=str(department), roles=["counselor", "class_teacher"],
        phone="13800001111",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    password = SHOWN.search(response.text).group(1)
    user = stored(db, username)
    assert user.roles == {Role.counselor, Role.class_teacher}
    assert user.department_id == department and user.phone == "13800001111"
    assert user.must_change_password
    # only the hash is kept
    assert password not in user.password_hash and accounts.auth.password_matches(
        user.password_hash, password
    )


def test_a_duplicate_username_is_refused_in_chinese(admin, db, username):
    create(admin, username)
    response = create(admin, username, name="另一个人")
    assert response.status_code == 400
    assert "已经有账号" in response.text
    assert stored(db, username).name == "张老师"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"roles": []}, "请至少选择一个角色"),
        ({"roles": ["dean"]}, "角色“dean”不存在"),
        ({"name": "张\x07老师"}, "不能包含控制字符"),
        ({"name": ""}, "请填写姓名"),
        ({"username": "a b"}, "工号（用户名）只能由"),
        ({"department": "999999"}, "所选系部不存在"),
        ({"roles": ["leader"]}, "需要选择所在系部"),
        ({"phone": "call me"}, "手机号码只能包含"),
    ],
)
def test_bad_account_input_is_refused_with_a_chinese_message(admin, db, username, fields, message):
    response = create(admin, username, **fields)
    assert response.status_code == 400
    assert message in response.text
    assert stored(db, username) is None


def test_admin_edits_name_department_and_roles(admin, db, username):
    create(admin, username)
    user = stored(db, username)
    department = user_named(db, "leader1").department_id
    response = post(
        admin, f"/admin/accounts/{user.id}/save",
        {"name": "李老师", "department": str(department), "roles": ["leader", "counselor"]},
    )  # fmt: skip
    assert response.status_code == 303
    user = stored(db, username)
    assert (user.name, user.department_id) == ("李老师", department)
    assert user.roles == {Role.leader, Role.counselor}


def test_an_edit_with_a_role_that_does_not_exist_changes_nothing(admin, db, username):
    create(admin, username)
    user = stored(db, username)
    response = post(admin, f"/admin/accounts/{user.id}/save", {"name": "李老师", "roles": ["boss"]})
    assert response.status_code == 400 and "不存在" in response.text
    assert stored(db, username).name == "张老师"


def test_the_admin_cannot_drop_their_own_admin_role_or_disable_themselves(admin, db):
    me = user_named(db, "admin")
    response = post(admin, f"/admin/accounts/{me.id}/save", {"name": me.name, "roles": ["office"]})
    assert response.status_code == 400 and "不能去掉自己的管理员角色" in response.text
    response = post(admin, f"/admin/accounts/{me.id}/disable")
    assert response.status_code == 400 and "不能停用自己的账号" in response.text
    assert stored(db, "admin").active and Role.admin in stored(db, "admin").roles


# ---------------------------------------------------------------- list


def test_the_list_finds_by_name_or_username_and_filters_by_department_and_role(admin, db):
    counselor1 = user_named(db, "counselor1")
    page = admin.get("/admin/accounts", params={"q": counselor1.name})
    assert 'data-account="counselor1"' in page.text
    assert 'data-account="teacher1"' not in page.text
    page = admin.get("/admin/accounts", params={"q": "COUNSELOR"})
    assert 'data-account="counselor1"' in page.text
    page = admin.get("/admin/accounts", params={"role": "class_teacher"})
    assert 'data-account="teacher1"' in page.text and 'data-account="office1"' not in page.text
    page = admin.get(
        "/admin/accounts", params={"department": str(counselor1.department_id), "q": "1"}
    )
    assert 'data-account="counselor1"' in page.text
    page = admin.get("/admin/accounts", params={"q": "%"})  # a LIKE sign is just a sign
    assert 'data-account="counselor1"' not in page.text


def test_a_counselor_gets_403_on_the_admin_pages(login, db):
    counselor = login("counselor1")
    assert counselor.get("/admin/accounts").status_code == 403
    assert counselor.get("/admin/password-sheet").status_code == 403
    admin_id = user_named(db, "admin").id
    assert post(counselor, f"/admin/accounts/{admin_id}/reset-password").status_code == 403
    assert stored(db, "admin").must_change_password is False


# ---------------------------------------------------------------- one-time passwords


def test_a_one_time_password_must_be_changed_before_anything_else(app, admin, db, username):
    password = SHOWN.search(create(admin, username).text).group(1)
    phone = logged_in(app, username, password)
    page = phone.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/account/password"
    assert phone.get("/week", follow_redirects=False).status_code == 303
    forced = phone.get("/account/password")
    assert forced.status_code == 200 and "一次性密码" in forced.text
    # the sync API answers in JSON, in Chinese
    pulled = phone.get("/sync/pull")
    assert pulled.status_code == 403 and "设置新密码" in pulled.json()["detail"]
    assert phone.get("/static/app.css").status_code == 200
    assert phone.get("/offline").status_code == 200
    changed = post(
        phone, "/account/password/change",
        {"current_password": password, "new_password": "Lanmei-2026", "new_password_again": "Lanmei-2026"},
    )  # fmt: skip
    assert changed.status_code == 303
    assert phone.get("/", follow_redirects=False).status_code == 200
    assert stored(db, username).must_change_password is False
    # the one-time password is spent
    assert log_in(TestClient(app), username, password).status_code == 400


def test_a_one_time_password_still_lets_its_owner_log_out(app, admin, username):
    password = SHOWN.search(create(admin, username).text).group(1)
    phone = logged_in(app, username, password)
    response = post(phone, "/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_reset_password_issues_a_one_time_password_and_logs_the_person_out(
    app, admin, db, username
):
    first = SHOWN.search(create(admin, username).text).group(1)
    phone = logged_in(app, username, first)
    user = stored(db, username)
    response = post(admin, f"/admin/accounts/{user.id}/reset-password")
    assert response.status_code == 200
    second = SHOWN.search(response.text).group(1)
    assert second != first
    assert phone.get("/account/password", follow_redirects=False).status_code == 302  # to login
    assert log_in(phone, username, first).status_code == 400
    assert log_in(phone, username, second).status_code == 303


def test_disabling_logs_out_at_once_and_enabling_lets_back_in(app, admin, db, username):
    password = SHOWN.search(create(admin, username).text).group(1)
    phone = logged_in(app, username, password)
    user = stored(db, username)
    assert post(admin, f"/admin/accounts/{user.id}/disable").status_code == 303
    assert not is_logged_in(phone)
    assert not stored(db, username).active
    assert log_in(phone, username, password).status_code == 400
    assert post(admin, f"/admin/accounts/{user.id}/enable").status_code == 303
    assert log_in(phone, username, password).status_code == 303


def test_log_out_everywhere_ends_every_session_of_that_person(app, admin, db, username):
    password = SHOWN.search(create(admin, username).text).group(1)
    phones = [logged_in(app, username, password) for _ in range(2)]
    epoch = stored(db, username).session_epoch
    user = stored(db, username)
    assert post(admin, f"/admin/accounts/{user.id}/end-sessions").status_code == 303
    assert stored(db, username).session_epoch == epoch + 1
    for phone in phones:
        assert (
            phone.get("/account/password", follow_redirects=False)
            .headers["location"]
            .startswith("/login")
        )


# ---------------------------------------------------------------- the printable sheet


@pytest.fixture
def imported(db):
    """Three staff as an import leaves them: password_hash "!", no way to log in yet."""
    department = user_named(db, "counselor1").department_id
    names = [f"imp{next(_numbers):03d}" for _ in range(3)]
    for n in names:
        db.add(User(username=n, name=f"导入{n}", password_hash="!", department_id=department))
    db.commit()
    yield names
    db.execute(delete(User).where(User.username.in_(names)))
    db.commit()


def test_the_sheet_issues_one_time_passwords_for_accounts_without_one(app, admin, db, imported):
    department = user_named(db, "counselor1").department_id
    pick = admin.get("/admin/password-sheet", params={"department": str(department)})
    assert all(n in pick.text for n in imported)
    assert "counselor1" not in pick.text  # has a password already
    ids = [user_named(db, n).id for n in imported[:2]]
    sheet = post(admin, "/admin/password-sheet/issue", {"user_id": [str(i) for i in ids]})
    assert sheet.status_code == 200
    slips = dict(re.findall(r'data-slip="(\w+)">.*?<code>([a-z0-9]{10})</code>', sheet.text, re.S))
    assert set(slips) == set(imported[:2])
    assert "http://127.0.0.1:8000" in sheet.text
    assert sheet.headers["cache-control"] == "no-store"
    for n, password in slips.items():
        user = stored(db, n)
        assert user.must_change_password and password not in user.password_hash
        assert accounts.auth.password_matches(user.password_hash, password)
    assert stored(db, imported[2]).password_hash == "!"  # not picked
    assert log_in(TestClient(app), imported[0], slips[imported[0]]).status_code == 303


def test_a_sheet_with_no_account_picked_is_refused_in_chinese(admin):
    response = post(admin, "/admin/password-sheet/issue", {})
    assert response.status_code == 400 and "请至少选择一个账号" in response.text


# ---------------------------------------------------------------- the command line


@pytest.fixture
def shell(monkeypatch, settings):
    monkeypatch.setenv("XUEGONG_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("XUEGONG_SECRET_KEYS", ",".join(settings.secret_keys))


def test_create_admin_prints_a_one_time_password(shell, capsys, app, db, username):
    assert xuegong(["create-admin", username, "--name", "王管理"]) == 0
    password = capsys.readouterr().out.strip().splitlines()[-1]
    user = stored(db, username)
    assert user.roles == {Role.admin} and user.name == "王管理" and user.must_change_password
    phone = logged_in(app, username, password)
    assert phone.get("/admin/accounts", follow_redirects=False).headers["location"] == (
        "/account/password"
    )


def test_create_admin_twice_exits_1_with_a_message(shell, capsys, db, username):
    assert xuegong(["create-admin", username, "--name", "王管理"]) == 0
    capsys.readouterr()
    assert xuegong(["create-admin", username, "--name", "别人"]) == 1
    assert "已经有账号" in capsys.readouterr().err
    assert stored(db, username).name == "王管理"


def test_create_admin_with_a_password_file_sets_that_password(
    shell, capsys, app, db, username, tmp_path
):
    secret = tmp_path / "pw"
    secret.write_text("Hongqiao-Lab-7\n")
    assert (
        xuegong(["create-admin", username, "--name", "王管理", "--password-file", str(secret)]) == 0
    )
    assert "Hongqiao-Lab-7" not in capsys.readouterr().out
    assert not stored(db, username).must_change_password
    assert logged_in(app, username, "Hongqiao-Lab-7").get("/admin/accounts").status_code == 200


def test_create_admin_refuses_a_weak_or_unreadable_password_file(
    shell, capsys, db, username, tmp_path
):
    weak = tmp_path / "weak"
    weak.write_text("12345678\n")
    assert (
        xuegong(["create-admin", username, "--name", "王管理", "--password-file", str(weak)]) == 1
    )
    assert "太常见" in capsys.readouterr().err
    assert stored(db, username) is None
    missing = tmp_path / "missing"
    assert (
        xuegong(["create-admin", username, "--name", "王管理", "--password-file", str(missing)])
        == 2
    )
    assert stored(db, username) is None


def test_reset_password_prints_a_new_one_time_password(shell, capsys, app, admin, db, username):
    create(admin, username)
    assert xuegong(["reset-password", username]) == 0
    password = capsys.readouterr().out.strip().splitlines()[-1]
    assert stored(db, username).must_change_password
    assert log_in(TestClient(app), username, password).status_code == 303


def test_reset_password_of_an_unknown_account_exits_1(shell, capsys):
    assert xuegong(["reset-password", "nobody-here"]) == 1
    assert "no account" in capsys.readouterr().err
