"""Reads of a student's mental-health records by leaders and the office are written down
(who, when, which entry, on which page) and listed for the office on /audit."""

import pytest
from sqlalchemy import select

from server import scope
from server.models import Entry, SensitiveRead
from tests.conftest import user_named
from tests.other_department import signed_in
from tests.sync_helpers import pull_all
from tests.test_privacy import a_student_of, mental_talk, visit_with_concern, write

PEOPLE = ["admin", "office1", "leader1", "counselor1", "teacher1"]


@pytest.fixture(scope="module")
def as_person(app):
    with signed_in(app, PEOPLE) as switch:
        yield switch


def reads_of(db, entry_id) -> list[tuple[str, str]]:
    """(reader's username, page) of every read of the entry, oldest first."""
    db.expire_all()
    rows = db.scalars(
        select(SensitiveRead).where(SensitiveRead.entry_id == entry_id).order_by(SensitiveRead.id)
    )
    return [(r.reader.username, r.page) for r in rows]


def staff(db, username="counselor1") -> dict:
    return {"staff": user_named(db, username).id}


@pytest.mark.parametrize("reader", ["leader1", "office1"])
def test_a_leader_or_the_office_reading_a_mental_health_talk_is_written_down(as_person, db, reader):
    entry_id, _ = mental_talk(db, f"审计{reader}")
    assert as_person(reader).get("/log", params=staff(db)).status_code == 200
    assert reads_of(db, entry_id) == [(reader, "work_log")]
    read = db.scalar(select(SensitiveRead).where(SensitiveRead.entry_id == entry_id))
    assert read.read_at is not None


def test_every_page_that_shows_the_content_writes_it_down(as_person, db):
    entry_id, _ = mental_talk(db, "每个页面")
    leader = as_person("leader1")
    leader.get("/log", params=staff(db))
    leader.get("/log.xlsx", params=staff(db))
    leader.get(f"/entries/{entry_id}/history")
    leader.get("/department/records")
    leader.get("/escalations")  # a 心理 talk that needs referral is escalated
    pull_all(leader)
    assert [page for _, page in reads_of(db, entry_id)] == [
        "work_log", "work_log_xlsx", "entry_history", "department_records", "escalations",
        "sync_pull",
    ]  # fmt: skip


def test_a_visit_with_a_mental_health_concern_is_a_mental_health_record(as_person, db):
    entry_id = visit_with_concern(db, "走访审计")
    as_person("office1").get("/escalations")
    assert reads_of(db, entry_id) == [("office1", "escalations")]


def test_the_author_reading_their_own_talk_is_not_written_down(as_person, db):
    entry_id, _ = mental_talk(db, "本人")
    as_person("counselor1").get("/log")
    as_person("counselor1").get(f"/entries/{entry_id}/history")
    assert reads_of(db, entry_id) == []


def test_admin_reads_no_content_so_nothing_is_written_down(as_person, db):
    entry_id, _ = mental_talk(db, "管理员")
    as_person("admin").get("/log", params=staff(db))
    pull_all(as_person("admin"))
    assert reads_of(db, entry_id) == []


def test_a_talk_about_study_is_not_written_down(as_person, db):
    student = a_student_of(db, "counselor1")
    entry_id = write(
        db,
        "counselor1",
        "talk",
        {"student_ids": [student.id], "category": "study", "summary": "学业"},
    )
    as_person("leader1").get("/log", params=staff(db))
    assert reads_of(db, entry_id) == []


def test_is_mental_knows_the_mental_health_records(db):
    assert scope.is_mental("talk", {"category": "mental"})
    assert not scope.is_mental("talk", {"category": "career"})
    assert scope.is_mental("dorm_visit", {"concern": {"category": "mental", "note": ""}})
    assert not scope.is_mental("dorm_visit", {"concern": {"category": "financial"}})
    assert not scope.is_mental("dorm_visit", {"concern": None})


def test_the_office_lists_who_read_which_record(as_person, db):
    entry_id, student = mental_talk(db, "列表")
    as_person("leader1").get("/log", params=staff(db))
    page = as_person("office1").get("/audit")
    assert page.status_code == 200
    row = page.text.split(f'data-read="{entry_id}"')[1].split("</tr>")[0]
    assert user_named(db, "leader1").name in row
    assert student.name in row
    assert user_named(db, "counselor1").name in row  # the author
    assert "工作记录" in row
    assert db.get(Entry, entry_id).kind == "talk" and "谈心谈话" in row


@pytest.mark.parametrize("person", ["admin", "leader1", "counselor1", "teacher1"])
def test_only_the_office_opens_the_audit_list(as_person, person):
    assert as_person(person).get("/audit").status_code == 403


def test_reading_the_history_of_a_talk_that_was_about_mental_health_is_written_down(as_person, db):
    from server.sync import merge

    entry_id, _ = mental_talk(db, "改过类别")
    entry = db.get(Entry, entry_id)
    changed = {**entry.payload, "category": "study", "needs_referral": False}
    mutation = merge.Mutation(
        id=entry_id, op="update", kind="talk", payload=changed, base_revision=1
    )
    assert merge.apply(db, user_named(db, "counselor1"), mutation).status == "applied"
    db.commit()
    as_person("leader1").get(f"/entries/{entry_id}/history")
    assert reads_of(db, entry_id) == [("leader1", "entry_history")]
