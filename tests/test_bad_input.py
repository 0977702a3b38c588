"""Bad input outside a record's payload gets a 4xx with a Chinese reason, never a 500
(issue 9, point 3): ids beyond the column, dates at the ends of the calendar, deep JSON,
control characters, a field posted twice, Unicode digits, OPTIONS, a tampered session
cookie, a NUL in the path. Nothing already saved changes."""

from __future__ import annotations

import re
import uuid
from base64 import b64encode
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.clock import today
from server.models import ClassCourse, SchoolClass, StaffLeave, WeekReview
from tests.conftest import csrf_token, form_csrf, log_in, user_named

PG_INT = 2**31  # one past PostgreSQL INTEGER
SQLITE_INT = 2**63  # one past SQLite's 64-bit integers
HAN = re.compile(r"[\u4e00-\u9fff]")


def assert_refused(response, *, reason: str = "") -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert HAN.search(response.text), response.text[:300]
    assert reason in response.text, response.text[:500]


def post_form(client, url: str, fields: dict) -> object:
    """A form post with the CSRF token; a list value posts that field once per item."""
    return client.post(
        url, data={"_csrf_token": csrf_token(client), **fields}, follow_redirects=False
    )


# ---------------------------------------------------------------- ids beyond the column

GET_WITH_IDS = [
    ("counselor1", "/sync/pull?since={n}"),
    ("counselor1", "/log?staff={n}"),
    ("counselor1", "/log?student={n}"),
    ("counselor1", "/log.xlsx?staff={n}"),
    ("counselor1", "/records/new/talk?student={n}"),
    ("counselor1", "/classes/{n}/attendance"),
    ("counselor1", "/classes/{n}/attendance/new"),
    ("counselor1", "/classes/{n}/course-roles"),
    ("counselor1", "/classes/1/course-roles/{n}"),
    ("counselor1", "/rooms/{n}/visit"),
    ("counselor1", "/duty/shifts/{n}/swap"),
    ("leader1", "/department/rules?department={n}"),
    ("leader1", "/duty/roster?department={n}"),
    ("admin", "/labels/{n}"),
]


@pytest.mark.parametrize("number", [PG_INT, SQLITE_INT], ids=["2^31", "2^63"])
@pytest.mark.parametrize(("username", "url"), GET_WITH_IDS, ids=[u for _, u in GET_WITH_IDS])
def test_an_id_beyond_the_column_in_a_query_or_path_is_refused(login, username, url, number):
    if "since" in url and number == PG_INT:
        number = SQLITE_INT  # entries.seq is a BIGINT: 2^31 is a fine change number
    client = login(username)
    assert_refused(client.get(url.format(n=number)))


POSTS_WITH_IDS = [
    ("counselor1", "/sync/conflicts/{n}/resolve", None),
    ("leader1", "/leave/{n}/decide", {"decision": "approve"}),
    ("counselor1", "/duty/swaps/{n}/answer", {"answer": "accept"}),
    ("leader1", "/duty/swaps/{n}/decide", {"decision": "approve"}),
    ("counselor1", "/duty/swaps", {"shift_id": "{n}", "colleague_id": "{n}"}),
    ("leader1", "/log/reviews", {"staff": "{n}", "week": "2026-11-30", "comment": "好"}),
    ("leader1", "/department/rules/save", {"department_id": "{n}"}),
    ("leader1", "/duty/roster/draft", {"department_id": "{n}", "start": "2026-12-07"}),
    ("counselor1", "/classes/1/course-roles/1/save", {"representative": "{n}"}),
]


@pytest.mark.parametrize("number", [PG_INT, SQLITE_INT], ids=["2^31", "2^63"])
@pytest.mark.parametrize(
    ("username", "url", "fields"), POSTS_WITH_IDS, ids=[u for _, u, _ in POSTS_WITH_IDS]
)
def test_an_id_beyond_the_column_in_a_path_or_form_is_refused(login, username, url, fields, number):
    client = login(username)
    url = url.format(n=number)
    if fields is None:
        response = client.post(url, json={"keep": "server"})
    else:
        response = post_form(client, url, {k: v.format(n=number) for k, v in fields.items()})
    assert_refused(response)


@pytest.mark.parametrize(
    ("field", "value"), [("mutation_no", SQLITE_INT), ("base_revision", PG_INT)]
)
def test_a_push_with_numbers_beyond_their_columns_is_refused(login, field, value):
    client = login("counselor1")
    mutation = {"id": str(uuid.uuid4()), "op": "update", "kind": "talk", "mutation_no": 1,
                "payload": {}, "base_revision": 1, field: value}  # fmt: skip
    response = client.post("/sync/push", json={"device_id": "phone-1", "mutations": [mutation]})
    assert response.status_code == 422
    assert HAN.search(response.json()["detail"])


def test_a_wrong_entry_id_in_the_path_is_not_found(login):
    client = login("counselor1")
    for url in ("/entries/not-a-uuid/edit", "/entries/12345/history"):
        assert_refused(client.get(url))


# ---------------------------------------------------------------- dates at the ends


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("counselor1", "/log?week={d}"),
        ("counselor1", "/log.xlsx?start={d}&end={d}"),
        ("counselor1", "/duty?week={d}"),
        ("counselor1", "/duty/roster.xlsx?start={d}&end={d}"),
        ("leader1", "/duty/roster?start={d}"),
        ("leader1", "/department/week?day={d}"),
    ],
)
def test_a_date_at_the_end_of_the_calendar_in_a_query_is_refused(login, username, url, day):
    client = login(username)
    assert_refused(client.get(url.format(d=day)), reason="2099-12-31")


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_leave_at_the_end_of_the_calendar_is_refused_and_not_saved(login, db, day):
    client = login("counselor1")
    before = db.scalar(select(func.count()).select_from(StaffLeave))
    response = post_form(client, "/leave/requests", {"start": day, "end": day, "reason": "探亲"})
    assert_refused(response, reason="2099-12-31")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(StaffLeave)) == before


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-25"])
def test_a_roster_at_the_end_of_the_calendar_is_refused(login, db, day):
    client = login("leader1")
    leader = user_named(db, "leader1")
    fields = {"department_id": str(leader.department_id), "start": day, "end": day,
              "slots": "morning"}  # fmt: skip
    assert_refused(post_form(client, "/duty/roster/draft", fields), reason="2099-12-31")
    fields = {"staff": str(user_named(db, "counselor1").id), "week": day}
    assert_refused(post_form(client, "/log/reviews", fields), reason="2099")


# ---------------------------------------------------------------- JSON nested deep


@pytest.mark.parametrize("url", ["/sync/push", "/sync/conflicts/1/resolve"])
def test_json_nested_a_thousand_deep_is_refused_before_decoding(login, url):
    client = login("counselor1")
    deep = b'{"device_id": "phone-1", "mutations": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    response = client.post(url, content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "嵌套" in response.json()["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting(login):
    client = login("counselor1")
    body = {"device_id": "phone-1", "mutations": [], "note": "[" * 1000}
    response = client.post("/sync/push", json=body)
    assert response.status_code == 200, response.text


# ---------------------------------------------------------------- control characters


def test_a_nul_in_a_leave_reason_is_refused_with_a_reason(login, db):
    client = login("counselor1")
    start = (today() + timedelta(days=40)).isoformat()
    before = db.scalar(select(func.count()).select_from(StaffLeave))
    response = post_form(
        client, "/leave/requests", {"start": start, "end": start, "reason": "探亲\x00"}
    )
    assert_refused(response, reason="NUL")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(StaffLeave)) == before


def test_the_controls_excel_cannot_store_are_removed_from_a_leave_reason(login, db):
    client = login("counselor1")
    start = (today() + timedelta(days=41)).isoformat()
    response = post_form(
        client, "/leave/requests", {"start": start, "end": start, "reason": "回\x0b家\x1f探亲"}
    )
    assert response.status_code == 303, response.text[:300]
    db.rollback()
    assert (
        db.scalar(select(StaffLeave.reason).order_by(StaffLeave.id.desc()).limit(1)) == "回家探亲"
    )


def test_a_review_comment_keeps_no_control_characters(login, db):
    client = login("leader1")
    counselor = user_named(db, "counselor1")
    fields = {"staff": str(counselor.id), "week": "2025-03-03", "comment": "完整\x0b，继续\x07"}
    assert post_form(client, "/log/reviews", fields).status_code == 303
    db.rollback()
    comment = db.scalar(select(WeekReview.comment).order_by(WeekReview.id.desc()).limit(1))
    assert comment == "完整，继续"
    assert_refused(post_form(client, "/log/reviews", {**fields, "comment": "a\x00"}), reason="NUL")


@pytest.mark.parametrize(
    ("username", "url", "fields"),
    [
        (None, "/login", {"username": "counselor1\x00", "password": "x"}),
        ("leader1", "/department/rules/save", {"cadence_special": "7\x00"}),
        (
            "leader1",
            "/duty/roster/draft",
            {"start": "2026-12-07", "end": "2026-12-13", "holidays": "2026-12-08\x00"},
        ),  # fmt: skip
        ("leader1", "/duty/windows", {"morning_starts": "06:30\x00"}),
        ("counselor1", "/duty/swaps", {"shift_id": "1", "note": "换\x00班"}),
    ],
)
def test_a_nul_in_a_form_is_refused(client, login, db, username, url, fields):
    if username:
        login(username)
        fields = {"department_id": str(user_named(db, username).department_id), **fields}
    response = post_form(client, url, fields)
    assert_refused(response)
    assert "NUL" in response.text or "无法识别" in response.text or "找不到" in response.text


# ---------------------------------------------------------------- a field twice, odd digits


def test_an_anonymous_login_with_the_username_twice_is_refused(client):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "_csrf_token": form_csrf(page.text),
            "username": ["counselor1", "teacher1"],
            "password": "demo1234",
        },  # fmt: skip
        follow_redirects=False,
    )
    assert_refused(response, reason="只能有一个值")
    assert "xg_session" not in response.cookies


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/log/reviews", {"staff": ["1", "2"], "week": "2025-03-03"}),
        ("/leave/requests", {"start": ["2026-12-20", "2026-12-21"], "reason": "x"}),
        ("/department/rules/save", {"cadence_key": ["7", "8"]}),
    ],
)
def test_a_field_posted_twice_is_refused(login, url, fields):
    client = login("leader1")
    assert_refused(post_form(client, url, fields), reason="只能有一个值")


@pytest.mark.parametrize("digits", ["²", "٣", "３", "1²"])
def test_unicode_digits_are_not_an_id(login, db, digits):
    client = login("leader1")
    counselor = user_named(db, "counselor1")
    assert_refused(client.get(f"/log?staff={digits}"))
    before = db.scalar(select(func.count()).select_from(WeekReview))
    fields = {"staff": digits, "week": "2025-03-03", "comment": "好"}
    assert_refused(post_form(client, "/log/reviews", fields))
    assert_refused(post_form(client, "/department/rules/save", {"department_id": digits}))
    assert_refused(
        post_form(
            client,
            "/department/rules/save",
            {
                "department_id": str(counselor.department_id),
                "cadence_special": digits,
                "cadence_key": digits,
                "cadence_general": digits,
            },
        )  # fmt: skip
    )
    db.rollback()
    assert db.scalar(select(func.count()).select_from(WeekReview)) == before


def test_unicode_digits_are_not_a_course_role(login, db):
    counselor = user_named(db, "counselor1")
    class_id, course_id = db.execute(
        select(ClassCourse.class_id, ClassCourse.course_id)
        .join(SchoolClass, SchoolClass.id == ClassCourse.class_id)
        .where(SchoolClass.counselor_id == counselor.id)
        .limit(1)
    ).one()
    client = login("counselor1")
    url = f"/classes/{class_id}/course-roles/{course_id}/save"
    for fields in ({"representative": "²"}, {"group_leaders": ["1", "٣"]}):
        assert_refused(post_form(client, url, fields))


# ---------------------------------------------------------------- the request itself


@pytest.mark.parametrize("url", ["/sync/push", "/sync/pull", "/sync/conflicts"])
def test_options_on_sync_is_refused_not_a_crash(client, login, url):
    assert client.options(url).status_code == 405
    login("counselor1")
    response = client.options(url)
    assert response.status_code == 405
    assert HAN.search(response.json()["detail"])


AAD = b"additional_authenticated_data="  # Litestar's marker for the cookie's clear-text part


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        b64encode(b"n" * 12 + b"sealed" + AAD + b"{not json").decode(),
        b64encode(b"n" * 12 + b"sealed" + AAD + b'{"uid": 1}').decode(),
        b64encode(b"n" * 12 + b"sealed" + AAD + b'{"expires_at": "later"}').decode(),
        b64encode(b"n" * 12 + b"sealed" + AAD + b'{"expires_at": 99999999999}').decode(),
    ],
    ids=["garbage", "bad-json", "no-expiry", "text-expiry", "forged"],
)
def test_a_tampered_session_cookie_means_logged_out(client, cookie):
    client.cookies.set("xg_session", cookie)
    assert client.get("/login").status_code == 200
    response = client.get("/records", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login")


def test_a_session_cookie_with_a_changed_byte_means_logged_out(client):
    assert log_in(client, "counselor1").status_code == 303
    sealed = client.cookies["xg_session"]
    client.cookies.set(
        "xg_session", sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    )
    response = client.get("/records", follow_redirects=False)
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("url", ["/static/%00", "/static/app.css%00.js", "/d/%00"])
def test_a_nul_in_the_path_is_not_found(login, url):
    response = login("counselor1").get(url)
    assert response.status_code == 404
