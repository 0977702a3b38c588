"""关注上报 handled to the end (§2.7.2: what the visitor cannot resolve goes to the student
affairs office at once): 待确认 → 已确认 → 跟进中 → 已办结, every step kept, the reporter told.

A 心理 talk with 转介 is the escalation here (the visit's is tests/browser/test_escalations.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from server import escalations
from server.models import (
    Entry,
    EntryRevision,
    Escalation,
    EscalationStep,
    Notification,
    SchoolClass,
    SensitiveRead,
    Student,
)
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import user_named
from tests.other_department import other_department, signed_in

PEOPLE = ["office1", "leader1", "counselor1", "teacher1", "admin", "leader_x", "counselor_x"]


@pytest.fixture(scope="module")
def elsewhere(sessionmaker):
    with other_department(sessionmaker) as made:
        yield made


@pytest.fixture(scope="module")
def as_person(app, elsewhere):
    with signed_in(app, PEOPLE) as switch:
        yield switch


def referral_talk(db, username="counselor1", summary="情绪低落，建议转介") -> tuple:
    """A 心理 talk with 转介 by this person about the first student of their classes."""
    user = user_named(db, username)
    student = db.scalar(
        select(Student).join(SchoolClass).where(SchoolClass.counselor_id == user.id)
        .order_by(Student.id).limit(1)
    )  # fmt: skip
    entry_id = new_entry_id()
    payload = {"student_ids": [student.id], "category": "mental", "summary": summary,
               "measures": "", "needs_referral": True}  # fmt: skip
    outcome = merge.apply(db, user, merge.Mutation(id=entry_id, op="create", kind="talk",
                                                   payload=payload))  # fmt: skip
    assert outcome.status == "applied", outcome.reason
    db.commit()
    escalation = db.scalar(select(Escalation).where(Escalation.entry_id == entry_id))
    return escalation, student


@pytest.fixture
def made(sessionmaker):
    """Escalations made by a test, removed afterwards."""
    entries = []
    yield entries
    with sessionmaker() as db:
        db.execute(delete(Escalation).where(Escalation.entry_id.in_(entries)))
        db.execute(delete(SensitiveRead).where(SensitiveRead.entry_id.in_(entries)))
        db.execute(delete(EntryRevision).where(EntryRevision.entry_id.in_(entries)))
        db.execute(delete(Entry).where(Entry.id.in_(entries)))
        db.commit()


def _new(db, made, **kw):
    escalation, student = referral_talk(db, **kw)
    made.append(escalation.entry_id)
    return escalation, student


def _csrf(client) -> str:
    return client.cookies["csrftoken"]


def _post(client, path, **data):
    return client.post(path, data={**data, "_csrf_token": _csrf(client)}, follow_redirects=False)


def test_a_referral_opens_a_pending_escalation_and_queues_its_notification_at_once(db, made):
    escalation, _ = _new(db, made)
    assert escalation.state == "pending" and escalation.status == "open"
    queued = db.scalars(
        select(Notification).where(Notification.escalation_id == escalation.id)
    ).all()
    assert [(n.event, n.status) for n in queued] == [("opened", "pending")]
    assert queued[0].department_name  # the department, no student, no concern


def test_the_office_acknowledges_follows_up_and_closes_and_the_reporter_sees_it(
    as_person, db, made
):
    escalation, student = _new(db, made)
    url = f"/escalations/{escalation.id}"
    office = as_person("office1")
    page = office.get(url).text
    assert student.name in page and student.student_number in page
    assert student.school_class.name in page and "待确认" in page and "data-source-link" in page

    # a note before 确认 is refused, with the reason
    early = _post(office, f"{url}/notes", text="先记一笔")
    assert early.status_code == 409 and "请先确认" in early.text
    assert _post(office, f"{url}/acknowledge").status_code == 303
    again = _post(as_person("leader1"), f"{url}/acknowledge")
    assert again.status_code == 409 and "已由" in again.text
    assert _post(office, f"{url}/notes", text="已联系心理咨询中心", for_reporter="1").status_code == 303
    assert _post(office, f"{url}/notes", text="内部：家长情况复杂").status_code == 303
    helper = user_named(db, "leader1")
    assert _post(office, f"{url}/assign", assignee=str(helper.id)).status_code == 303
    stranger = user_named(db, "counselor_x")
    refused = _post(office, f"{url}/assign", assignee=str(stranger.id))
    assert refused.status_code == 409 and "跟进人" in refused.text
    empty = _post(office, f"{url}/close", outcome="  ")
    assert empty.status_code == 409 and "请填写办结结果" in empty.text
    assert _post(office, f"{url}/close", outcome="已转介，学生情况稳定").status_code == 303

    db.expire_all()
    done = db.get(Escalation, escalation.id)
    assert done.state == "closed" and done.status == "closed" and done.closed_at
    assert done.acknowledged_by_id == user_named(db, "office1").id and done.assignee_id == helper.id
    kept = db.scalars(
        select(EscalationStep.action).where(EscalationStep.escalation_id == escalation.id)
        .order_by(EscalationStep.id)
    ).all()  # fmt: skip
    assert kept == ["acknowledge", "note", "note", "assign", "close"]
    closed_again = _post(office, f"{url}/notes", text="再补一句")
    assert closed_again.status_code == 409 and "已办结" in closed_again.text

    # the reporter: the state, the note meant for them and the outcome; not the internal note
    mine = as_person("counselor1").get(url)
    assert mine.status_code == 200
    assert "已办结" in mine.text and "已联系心理咨询中心" in mine.text and "学生情况稳定" in mine.text
    assert "家长情况复杂" not in mine.text
    assert 'data-action="acknowledge"' not in mine.text
    assert _post(as_person("counselor1"), f"{url}/close", outcome="x").status_code == 403
    listed = as_person("counselor1").get("/escalations/mine").text
    assert f'data-escalation="{escalation.id}"' in listed and "已办结" in listed
    # on the record itself and in the work log
    history = as_person("counselor1").get(f"/entries/{escalation.entry_id}/history").text
    assert 'data-escalation-state="closed"' in history
    log = as_person("counselor1").get("/log").text
    assert 'data-escalation-state="closed"' in log
    # and on the student's page, linking to the escalation
    for person in ("counselor1", "office1"):
        timeline = as_person(person).get(f"/students/{student.id}").text
        assert f"/escalations/{escalation.id}" in timeline and "已办结" in timeline, person


def test_escalation_notes_are_read_only_by_the_reporter_the_departments_leader_and_the_office(
    as_person, db, made
):
    escalation, _ = _new(db, made)
    url = f"/escalations/{escalation.id}"
    for person, status in [("office1", 200), ("leader1", 200), ("counselor1", 200),
                           ("teacher1", 403), ("admin", 403), ("leader_x", 403),
                           ("counselor_x", 403)]:  # fmt: skip
        page = as_person(person).get(url)
        assert page.status_code == status, person
        if status == 403:
            assert "情绪低落" not in page.text
    assert _post(as_person("leader_x"), f"{url}/acknowledge").status_code == 403
    assert as_person("office1").get("/escalations/999999999").status_code == 404
    bad_state = as_person("office1").get("/escalations?state=nonsense")
    assert bad_state.status_code == 400 and "没有这种状态" in bad_state.text
    assert as_person("office1").get("/escalations?state=").status_code == 200
    acknowledged = _post(as_person("office1"), f"{url}/acknowledge")
    assert acknowledged.status_code == 303
    long_note = _post(as_person("office1"), f"{url}/notes", text="长" * 2001)
    assert long_note.status_code == 409 and "太长" in long_note.text
    bad_assignee = _post(as_person("office1"), f"{url}/assign", assignee="abc")
    assert bad_assignee.status_code == 409 and "不是有效的编号" in bad_assignee.text


def test_the_list_groups_by_state_oldest_pending_first_and_marks_the_overdue(as_person, db, made):
    older, _ = _new(db, made, summary="较早的转介")
    newer, _ = _new(db, made, summary="较晚的转介")
    db.execute(
        update(Escalation).where(Escalation.id == older.id)
        .values(created_at=datetime.now(UTC) - timedelta(hours=3))
    )  # fmt: skip
    db.commit()
    page = as_person("office1").get("/escalations").text
    pending = page.split('data-group="pending"', 1)[1].split("</section>", 1)[0]
    assert pending.index(f'data-escalation="{older.id}"') < pending.index(
        f'data-escalation="{newer.id}"'
    )
    row = pending.split(f'data-escalation="{older.id}"', 1)[1].split("</li>", 1)[0]
    assert "超时未确认" in row
    fresh = pending.split(f'data-escalation="{newer.id}"', 1)[1].split("</li>", 1)[0]
    assert "超时未确认" not in fresh
    overdue = as_person("office1").get("/escalations?state=overdue").text
    assert f'data-escalation="{older.id}"' in overdue
    assert f'data-escalation="{newer.id}"' not in overdue
    count = int(re.search(r'class="escalation-groups" data-count="(\d+)"', overdue).group(1))
    user = user_named(db, "office1")
    assert count == len(escalations.listed(db, user, "overdue", 2))
    # the home's card counts the same list, in SQL
    assert escalations.overdue_count(db, user, 2) == count >= 1
    leader = user_named(db, "leader1")
    assert escalations.overdue_count(db, leader, 2) == len(escalations.listed(db, leader, "overdue", 2))


def test_the_menu_badge_counts_open_escalations_for_the_office_and_the_leader(as_person, db, made):
    _new(db, made)
    office = user_named(db, "office1")
    for person in ("office1", "leader1"):
        user = user_named(db, person)
        page = as_person(person).get("/").text
        open_count = len(escalations.listed(db, user, "open", 2))
        assert f'data-escalation-badge="{open_count}"' in page, person
    assert "data-escalation-badge" not in as_person("counselor1").get("/").text
    assert "data-escalation-badge" not in as_person("leader_x").get("/").text
    assert office


def test_the_counselors_home_counts_what_they_reported_and_what_is_open(as_person, db, made):
    escalation, _ = _new(db, made)
    home = as_person("counselor1").get("/").text
    cards = dict(
        (label, (int(count), url.replace("&amp;", "&")))
        for label, url, count in re.findall(
            r'data-card="([^"]+)">\s*<a href="([^"]+)" data-card-url>.*?data-card-count>(\d+)<',
            home, re.S,
        )
    )  # fmt: skip
    count, url = cards["我上报的关注（未办结）"]
    assert count >= 1
    listed = as_person("counselor1").get(url).text
    assert int(re.search(r'data-count="(\d+)" data-all', listed).group(1)) == count
    assert len(re.findall(r"\bdata-row\b", listed)) == count
    cases, cases_url = cards["我提出的违纪处理（未结）"]
    cases_page = as_person("counselor1").get(cases_url).text
    assert int(re.search(r'data-list="my_open" data-count="(\d+)"', cases_page).group(1)) == cases
    assert 'data-escalation-state="pending"' in home  # the recent records show the state
    reported = home.split("data-reported>", 1)[1].split("</ul>", 1)[0]
    assert f'data-reported-escalation="{escalation.id}"' in reported and "待确认" in reported
    assert escalation


def test_the_migration_makes_existing_open_escalations_pending(tmp_path):
    """0023_escalation_flow: an escalation opened before the flow existed is 待确认."""
    import sqlite3
    import uuid as uuid_module

    from server.db import upgrade

    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    upgrade(url, "0017_students")
    entry_id = uuid_module.uuid4().hex
    with sqlite3.connect(tmp_path / "before.sqlite3") as conn:
        conn.execute(
            "INSERT INTO users (id, username, name, password_hash, active, session_epoch) "
            "VALUES (1, 'c1', '辅导员', '!', 1, 0)"
        )
        conn.execute(
            "INSERT INTO entries (id, kind, author_id, payload, schema_version, recorded_at, "
            "revision, deleted, seq) VALUES (?, 'talk', 1, '{}', 1, '2026-09-01 08:00:00', 1, 0, 1)",
            (entry_id,),
        )
        conn.execute(
            "INSERT INTO escalations (entry_id, category, note, status, created_at) "
            "VALUES (?, 'mental', '旧的上报', 'open', '2026-09-01 08:00:00')",
            (entry_id,),
        )
    upgrade(url)
    with sqlite3.connect(tmp_path / "before.sqlite3") as conn:
        rows = conn.execute("SELECT status, state, acknowledged_at FROM escalations").fetchall()
    assert rows == [("open", "pending", None)]
