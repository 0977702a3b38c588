"""Sessions end on the server: logout, a password change and "log out everywhere" bump the
user's session epoch; CSRF tokens belong to one session and are new at every login."""

from __future__ import annotations

import itertools

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, select

from server import accounts, demo
from server.app import create_app
from server.auth import hash_password, password_matches
from server.models import LoginFailure, Role, User, UserRole
from server.settings import Settings
from tests.conftest import TEST_SECRET, form_csrf, log_in, user_named

_numbers = itertools.count(1)


@pytest.fixture
def person(db):
    """A counselor of the demo department made for one test (tests change its password)."""
    username = f"session_test_{next(_numbers)}"
    user = User(
        username=username,
        name="会话测试",
        password_hash=hash_password(demo.DEMO_PASSWORD),
        department_id=user_named(db, "counselor1").department_id,
    )
    user.role_rows.append(UserRole(role=Role.counselor))
    db.add(user)
    db.commit()
    yield user
    db.execute(delete(LoginFailure).where(LoginFailure.username == username))
    db.execute(delete(User).where(User.id == user.id))
    db.commit()


def logged_in(app, username: str, password: str = demo.DEMO_PASSWORD) -> TestClient:
    """Another phone: a client of its own (not entered: the app's lifespan runs once, in the
    `client` fixture or here per request)."""
    client = TestClient(app)
    assert log_in(client, username, password).status_code == 303
    return client


def is_logged_in(client: TestClient) -> bool:
    response = client.get("/", follow_redirects=False)
    return response.status_code == 200


def post(client: TestClient, path: str, data: dict | None = None):
    return client.post(
        path,
        data={**(data or {}), "_csrf_token": client.cookies["csrftoken"]},
        follow_redirects=False,
    )


def replace_cookie(client: TestClient, name: str, value: str) -> None:
    client.cookies.delete(name)
    client.cookies.set(name, value)


def epoch_of(db, user: User) -> int:
    db.expire_all()
    return db.scalar(select(User.session_epoch).where(User.id == user.id))


# ---------------------------------------------------------------- logout


def test_a_copied_session_cookie_stops_working_after_logout(app, person):
    phone = logged_in(app, person.username)
    copied = phone.cookies["xg_session"]

    assert post(phone, "/logout").status_code == 303

    with TestClient(app) as thief:
        thief.cookies.set("xg_session", copied)
        assert not is_logged_in(thief)


def test_logout_on_one_phone_logs_the_person_out_on_the_other(app, person):
    first, second = logged_in(app, person.username), logged_in(app, person.username)

    post(first, "/logout")

    assert not is_logged_in(second)
    assert logged_in(app, person.username)  # logging in again works


def test_log_out_everywhere_ends_every_session_of_that_person_only(app, db, person):
    phone = logged_in(app, person.username)
    other = logged_in(app, "teacher1")
    before = epoch_of(db, person)

    accounts.end_sessions(db, person)
    db.commit()

    assert epoch_of(db, person) == before + 1
    assert not is_logged_in(phone)
    assert is_logged_in(other)


# ---------------------------------------------------------------- password change


def test_every_user_finds_the_password_page_in_the_menu(app):
    for username in ("counselor1", "teacher1", "leader1", "office1", "admin"):
        client = logged_in(app, username)
        assert 'href="/account/password"' in client.get("/").text
        page = client.get("/account/password")
        assert page.status_code == 200 and "修改密码" in page.text


def test_the_password_page_needs_a_login(client):
    response = client.get("/account/password", follow_redirects=False)
    assert response.headers["location"].startswith("/login")


def test_changing_the_password_logs_out_the_other_phones_but_not_this_one(app, db, person):
    this, other = logged_in(app, person.username), logged_in(app, person.username)

    response = post(
        this,
        "/account/password/change",
        {
            "current_password": demo.DEMO_PASSWORD,
            "new_password": "宿舍走廊-2026",
            "new_password_again": "宿舍走廊-2026",
        },
    )

    assert response.status_code == 303
    assert "密码已修改" in this.get(response.headers["location"]).text
    assert is_logged_in(this)
    assert not is_logged_in(other)
    db.expire_all()
    assert password_matches(user_named(db, person.username).password_hash, "宿舍走廊-2026")
    assert log_in(TestClient(app), person.username).status_code == 400  # the old one is gone
    # the page drawn after the change carries a token of the new session: logout works
    assert post(this, "/logout").status_code == 303


@pytest.mark.parametrize(
    "current, new, again, reason",
    [
        ("wrong-password", "宿舍走廊-2026", "宿舍走廊-2026", "当前密码不正确"),
        (demo.DEMO_PASSWORD, "short7!", "short7!", "至少需要 8 个字符"),
        (demo.DEMO_PASSWORD, "12345678", "12345678", "太常见"),
        (demo.DEMO_PASSWORD, "Password", "Password", "太常见"),
        (demo.DEMO_PASSWORD, "宿舍走廊-2026", "宿舍走廊-2027", "两次输入的新密码不一致"),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app, db, person, current, new, again, reason
):
    phone = logged_in(app, person.username)
    before = (user_named(db, person.username).password_hash, epoch_of(db, person))

    response = post(
        phone,
        "/account/password/change",
        {"current_password": current, "new_password": new, "new_password_again": again},
    )

    assert response.status_code == 400
    assert reason in response.text
    db.expire_all()
    assert (user_named(db, person.username).password_hash, epoch_of(db, person)) == before
    assert is_logged_in(phone)


def test_the_new_password_may_not_be_the_username(db, person):
    with pytest.raises(accounts.PasswordRefused, match="不能与用户名相同"):
        accounts.change_password(db, person, demo.DEMO_PASSWORD, person.username.upper())


# ---------------------------------------------------------------- CSRF bound to the session


def test_a_csrf_token_of_another_session_is_refused(app):
    attacker = logged_in(app, "teacher1")
    victim = logged_in(app, "counselor1")
    planted = attacker.cookies["csrftoken"]
    # an attacker who can set the victim's csrftoken cookie (a sibling subdomain, a
    # shared phone) and knows its value still cannot post as the victim
    replace_cookie(victim, "csrftoken", planted)

    response = victim.post("/logout", data={"_csrf_token": planted}, follow_redirects=False)

    assert response.status_code == 403
    assert "表单已过期" in response.text


def test_the_csrf_token_is_new_at_login_and_the_old_one_is_refused(app, person):
    with TestClient(app) as client:
        page = client.get("/login")
        before = form_csrf(page.text)
        response = client.post(
            "/login",
            data={
                "username": person.username,
                "password": demo.DEMO_PASSWORD,
                "_csrf_token": before,
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        after = client.cookies["csrftoken"]
        assert after != before

        replace_cookie(client, "csrftoken", before)
        refused = client.post("/logout", data={"_csrf_token": before}, follow_redirects=False)
        assert refused.status_code == 403
        client.cookies.delete("csrftoken")

        # a page drawn in the new session hands out the session's own token, which works
        page = client.get("/records/new/talk")
        token = form_csrf(page.text)
        assert token != before
        assert (
            client.post("/logout", data={"_csrf_token": token}, follow_redirects=False).status_code
            == 303
        )


def test_an_htmx_post_with_the_token_in_the_header_still_works(login, person):
    client = login(person.username)
    response = client.post(
        "/logout",
        headers={"x-csrftoken": client.cookies["csrftoken"], "HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 303


# ---------------------------------------------------------------- cookies


def https_app(settings: Settings):
    return create_app(
        Settings.from_env(
            environ={
                "XUEGONG_DATABASE_URL": settings.database_url,
                "XUEGONG_SECRET_KEYS": TEST_SECRET,
                "XUEGONG_VAR_DIR": str(settings.var_dir),
                "XUEGONG_BASE_URL": "https://xg.college.example",
            }
        )
    )


def test_cookies_are_http_only_lax_and_secure_behind_https(settings):
    with TestClient(https_app(settings), base_url="https://xg.college.example") as client:
        page = client.get("/login")
        csrf_cookie = page.headers["set-cookie"].lower()
        assert "secure" in csrf_cookie and "samesite=lax" in csrf_cookie
        response = log_in(client, "counselor1")
        cookies = [c.lower() for c in response.headers.get_list("set-cookie")]
        session = next(c for c in cookies if c.startswith("xg_session="))
        assert "httponly" in session and "samesite=lax" in session and "secure" in session
        rotated = next(c for c in cookies if c.startswith("csrftoken="))
        assert "secure" in rotated and "samesite=lax" in rotated
