"""Least privilege for sensitive notes (server/scope.py): a talk's content, a visit's talk
notes and concern, an escalation's note are read by the author, the leader of the entry's
department and the student affairs office — not by admin, who sees that the record exists
(kind, date, students) without its content, and not by another department."""

import re
import uuid
from datetime import UTC, datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server import scope
from server.models import Entry, Role, SchoolClass, Student, User, UserRole
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import rooms_of_students_of, user_named
from tests.other_department import other_department, signed_in
from tests.sync_helpers import pull_all

HIDDEN = "谈话内容仅填写人、本系部负责人和学工部可见"


def a_student_of(db, username: str) -> Student:
    user = user_named(db, username)
    return db.scalar(
        select(Student)
        .join(SchoolClass)
        .where(SchoolClass.counselor_id == user.id)
        .order_by(Student.id)
        .limit(1)
    )


def write(db, username: str, kind: str, payload: dict) -> uuid.UUID:
    entry_id = new_entry_id()
    mutation = merge.Mutation(
        id=entry_id, op="create", kind=kind, payload=payload, recorded_at=datetime.now(UTC)
    )
    outcome = merge.apply(db, user_named(db, username), mutation)
    assert outcome.status == "applied", outcome.reason
    db.commit()
    return entry_id


def mental_talk(db, secret: str) -> tuple[uuid.UUID, Student]:
    student = a_student_of(db, "counselor1")
    entry_id = write(
        db,
        "counselor1",
        "talk",
        {
            "student_ids": [student.id], "category": "mental", "summary": secret,
            "measures": f"{secret}的措施", "needs_referral": True,
        },
    )  # fmt: skip
    return entry_id, student


def visit_with_concern(db, secret: str) -> uuid.UUID:
    return write(
        db,
        "counselor1",
        "dorm_visit",
        {
            "room_id": rooms_of_students_of(db, "counselor1")[0], "presence": {}, "stars": 4,
            "issues": [], "talk_notes": f"{secret}谈心",
            "concern": {"category": "mental", "note": f"{secret}关注"},
        },
    )  # fmt: skip


@pytest.fixture(scope="module")
def elsewhere(sessionmaker):
    with other_department(sessionmaker) as made:
        yield made


@pytest.fixture(scope="module")
def as_person(app, elsewhere):
    with signed_in(app, PEOPLE) as switch:
        yield switch


PEOPLE = ["admin", "office1", "leader1", "counselor1", "teacher1", "leader_x"]

# --- the rule, as a table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "reader, may",
    [
        ("counselor1", True),  # the author
        ("leader1", True),  # the leader of the entry's department
        ("office1", True),  # the student affairs office
        ("admin", False),  # accounts, data and labels, not students' notes
        ("teacher1", False),  # the class teacher of the student's class
        ("leader_x", False),  # another department's leader
        ("counselor_x", False),
    ],
)
def test_who_reads_a_talks_content(db, elsewhere, reader, may):
    entry = db.get(Entry, mental_talk(db, "规则表")[0])
    assert scope.may_read_sensitive(user_named(db, reader), entry) is may


def test_a_person_with_admin_and_office_roles_reads_as_the_office(db):
    admin = user_named(db, "admin")
    entry = db.get(Entry, mental_talk(db, "两个角色")[0])
    assert not scope.may_read_sensitive(admin, entry)
    both = User(username="admin_office", name="兼任", password_hash="-")
    both.role_rows = [UserRole(role=Role.admin), UserRole(role=Role.office)]
    assert scope.may_read_sensitive(both, entry)


def test_redact_leaves_the_facts_and_drops_the_content():
    talk = {"student_ids": [3], "place": "办公室", "category": "mental", "summary": "x",
            "measures": "y", "follow_up": None, "needs_referral": True}  # fmt: skip
    assert scope.redact(talk, "talk") == {"student_ids": [3], "place": "办公室", "follow_up": None}
    visit = {"room_id": 1, "stars": 4, "talk_notes": "n", "concern": {"category": "mental"}}
    assert scope.redact(visit, "dorm_visit") == {"room_id": 1, "stars": 4}
    assert scope.redact({"marks": {"1": "absent"}}, "attendance_check") == {
        "marks": {"1": "absent"}
    }


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reader, sees", [("admin", False), ("office1", True), ("leader1", True), ("counselor1", True)]
)
def test_the_work_log_shows_a_talks_content_only_to_those_who_may_read_it(
    as_person, db, reader, sees
):
    _, student = mental_talk(db, f"工作记录秘密{reader}")
    page = as_person(reader).get("/log", params={"staff": user_named(db, "counselor1").id})
    assert page.status_code == 200
    assert student.name in page.text  # that a talk took place, and with whom, is not secret
    assert (f"工作记录秘密{reader}" in page.text) is sees
    assert (HIDDEN in page.text) is not sees


@pytest.mark.parametrize("reader, sees", [("admin", False), ("office1", True), ("leader1", True)])
def test_an_entrys_history_shows_content_only_to_those_who_may_read_it(as_person, db, reader, sees):
    entry_id, student = mental_talk(db, f"历史秘密{reader}")
    entry = db.get(Entry, entry_id)
    changed = {**entry.payload, "summary": f"改过的历史秘密{reader}"}
    mutation = merge.Mutation(
        id=entry_id, op="update", kind="talk", payload=changed, base_revision=1
    )
    assert merge.apply(db, user_named(db, "counselor1"), mutation).status == "applied"
    db.commit()
    page = as_person(reader).get(f"/entries/{entry_id}/history")
    assert page.status_code == 200
    assert "第 2 版" in page.text
    assert (f"历史秘密{reader}" in page.text) is sees
    assert (f"改过的历史秘密{reader}" in page.text) is sees


@pytest.mark.parametrize("reader, sees", [("admin", False), ("office1", True), ("leader1", True)])
def test_department_records_show_visit_notes_only_to_those_who_may_read_them(
    as_person, db, reader, sees
):
    entry_id = visit_with_concern(db, f"系部记录{reader}")
    page = as_person(reader).get("/department/records")
    assert page.status_code == 200
    row = re.search(rf'<li class="entry" id="entry-{entry_id}">.*?</li>', page.text, re.S).group()
    assert ("关注：心理" in row) is sees  # the concern's category is content too
    assert (HIDDEN in row) is not sees


@pytest.mark.parametrize("reader, sees", [("admin", False), ("office1", True), ("leader1", True)])
def test_the_work_log_export_carries_content_only_for_those_who_may_read_it(
    as_person, db, reader, sees
):
    mental_talk(db, f"导出秘密{reader}")
    visit_with_concern(db, f"导出走访{reader}")
    response = as_person(reader).get("/log.xlsx", params={"staff": user_named(db, "counselor1").id})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content))["工作记录"]
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert (f"导出秘密{reader}" in cells) is sees
    assert (f"导出走访{reader}谈心" in cells) is sees
    assert (HIDDEN in cells) is not sees


@pytest.mark.parametrize("reader, sees", [("admin", False), ("office1", True), ("leader1", True)])
def test_sync_pull_hands_out_content_only_to_those_who_may_read_it(as_person, db, reader, sees):
    talk_id, _ = mental_talk(db, f"同步秘密{reader}")
    visit_id = visit_with_concern(db, f"同步走访{reader}")
    changes = {c["id"]: c for c in pull_all(as_person(reader))}
    talk, visit = changes[str(talk_id)]["payload"], changes[str(visit_id)]["payload"]
    assert talk["student_ids"]  # the talk took place, with this student
    assert ("summary" in talk and "measures" in talk and "category" in talk) is sees
    assert ("talk_notes" in visit and "concern" in visit) is sees
    assert visit["stars"] == 4


def test_escalations_are_not_for_admin(as_person, db):
    visit_with_concern(db, "上报")
    response = as_person("admin").get("/escalations")
    assert response.status_code == 403
    assert "上报关注" not in response.text


def test_a_leader_reads_their_departments_escalation_notes_and_not_anothers(as_person, db):
    visit_with_concern(db, "本系上报")
    assert "本系上报关注" in as_person("leader1").get("/escalations").text
    assert "本系上报关注" in as_person("office1").get("/escalations").text
    page = as_person("leader_x").get("/escalations")
    assert page.status_code == 200
    assert "本系上报关注" not in page.text


def test_the_author_still_reads_and_edits_their_own_talk(as_person, db):
    entry_id, _ = mental_talk(db, "本人可见")
    client = as_person("counselor1")
    assert "本人可见" in client.get(f"/entries/{entry_id}/edit").text
    assert "本人可见" in client.get("/log").text


def test_admin_sees_a_talk_on_department_records_without_its_content(as_person, db):
    entry_id, _ = mental_talk(db, "系部谈话")
    page = as_person("admin").get("/department/records")
    row = re.search(rf'<li class="entry" id="entry-{entry_id}">.*?</li>', page.text, re.S).group()
    assert "谈心谈话" in row and HIDDEN in row
    assert "系部谈话" not in row and "心理" not in row
    assert '<span class="where">：' not in row
