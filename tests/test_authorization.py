"""Each role × each page: who gets the page, who gets 403, who is sent to log in."""

import pytest
from litestar.testing import TestClient

from server.models import Room
from tests.conftest import log_in, room_outside_scope, rooms_of_students_of

OK, FORBIDDEN, LOGIN, EXPIRED = 200, 403, "login", 401
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
    "/healthz": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK),
    # the offline shell: readable without a session, so a phone whose login expired still opens it
    "/outbox": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK),
    "/offline": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK),
    "/offline/door": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK),
    "/offline/saved": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=OK),
    "/rounds/plan": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=LOGIN),
    # JSON for phones: an expired login is 401, never a redirect to a page
    "/sync/pull": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=EXPIRED),
    "/sync/conflicts": dict(admin=OK, office1=OK, leader1=OK, counselor1=OK, teacher1=OK, anonymous=EXPIRED),
}

CASES = [(path, person) for path in TABLE for person in PEOPLE]


@pytest.fixture(scope="module")
def places(sessionmaker):
    with sessionmaker() as db:
        own = rooms_of_students_of(db, "teacher1")[0]
        foreign = room_outside_scope(db, "teacher1")
        return {"own_room": own, "foreign_room": foreign, "building": db.get(Room, own).building_id}


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
        for p in TABLE
    }
    assert pages <= covered, pages - covered
