"""Walking skeleton (issue 2), in a real browser: a counselor scans a door label, records a
dorm visit with a concern, and the student affairs office sees the concern at once."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import today
from server.models import Bed, Building, DutyShift, Entry, Escalation, Room, SchoolClass, Student
from tests.browser.conftest import log_in, log_out, poll
from tests.conftest import user_named

TALK_NOTES = "聊了期末复习安排，宿舍关系融洽。"
CONCERN_NOTE = "最近情绪低落，睡眠不好，建议心理中心跟进。"


@dataclass(frozen=True)
class Resident:
    bed: int
    student_id: int
    name: str


@dataclass(frozen=True)
class DoorRoom:
    id: int
    building: str
    number: str
    residents: list[Resident]

    @property
    def title(self) -> str:
        return f"{self.building} {self.number}"


def room_to_visit(db: Session, username: str) -> DoorRoom:
    """A room in a building the person is on duty in today where students of their classes live."""
    user = user_named(db, username)
    on_duty_today = select(DutyShift.building_id).where(
        DutyShift.staff_id == user.id, DutyShift.date == today()
    )
    own_students_rooms = (
        select(Bed.room_id)
        .join(Student, Bed.student_id == Student.id)
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .where(SchoolClass.counselor_id == user.id)
    )
    room, building = db.execute(
        select(Room, Building.name)
        .join(Building)
        .where(Room.building_id.in_(on_duty_today), Room.id.in_(own_students_rooms))
        .order_by(Building.name, Room.number)
        .limit(1)
    ).one_or_none() or (None, None)
    assert room is not None, (
        f"demo data: {username} should be on duty today where their students live"
    )
    residents = [
        Resident(*row)
        for row in db.execute(
            select(Bed.number, Student.id, Student.name)
            .join(Student, Bed.student_id == Student.id)
            .where(Bed.room_id == room.id)
            .order_by(Bed.number)
        )
    ]
    db.rollback()  # end the read: later reads must see what the server writes
    return DoorRoom(room.id, building, room.number, residents)


def door_url(door_labels: list[dict[str, str]], room: DoorRoom) -> str:
    """The URL `xuegong labels --csv` prints for this room's door."""
    (url,) = [
        r["url"] for r in door_labels if (r["building"], r["room"]) == (room.building, room.number)
    ]
    return url


def visits_to(db: Session, author_id: int, room_id: int) -> dict[uuid.UUID, Entry]:
    db.rollback()  # a fresh snapshot each time
    rows = db.scalars(
        select(Entry).where(
            Entry.kind == "dorm_visit", Entry.author_id == author_id, Entry.room_id == room_id
        )
    )
    return {e.id: e for e in rows}


def resident_row(page: Page, resident: Resident):
    name = re.compile(rf"^\s*{resident.bed}号床 {re.escape(resident.name)}\s*$")
    return page.locator(".resident").filter(has=page.locator(".name", has_text=name))


def test_a_door_label_visit_with_a_concern_reaches_the_office(page: Page, db, door_labels):
    counselor_id = user_named(db, "counselor1").id
    room = room_to_visit(db, "counselor1")
    assert room.residents, f"{room.title} has nobody living in it"
    before = visits_to(db, counselor_id, room.id)

    # the counselor scans the door label of a room in the building they are on duty in
    log_in(page, "counselor1")
    page.goto(door_url(door_labels, room))
    expect(page.get_by_role("heading", level=1)).to_contain_text(room.number)
    expect(page.locator(".resident .name")).to_have_text(
        [f"{r.bed}号床 {r.name}" for r in room.residents]
    )

    # one resident came back late; 4 stars; a talk; a mental-health concern
    late = room.residents[0]
    resident_row(page, late).get_by_label("晚归").check()
    page.get_by_label("4星").check()
    page.get_by_label("谈心记录").fill(TALK_NOTES)
    page.locator('select[name="concern_category"]').select_option(label="心理")
    page.get_by_label("情况说明").fill(CONCERN_NOTE)
    page.get_by_role("button", name="保存走访记录").click()

    expect(page).to_have_url(re.compile(r"/visits/[0-9a-f-]+/saved$"))
    expect(page.get_by_role("status")).to_contain_text("已保存")
    saved_id = uuid.UUID(re.search(r"/visits/([0-9a-f-]+)/saved", page.url).group(1))

    # the server holds exactly one new visit, as entered, and one open escalation for it
    def new_visits() -> list[Entry]:
        return [
            e
            for entry_id, e in visits_to(db, counselor_id, room.id).items()
            if entry_id not in before
        ]

    new = poll(new_visits, what="the saved visit in the database")
    assert [e.id for e in new] == [saved_id]
    payload = new[0].payload
    assert payload["presence"] == {
        str(r.student_id): "late" if r == late else "present" for r in room.residents
    }
    assert payload["stars"] == 4
    assert payload["talk_notes"] == TALK_NOTES
    assert payload["concern"] == {"category": "mental", "note": CONCERN_NOTE}
    escalations = db.scalars(select(Escalation).where(Escalation.entry_id == saved_id)).all()
    assert [(e.status, e.category, e.room_id) for e in escalations] == [("open", "mental", room.id)]

    # the student affairs office sees the room flagged 心理
    log_out(page)
    log_in(page, "office1")
    page.goto("/escalations")
    listed = page.locator("li.escalation").filter(has_text=room.title).filter(has_text=CONCERN_NOTE)
    expect(listed).to_have_count(1)
    expect(listed.locator(".flag")).to_have_text("心理")


def test_door_url_while_logged_out_goes_through_login(page: Page, db, door_labels):
    room = room_to_visit(db, "counselor1")
    url = door_url(door_labels, room)

    page.goto(url)
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fd%2F"))
    log_in(page, "counselor1")

    expect(page).to_have_url(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(room.number)
    expect(page.get_by_role("button", name="保存走访记录")).to_be_visible()


def test_tampered_door_token_shows_chinese_400_page(page: Page, db, door_labels):
    url = door_url(door_labels, room_to_visit(db, "counselor1"))
    log_in(page, "counselor1")
    assert page.goto(url).status == 200

    prefix, token = url.rsplit("/", 1)
    # change the signed part, not the signature's last character (whose low bits base64 ignores)
    forged = ("X" if token[0] != "X" else "Y") + token[1:]
    response = page.goto(f"{prefix}/{forged}")

    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("无法处理这个请求")
    expect(page.get_by_role("alert")).to_contain_text("这个二维码无法识别")
    expect(page.locator("body")).not_to_contain_text("Traceback")
