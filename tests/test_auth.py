"""Logins: argon2 passwords, long sessions, CSRF on every form, limited failed attempts."""

from sqlalchemy import delete

from server.models import LoginFailure
from tests.conftest import form_csrf, log_in, user_named


def test_login_page_is_in_chinese(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录学工随行" in page.text
    assert 'lang="zh-CN"' in page.text


def test_counselor_logs_in_and_lands_on_today(client):
    response = log_in(client, "counselor1")
    assert response.status_code == 303
    home = client.get("/")
    assert "今日" in home.text and "我的值班" in home.text


def test_the_session_cookie_lasts_weeks_and_is_http_only(client):
    response = log_in(client, "counselor1")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    max_age = int(cookie.split("max-age=")[1].split(";")[0])
    assert max_age >= 28 * 24 * 3600


def test_passwords_are_stored_as_argon2(db):
    assert user_named(db, "counselor1").password_hash.startswith("$argon2")


def test_wrong_password_is_refused_in_chinese(client, db):
    response = log_in(client, "teacher1", "wrong-password")
    assert response.status_code == 400
    assert "用户名或密码不正确" in response.text
    db.execute(delete(LoginFailure))
    db.commit()


def test_failed_logins_are_limited_then_even_the_right_password_waits(client, db, settings):
    for _ in range(settings.login_max_failures):
        log_in(client, "leader1", "wrong-password")
    response = log_in(client, "leader1")
    assert response.status_code == 400
    assert "登录失败次数过多" in response.text
    db.execute(delete(LoginFailure))
    db.commit()


def test_after_login_the_user_goes_back_where_they_were_going(client):
    page = client.get("/login?next=/records")
    response = client.post(
        "/login",
        data={
            "username": "counselor1",
            "password": "demo1234",
            "next": "/records",
            "_csrf_token": form_csrf(page.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/records"


def test_login_never_redirects_off_site(client):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "counselor1",
            "password": "demo1234",
            "next": "//evil.example/x",
            "_csrf_token": form_csrf(page.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_a_form_post_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "counselor1", "password": "demo1234"})
    assert response.status_code == 403
    assert "表单已过期" in response.text


def test_logout_ends_the_session(login):
    client = login("counselor1")
    client.post("/logout", data={"_csrf_token": client.cookies["csrftoken"]})
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login")


def test_bumping_the_session_epoch_logs_out_every_phone(login, db):
    client = login("teacher1")
    user = user_named(db, "teacher1")
    user.session_epoch += 1
    db.commit()
    try:
        assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    finally:
        user.session_epoch -= 1
        db.commit()


def test_pages_need_a_login(client):
    response = client.get("/records", follow_redirects=False)
    assert response.headers["location"] == "/login?next=%2Frecords"


def test_the_app_hashes_passwords_at_production_cost():
    """The suite swaps in the cheapest argon2 parameters (tests/conftest.py); the app's own
    hasher stays at RFC 9106's low-memory profile: 64 MiB, three passes, four lanes."""
    from argon2.profiles import RFC_9106_LOW_MEMORY

    from tests.conftest import PRODUCTION_HASHER

    production = (PRODUCTION_HASHER.time_cost, PRODUCTION_HASHER.memory_cost,
                  PRODUCTION_HASHER.parallelism)  # fmt: skip
    profile = RFC_9106_LOW_MEMORY
    assert production == (profile.time_cost, profile.memory_cost, profile.parallelism)
    assert "$m=65536,t=3,p=4$" in PRODUCTION_HASHER.hash("demo1234")
