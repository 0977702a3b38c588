"""Corrections (issue 15): every kind is corrected by its author as the next revision, a mark
is changed on the attendance check itself, and a deletion needs a reason, keeps the history
and counts nowhere afterwards — online and through the outbox (/sync/push)."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlalchemy import select

from server import attendance, due, week
from server.clock import today
from server.models import Entry, EntryRevision, Escalation, Guardian
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import csrf_token, user_named
from tests.sync_helpers import new_device, push
from tests.test_attendance import check_form, class_of, form_for, students_of
from tests.test_duty import EVENING, WEEK, at, duty_week, missed  # noqa: F401  (the fixture)
from tests.test_worklog import record_visit
from tests.wire_samples import places


def revisions(db, entry_id) -> list[EntryRevision]:
    db.expire_all()
    return list(
        db.scalars(
            select(EntryRevision)
            .where(EntryRevision.entry_id == entry_id)
            .order_by(EntryRevision.revision)
        )
    )


def delete_online(client, entry_id, revision: int, reason: str):
    return client.post(
        f"/entries/{entry_id}/delete",
        data={"base_revision": str(revision), "reason": reason, "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )


def record_check(client, db, school_class, marks: dict[int, str], period: str) -> uuid.UUID:
    _, fields = check_form(client, school_class)
    form = form_for(db, fields, school_class, marks, period=period)
    answer = client.post("/attendance/checks", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return uuid.UUID(fields["entry_id"])


def warned(db, school_class) -> set[int]:
    rows = attendance.history(db, school_class.id, today())
    return {r.student.id for r in attendance.warnings(rows)}


# --- corrections ------------------------------------------------------------------------------


def test_a_dorm_visit_opens_its_door_form_filled_in_for_its_author(login, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC), stars=2)
    page = login("counselor1").get(f"/entries/{visit}/edit")
    assert page.status_code == 200, page.text
    assert f'action="/entries/{visit}/revisions"' in page.text
    assert 'name="base_revision" value="1"' in page.text
    assert re.search(r'name="stars" value="2" checked', page.text)
    assert "data-entry-id" not in page.text, "a correction keeps the visit's id"
    assert "删除原因" in page.text


def test_a_visit_is_corrected_as_its_next_revision_and_the_first_is_kept(login, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC), stars=2)
    entry = db.get(Entry, visit)
    client = login("counselor1")
    form = {
        "entry_id": str(visit),
        "base_revision": "1",
        "room_id": str(entry.room_id),
        "stars": "5",
        "issue_other": "",
        "talk_notes": "",
        "concern_category": "",
        "concern_note": "",
        "_csrf_token": csrf_token(client),
    }
    answer = client.post(f"/entries/{visit}/revisions", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    kept = revisions(db, visit)
    assert [(r.revision, r.payload["stars"]) for r in kept] == [(1, 2), (2, 5)]
    assert db.get(Entry, visit).revision == 2


def test_only_the_author_corrects_a_visit(login, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    assert login("leader1").get(f"/entries/{visit}/edit").status_code == 403


def test_an_attendance_mark_changed_on_the_check_moves_the_warning(login, db):
    school_class = class_of(db, "teacher1")
    student = students_of(db, school_class)[20]
    client = login("teacher1")
    checks = [
        record_check(client, db, school_class, {student.id: "absent"}, period)
        for period in ("1-2", "3-4", "5-6")
    ]
    assert student.id in warned(db, school_class)
    history = client.get(f"/classes/{school_class.id}/attendance").text
    assert f'href="/entries/{checks[0]}/edit" data-edit-check' in history

    page = client.get(f"/entries/{checks[0]}/edit")
    assert page.status_code == 200
    assert re.search(rf'name="mark_{student.id}" value="absent"', page.text)
    _, fields = check_form(client, school_class)
    form = form_for(db, fields, school_class, {student.id: "leave"}, period="1-2")
    form |= {"entry_id": str(checks[0]), "base_revision": "1"}
    answer = client.post(f"/entries/{checks[0]}/revisions", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert student.id not in warned(db, school_class), "the 预警 follows the corrected mark"
    assert db.get(Entry, checks[0]).payload["marks"][str(student.id)] == "leave"


def test_a_check_of_another_teacher_cannot_be_changed(login, db):
    school_class = class_of(db, "teacher1")
    check = record_check(login("teacher1"), db, school_class, {}, "7-8")
    assert login("counselor1").get(f"/entries/{check}/edit").status_code == 403


# --- deleting ---------------------------------------------------------------------------------


def test_a_deletion_needs_a_reason_and_without_one_nothing_changes(login, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    client = login("counselor1")
    answer = delete_online(client, visit, 1, "   ")
    assert answer.status_code == 422
    assert "删除记录需要填写原因" in answer.text
    db.expire_all()
    assert not db.get(Entry, visit).deleted
    assert len(revisions(db, visit)) == 1


def test_a_deletion_keeps_the_history_with_reason_who_and_when(login, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    client = login("counselor1")
    answer = delete_online(client, visit, 1, "走错了宿舍")
    assert answer.status_code == 303, answer.text
    assert "已删除" in client.get(answer.headers["location"]).text
    first, deleting = revisions(db, visit)
    assert not first.deleted and deleting.deleted
    assert deleting.reason == "走错了宿舍"
    assert deleting.author_id == user_named(db, "counselor1").id
    assert deleting.changed_at is not None
    history = login("leader1").get(f"/entries/{visit}/history").text
    assert "删除原因：走错了宿舍" in history
    # deleted: it can be neither corrected nor deleted again
    assert client.get(f"/entries/{visit}/edit").status_code == 404


def test_a_deleted_record_leaves_my_records_the_department_list_and_the_export(login, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    client = login("counselor1")
    assert delete_online(client, visit, 1, "重复记录").status_code == 303
    assert str(visit) not in client.get("/records").text
    assert str(visit) not in login("leader1").get("/department/records").text
    assert str(visit) not in client.get("/log").text, "deleted before any review: not on the log"
    sheet = load_workbook(io.BytesIO(client.get("/log.xlsx").content)).active
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert not any("已删除" in str(cell) for row in rows for cell in row)


def test_deleted_absences_raise_no_warning(login, db):
    school_class = class_of(db, "teacher1")
    student = students_of(db, school_class)[22]
    client = login("teacher1")
    checks = [
        record_check(client, db, school_class, {student.id: "absent"}, period)
        for period in ("1-2", "3-4", "9-10")
    ]
    assert student.id in warned(db, school_class)
    assert delete_online(client, checks[2], 1, "这节课调课了").status_code == 303
    assert student.id not in warned(db, school_class)


def test_a_deleted_parent_contact_makes_the_parents_due_again(login, db):
    counselor = user_named(db, "counselor1")
    # a student whose parents are due now (other tests contact some of counselor1's students)
    due_now = {o.what.id for o in due.parents_overdue(db, counselor, today())}
    guardian = db.scalars(
        select(Guardian).where(Guardian.student_id.in_(due_now)).order_by(Guardian.id)
    ).first()
    where = {"student": guardian.student_id, "guardian": guardian.id}
    contact = new_entry_id()
    payload = {
        "student_id": where["student"], "guardian_id": where["guardian"], "method": "phone",
        "reason": "grades", "summary": "告知期中成绩",
    }  # fmt: skip
    created = merge.apply(
        db, counselor, merge.Mutation(id=contact, op="create", kind="parent_contact",
                                      payload=payload)  # fmt: skip
    )
    db.commit()
    assert created.status == "applied", created.reason
    due_ids = {o.what.id for o in due.parents_overdue(db, counselor, today())}
    assert where["student"] not in due_ids
    assert delete_online(login("counselor1"), contact, 1, "打错了学生").status_code == 303
    db.expire_all()
    due_ids = {o.what.id for o in due.parents_overdue(db, counselor, today())}
    assert where["student"] in due_ids


def test_a_deleted_visit_counts_nowhere_in_my_week(login, db):
    counselor = user_named(db, "counselor1")
    monday = week.clock.week_of(today())[0]

    def visits() -> int:  # a visit with stars is a counselor's 卫生检查
        db.expire_all()
        rows = week.my_week(db, counselor, monday)
        return next(r.done for r in rows if r.counts == "hygiene_check")

    before = visits()
    visit = record_visit(db, "counselor1", datetime.now(UTC), stars=4)
    assert visits() == before + 1
    assert delete_online(login("counselor1"), visit, 1, "测试记录").status_code == 303
    assert visits() == before


def test_a_deleted_visits_escalation_stays_open_marked_deleted_with_the_reason(login, db):
    counselor = user_named(db, "counselor1")
    visit = new_entry_id()
    room = places(db)["room"]
    payload = {"room_id": room, "presence": {}, "stars": None, "issues": [], "talk_notes": "",
               "concern": {"category": "physical", "note": "发烧"}}  # fmt: skip
    merge.apply(db, counselor, merge.Mutation(id=visit, op="create", kind="dorm_visit",
                                              payload=payload))  # fmt: skip
    db.commit()
    assert db.scalar(select(Escalation.status).where(Escalation.entry_id == visit)) == "open"
    assert delete_online(login("counselor1"), visit, 1, "学生已就医，记录重复").status_code == 303
    db.expire_all()
    assert db.scalar(select(Escalation.status).where(Escalation.entry_id == visit)) == "open"
    listed = login("leader1").get("/escalations").text
    assert "记录已删除：学生已就医，记录重复" in listed


# --- deleting through the outbox --------------------------------------------------------------


def delete_mutation(entry_id, revision: int, **carried) -> dict:
    return {
        "id": str(entry_id),
        "op": "delete",
        "kind": "dorm_visit",
        "base_revision": revision,
        "schema_version": 1,
        "mutation_no": 1,
        **carried,
    }


def test_a_delete_from_the_outbox_carries_its_reason_in_the_form(login, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    sent = delete_mutation(
        visit, 1, form={"entry_id": str(visit), "base_revision": "1", "reason": "录错房间"}
    )
    result = push(login("counselor1"), [sent]).json()["results"][0]
    assert result["status"] == "applied", result
    assert revisions(db, visit)[-1].reason == "录错房间"


def test_a_delete_without_a_reason_from_the_outbox_is_rejected(login, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    result = push(login("counselor1"), [delete_mutation(visit, 1)]).json()["results"][0]
    assert result["status"] == "rejected"
    assert "删除记录需要填写原因" in result["reason"]
    db.expire_all()
    assert not db.get(Entry, visit).deleted


def test_a_delete_based_on_an_old_revision_is_a_conflict_kept_with_its_reason(login, db):
    visit = record_visit(db, "counselor1", datetime.now(UTC), stars=1)
    client = login("counselor1")
    device = new_device()
    entry = db.get(Entry, visit)
    edited = {**entry.payload, "stars": 4}
    first = push(
        client,
        [{"id": str(visit), "op": "update", "kind": "dorm_visit", "payload": edited,
          "base_revision": 1, "mutation_no": 1}],  # fmt: skip
        device,
    ).json()["results"][0]
    assert first["status"] == "applied"
    late = push(client, [delete_mutation(visit, 1, reason="不需要了", mutation_no=2)], device)
    result = late.json()["results"][0]
    assert result["status"] == "conflict"
    kept = client.get("/sync/conflicts").json()["conflicts"]
    mine = [c for c in kept if c["entry_id"] == str(visit)]
    assert mine and mine[0]["op"] == "delete" and mine[0]["payload"] == {"reason": "不需要了"}


def test_a_deleted_visit_does_not_make_a_duty_round_done(db, duty_week):  # noqa: F811
    counselor, _, visit = duty_week
    visit(at(WEEK[0], 22, 10))  # Monday evening: the round is done
    assert (WEEK[0], EVENING) not in missed(db, counselor)
    entry = db.scalar(
        select(Entry).where(Entry.author_id == counselor.id,
                            Entry.recorded_at == at(WEEK[0], 22, 10))
    )  # fmt: skip
    entry.deleted = True  # as merge's delete leaves it (the fixture's rows have no revisions)
    db.commit()
    assert (WEEK[0], EVENING) in missed(db, counselor)
