"""Each role × each page: who gets the page, who gets 403, who is sent to log in."""

from datetime import UTC, datetime

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from server.clock import today
from server.models import ClassCourse, DutyShift, Room, SchoolClass, Student
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import log_in, room_outside_scope, rooms_of_students_of, user_named
from tests.test_worklog import record_visit

OK, FORBIDDEN, LOGIN, EXPIRED, NOT_FOUND = 200, 403, "login", 401, 404
PEOPLE = ["admin", "office1", "leader1", "counselor1", "teacher1", None]

# path template → expected answer per person (None = not logged in)
TABLE = {
    "/": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN),
    "/records": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN),
    "/rooms/{own_room}/visit": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN
    ),
    "/rooms/{foreign_room}/visit": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    # 找宿舍: everyone searches; the results list only rooms in scope (tests/test_rooms.py)
    "/rooms/find": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN
    ),
    "/rooms/find/results": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN
    ),
    # the installed app: the browser fetches the manifest and icons without cookies, the
    # install page is read before logging in, the scanner page is in the offline shell
    "/manifest.webmanifest": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK
    ),
    "/icons/{icon}": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK
    ),
    "/install": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK),
    "/scan": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK),
    # the guideline's records (server/records.py): forms for everyone who writes records
    "/records/new/{record_kind}": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN
    ),
    "/records/new/nonsense": dict(
        admin=NOT_FOUND,
        office1=NOT_FOUND,
        leader1=NOT_FOUND,
        counselor1=NOT_FOUND,
        teacher1=NOT_FOUND,
        anonymous=LOGIN,
    ),  # fmt: skip
    "/week": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN),
    "/due": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN),
    "/leave": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN),
    "/department/leave": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=FORBIDDEN, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    "/department/rules": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=FORBIDDEN, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    "/department/week": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=FORBIDDEN, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    # keeping the data current: leaders their department's classes, admins everything; a
    # student's contact grade and guardians by their counselor or class teacher
    "/admin/classes": dict(
        admin=OK,
        office1=FORBIDDEN,
        leader1=OK,
        counselor1=FORBIDDEN,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),  # fmt: skip
    "/admin/buildings": dict(
        admin=OK,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=FORBIDDEN,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),  # fmt: skip
    "/admin/buildings/{building}": dict(
        admin=OK,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=FORBIDDEN,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),  # fmt: skip
    "/students/{own_student}/data": dict(
        admin=OK,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=OK,
        teacher1=OK,
        anonymous=LOGIN,
    ),  # fmt: skip
    "/students/{foreign_student}/data": dict(
        admin=OK,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=OK,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),  # fmt: skip
    "/admin/semesters": dict(
        admin=OK,
        office1=OK,
        leader1=FORBIDDEN,
        counselor1=FORBIDDEN,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),  # fmt: skip
    # 工作记录: everyone reads their own log; leaders (their department), office and admin
    # another person's; an entry's history is for whoever may read the entry
    "/log": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN),
    "/log?staff={counselor1}": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    "/log.xlsx": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN
    ),
    "/log.xlsx?staff={counselor1}": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    "/entries/{counselor1_entry}/history": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    # only the author edits a record (leaders read, never change, §1.4); visits have no edit form
    "/entries/{counselor1_talk}/edit": dict(
        admin=FORBIDDEN,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=OK,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),  # fmt: skip
    "/entries/{counselor1_entry}/edit": dict(
        admin=FORBIDDEN,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=NOT_FOUND,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),  # fmt: skip
    "/department/records": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=FORBIDDEN, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    "/escalations": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=FORBIDDEN, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    "/labels": dict(
        admin=OK,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=FORBIDDEN,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),
    "/labels/{building}": dict(
        admin=OK,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=FORBIDDEN,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),
    # 检查上课: the class teacher and the counselor record checks; leaders, office and admin
    # read a class's history. counselor1 covers every class of the small demo college.
    "/attendance": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN
    ),
    "/classes/{own_class}/attendance/new": dict(
        admin=FORBIDDEN,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=OK,
        teacher1=OK,
        anonymous=LOGIN,
    ),
    "/classes/{foreign_class}/attendance/new": dict(
        admin=FORBIDDEN,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=OK,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),
    "/classes/{own_class}/attendance": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN
    ),
    "/classes/{foreign_class}/attendance": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    "/classes/{own_class}/course-roles": dict(
        admin=FORBIDDEN,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=OK,
        teacher1=OK,
        anonymous=LOGIN,
    ),
    "/classes/{foreign_class}/course-roles/{foreign_course}": dict(
        admin=FORBIDDEN,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=OK,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),
    # 值班: everyone reads the roster and prints it; leaders build it and see missed rounds;
    # only the person on a shift asks to swap it
    "/duty": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN),
    "/duty/roster.xlsx": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN
    ),
    "/duty/roster": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=FORBIDDEN, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    "/duty/missed": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=FORBIDDEN, teacher1=FORBIDDEN, anonymous=LOGIN
    ),
    "/duty/shifts/{counselor1_shift}/swap": dict(
        admin=FORBIDDEN,
        office1=FORBIDDEN,
        leader1=FORBIDDEN,
        counselor1=OK,
        teacher1=FORBIDDEN,
        anonymous=LOGIN,
    ),
    "/healthz": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK),
    # the offline shell: readable without a session, so a phone whose login expired still opens it
    "/outbox": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK),
    "/offline": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK),
    "/offline/door": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK
    ),
    "/offline/saved": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK
    ),
    "/rounds/plan": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN
    ),
    # JSON for phones: an expired login is 401, never a redirect to a page
    "/sync/pull": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=EXPIRED
    ),
    "/sync/conflicts": dict(
        admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=EXPIRED
    ),
}

CASES = [(path, person) for path in TABLE for person in PEOPLE]


@pytest.fixture(scope="module")
def places(sessionmaker):
    with sessionmaker() as db:
        own = rooms_of_students_of(db, "teacher1")[0]
        foreign = room_outside_scope(db, "teacher1")
        classes = {
            c.class_teacher_id == user_named(db, "teacher1").id: c
            for c in db.scalars(select(SchoolClass).order_by(SchoolClass.id))
        }
        foreign_course = db.scalar(
            select(ClassCourse.course_id).where(ClassCourse.class_id == classes[False].id).limit(1)
        )
        return {
            "own_room": own,
            "foreign_room": foreign,
            "building": db.get(Room, own).building_id,
            "icon": "icon-192.png",
            "record_kind": "talk",
            "own_class": classes[True].id,
            "foreign_class": classes[False].id,
            "foreign_course": foreign_course,
            "own_student": db.scalar(
                select(Student.id).where(Student.class_id == classes[True].id).limit(1)
            ),
            "foreign_student": db.scalar(
                select(Student.id).where(Student.class_id == classes[False].id).limit(1)
            ),
            "counselor1_shift": db.scalar(
                select(DutyShift.id)
                .where(DutyShift.staff_id == user_named(db, "counselor1").id)
                .where(DutyShift.date == today())
                .order_by(DutyShift.id)
            ),
            "counselor1": user_named(db, "counselor1").id,
            "counselor1_entry": record_visit(db, "counselor1", datetime.now(UTC)),
            "counselor1_talk": record_talk(db, "counselor1"),
        }


def record_talk(db, username: str):
    """A talk by this person with the first student of their classes."""
    user = user_named(db, username)
    student = db.scalar(
        select(Student.id)
        .join(SchoolClass)
        .where(SchoolClass.counselor_id == user.id)
        .order_by(Student.id)
        .limit(1)
    )
    entry_id = new_entry_id()
    payload = {"student_ids": [student], "category": "study", "summary": "学习计划"}
    mutation = merge.Mutation(id=entry_id, op="create", kind="talk", payload=payload)
    assert merge.apply(db, user, mutation).status == "applied"
    db.commit()
    return entry_id


@pytest.fixture(scope="module")
def as_person(app):
    """as_person("leader1") → the one test client, carrying that person's session cookies."""
    with TestClient(app) as client:
        jars = {}
        for person in PEOPLE:
            client.cookies.clear()
            if person:
                assert log_in(client, person).status_code == 303
            jars[person] = dict(client.cookies)

        def switch(person):
            client.cookies.clear()
            client.cookies.update(jars[person])
            return client

        yield switch


@pytest.mark.parametrize(
    "path, person", CASES, ids=[f"{p} as {w or 'anonymous'}" for p, w in CASES]
)
def test_who_may_open_what(as_person, places, path, person):
    expected = TABLE[path][person or "anonymous"]
    response = as_person(person).get(path.format(**places), follow_redirects=False)
    if expected == LOGIN:
        assert response.status_code in (302, 303, 307)
        assert response.headers["location"].startswith("/login?next=")
    else:
        assert response.status_code == expected, response.text[:300]
    if expected == FORBIDDEN:
        assert "没有权限" in response.text


def test_the_table_covers_every_page_route(app):
    pages = {
        r.path
        for r in app.routes
        if "GET" in r.methods
        and r.path not in ("/login", "/sw.js", "/d/{token:str}")
        and not r.path.startswith(("/static", "/schema"))
    }
    covered = {
        p.replace("{own_room}", "{room_id:int}")
        .replace("{foreign_room}", "{room_id:int}")
        .replace("{building}", "{building_id:int}")
        .replace("{icon}", "{file:str}")
        .replace("{record_kind}", "{kind_name:str}")
        .replace("{own_class}", "{class_id:int}")
        .replace("{foreign_class}", "{class_id:int}")
        .replace("{foreign_course}", "{course_id:int}")
        .replace("{own_student}", "{student_id:int}")
        .replace("{foreign_student}", "{student_id:int}")
        .replace("{counselor1_shift}", "{shift_id:int}")
        .replace("{counselor1_entry}", "{entry_id:uuid}")
        .replace("{counselor1_talk}", "{entry_id:uuid}")
        for p in TABLE
    }
    assert pages <= covered, pages - covered


def test_the_menu_leads_to_my_week_and_to_leave(login):
    home = login("counselor1").get("/")
    assert 'href="/week"' in home.text and 'href="/leave"' in home.text
