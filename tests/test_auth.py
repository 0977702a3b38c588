"""Logins: argon2 passwords, long sessions, CSRF on every form, limited failed attempts.

Failed attempts wait longer and longer per account and address; an account failing from
many addresses is slowed for everyone, never locked for its owner; argon2 runs in a few
threads of its own, never while a database connection is held.
"""

from __future__ import annotations

import itertools
import os
import threading
from datetime import timedelta

import anyio
import pytest
from sqlalchemy import delete

from server import auth, cli, demo
from server.models import LoginFailure, Role, User, UserRole
from server.settings import Settings, SettingsError
from tests.conftest import csrf_token, form_csrf, log_in, user_named

_numbers = itertools.count(1)


def new_person(db) -> User:
    """A counselor of the demo department made for one test (its failures stay its own)."""
    user = User(
        username=f"login_test_{next(_numbers)}",
        name="登录测试",
        password_hash=auth.hash_password(demo.DEMO_PASSWORD),
        department_id=user_named(db, "counselor1").department_id,
    )
    user.role_rows.append(UserRole(role=Role.counselor))
    db.add(user)
    db.commit()
    return user


def remove_person(db, user: User) -> None:
    db.execute(delete(LoginFailure).where(LoginFailure.username == user.username))
    db.execute(delete(User).where(User.id == user.id))
    db.commit()


@pytest.fixture
def person(db):
    user = new_person(db)
    yield user
    remove_person(db, user)


def age_failures(db, username: str, seconds: int) -> None:
    """As if the failures had happened `seconds` earlier."""
    for row in db.query(LoginFailure).filter_by(username=username):
        row.at = row.at - timedelta(seconds=seconds)  # in Python: SQLite has no date arithmetic
    db.commit()


def try_login(app, settings, username: str, password: str, address: str) -> User:
    return anyio.run(auth.log_in, app.state, settings, username, password, address)


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


def session_cookies_set(response) -> list[str]:
    return [c for c in response.headers.get_list("set-cookie") if c.startswith("xg_session")]


def test_an_unchanged_session_is_not_sealed_again_on_every_page(client):
    log_in(client, "counselor1")
    first = client.get("/")
    assert first.status_code == 200 and session_cookies_set(first) == []
    # the cookie the browser kept still opens the next page
    assert client.get("/week").status_code == 200
    assert "xg_session" in client.cookies


def test_a_changed_session_is_sealed_again(client):
    log_in(client, "counselor1")
    client.get("/")
    logged_out = client.post(
        "/logout", data={"_csrf_token": csrf_token(client)}, follow_redirects=False
    )
    assert any("null" in c for c in session_cookies_set(logged_out))


def test_a_session_sealed_over_a_day_ago_slides_on_its_next_use(client, monkeypatch):
    """Two months from the last day of use, not from the login: a day-old cookie is sealed
    again, with a new expiry, on the first page of the day."""
    from litestar.middleware.session import client_side

    class DayAgo:
        @staticmethod
        def time():
            return __import__("time").time() - 25 * 3600

    monkeypatch.setattr(client_side, "time", DayAgo)
    log_in(client, "counselor1")
    monkeypatch.undo()
    resealed = client.get("/")
    assert resealed.status_code == 200 and len(session_cookies_set(resealed)) == 1
    assert session_cookies_set(client.get("/week")) == []


def test_passwords_are_stored_as_argon2(db):
    assert user_named(db, "counselor1").password_hash.startswith("$argon2")


def test_wrong_password_is_refused_in_chinese(client, db):
    response = log_in(client, "teacher1", "wrong-password")
    assert response.status_code == 400
    assert "用户名或密码不正确" in response.text
    db.execute(delete(LoginFailure))
    db.commit()


def test_failed_logins_are_limited_then_even_the_right_password_waits(client, settings, person):
    for _ in range(settings.login_max_failures):
        assert log_in(client, person.username, "wrong-password").status_code == 400
    response = log_in(client, person.username)
    assert response.status_code == 429
    wait = int(response.headers["retry-after"])
    assert 20 <= wait <= auth.BACKOFF_FIRST_SECONDS  # less the seconds the tries took
    assert f"登录失败次数过多，请 {wait} 秒后再试" in response.text


def test_each_further_failure_doubles_the_wait(client, db, settings, person):
    for _ in range(settings.login_max_failures):
        log_in(client, person.username, "wrong-password")
    age_failures(db, person.username, 31)

    assert log_in(client, person.username, "wrong-password").status_code == 400  # tried again
    response = log_in(client, person.username)

    assert response.status_code == 429
    wait = int(response.headers["retry-after"])
    assert 50 <= wait <= 2 * auth.BACKOFF_FIRST_SECONDS
    assert f"请 {wait} 秒后再试" in response.text
    age_failures(db, person.username, 61)
    assert log_in(client, person.username).status_code == 303  # the wait is over


def test_the_wait_is_per_address_the_owner_elsewhere_logs_in(app, settings, person):
    for _ in range(settings.login_max_failures):
        with pytest.raises(auth.LoginRefused, match="用户名或密码不正确"):
            try_login(app, settings, person.username, "wrong-password", "203.0.113.9")
    with pytest.raises(auth.LoginRefused, match=r"请 \d+ 秒后再试"):
        try_login(app, settings, person.username, demo.DEMO_PASSWORD, "203.0.113.9")

    user = try_login(app, settings, person.username, demo.DEMO_PASSWORD, "198.51.100.20")
    assert user.id == person.id


def test_an_account_attacked_from_many_addresses_is_slowed_not_locked(app, db, settings, person):
    for n in range(auth.ACCOUNT_UNDER_ATTACK):
        with pytest.raises(auth.LoginRefused):
            try_login(app, settings, person.username, f"guess-{n}", f"203.0.113.{n + 1}")

    # the owner, from an address that never failed, waits a few seconds: not 15 minutes
    with pytest.raises(auth.LoginRefused, match=r"请 \d+ 秒后再试") as refused:
        try_login(app, settings, person.username, demo.DEMO_PASSWORD, "198.51.100.20")
    assert 0 < refused.value.retry_after <= auth.ACCOUNT_SLOW_SECONDS

    age_failures(db, person.username, auth.ACCOUNT_SLOW_SECONDS + 1)
    assert try_login(app, settings, person.username, demo.DEMO_PASSWORD, "198.51.100.20").id == (
        person.id
    )


def test_a_correct_login_forgets_the_failures_of_that_address(client, db, settings, person):
    for _ in range(settings.login_max_failures - 1):
        log_in(client, person.username, "wrong-password")
    assert log_in(client, person.username).status_code == 303
    assert db.query(LoginFailure).filter_by(username=person.username).count() == 0


class CountingHasher:
    """The suite's hasher, counting password checks; `gate` holds them until it is set."""

    def __init__(self, inner, gate: threading.Event | None = None):
        self.inner, self.gate = inner, gate
        self.checks = self.running = self.most_at_once = 0
        self.lock = threading.Lock()

    def verify(self, password_hash, password):
        with self.lock:
            self.checks += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.gate is not None:
                self.gate.wait(timeout=30)
            return self.inner.verify(password_hash, password)
        finally:
            with self.lock:
                self.running -= 1

    def __getattr__(self, name):
        return getattr(self.inner, name)


def in_parallel(n: int, fn) -> list[threading.Thread]:
    threads = [threading.Thread(target=fn, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads


def test_twelve_parallel_tries_get_only_as_many_password_checks_as_the_limit(
    client, settings, person, monkeypatch
):
    counting = CountingHasher(auth.hasher)
    monkeypatch.setattr(auth, "hasher", counting)
    token = csrf_token(client)
    statuses: list[int] = []

    def attempt(i: int) -> None:
        response = client.post(
            "/login",
            data={"username": person.username, "password": f"wrong-{i}", "_csrf_token": token},
            follow_redirects=False,
        )
        statuses.append(response.status_code)

    for t in in_parallel(12, attempt):
        t.join()

    assert counting.checks == settings.login_max_failures
    assert sorted(statuses) == [400] * 5 + [429] * 7


def test_a_flood_of_wrong_passwords_holds_no_connection_and_never_blocks_other_pages(
    app, login, monkeypatch
):
    # one client, so the flood and the page share the server's event loop
    client = login("counselor1")
    gate = threading.Event()
    counting = CountingHasher(auth.hasher, gate)
    monkeypatch.setattr(auth, "hasher", counting)
    token = client.cookies["csrftoken"]
    flood = 16

    def attempt(i: int) -> None:
        client.post(
            "/login",
            data={"username": f"nobody-{i}", "password": "wrong", "_csrf_token": token},
            follow_redirects=False,
        )

    threads = in_parallel(flood, attempt)
    busy = min(flood, os.cpu_count() or 1)
    try:
        # bounded poll: until the hashing threads are all busy and the rest wait their turn
        for _ in range(200):
            if counting.running == busy and app.state.engine.pool.checkedout() == 0:
                break
            threading.Event().wait(0.05)
        assert counting.running == busy
        # while argon2 works, no login holds a database connection …
        assert app.state.engine.pool.checkedout() == 0
        # … and other pages answer
        page = client.get("/")
        assert page.status_code == 200 and "今日" in page.text
    finally:
        gate.set()
        for t in threads:
            t.join()
        with app.state.sessionmaker() as db:
            db.execute(delete(LoginFailure).where(LoginFailure.username.like("nobody-%")))
            db.commit()
    assert counting.checks == flood
    assert counting.most_at_once <= (os.cpu_count() or 1)  # bounded, the rest queued


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


def test_logout_ends_the_session(login, person):
    # a person of its own: logging out ends every session of that person
    client = login(person.username)
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


# ---------------------------------------------------------------- the client's address


def proxied(proxies: str) -> Settings:
    return Settings.from_env(
        environ={"XUEGONG_TRUSTED_PROXIES": proxies, "XUEGONG_VAR_DIR": "/tmp"}
    )


def test_a_forwarded_for_header_is_ignored_unless_the_peer_is_a_trusted_proxy():
    assert auth.client_address("127.0.0.1", "198.51.100.7", proxied("")) == "127.0.0.1"
    assert auth.client_address("10.1.1.1", "198.51.100.7", proxied("10.0.0.5")) == "10.1.1.1"


def test_behind_a_trusted_proxy_the_last_untrusted_hop_is_the_client():
    settings = proxied("10.0.0.0/24, 127.0.0.1")
    # the client wrote "1.2.3.4" itself; the proxy appended the address it saw
    assert auth.client_address("127.0.0.1", "1.2.3.4, 198.51.100.7", settings) == "198.51.100.7"
    assert auth.client_address("10.0.0.9", "198.51.100.7, 10.0.0.3", settings) == "198.51.100.7"
    assert auth.client_address("127.0.0.1", "not-an-address", settings) == "127.0.0.1"
    assert auth.client_address("127.0.0.1", None, settings) == "127.0.0.1"


def test_a_rotating_forwarded_for_does_not_escape_the_limit(client, settings, person):
    for n in range(settings.login_max_failures):
        page = client.get("/login")
        client.post(
            "/login",
            data={
                "username": person.username,
                "password": "wrong",
                "_csrf_token": form_csrf(page.text),
            },
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": person.username,
            "password": demo.DEMO_PASSWORD,
            "_csrf_token": form_csrf(page.text),
        },
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    assert response.status_code == 429


def test_trusted_proxies_must_be_addresses():
    with pytest.raises(SettingsError, match="XUEGONG_TRUSTED_PROXIES"):
        proxied("proxy.college.example")


def test_xuegong_run_lets_uvicorn_trust_no_proxy_header(monkeypatch, tmp_path):
    import uvicorn

    monkeypatch.setenv("XUEGONG_VAR_DIR", str(tmp_path))
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    assert cli.main(["run"]) == 0
    # X-Forwarded-For is believed from XUEGONG_TRUSTED_PROXIES only (none by default)
    assert seen["proxy_headers"] is False

    monkeypatch.setenv("XUEGONG_TRUSTED_PROXIES", "10.0.0.5")
    assert cli.main(["run"]) == 0
    assert seen["proxy_headers"] is True
    assert seen["forwarded_allow_ips"] == "10.0.0.5/32"


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
