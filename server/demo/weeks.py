"""`xuegong demo --weeks N`: N weeks of generated work records for every counselor and class
teacher of the demo college, ending with the current week (up to today).

Each person gets a diligence of their own, so some meet the weekly quotas (server/week.py)
and some do not: talks with their students, attendance checks, dorm visits with hygiene
stars and talk notes, lecture observations, parent contacts and, for class teachers, a
contact with each course teacher about once a month. Deterministic for a seed; rows go in
with bulk inserts like the rest of the demo (they skip the merge path, so their payloads
are written here in the shape each kind's check produces).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from server import clock
from server.models import Bed, ClassCourse, Guardian, SchoolClass, Student, UserRole

DILIGENCE = (0.4, 0.7, 1.0, 1.0, 1.2, 1.4)  # share of the weekly quotas a person keeps
# weekly quotas by role (the guideline's defaults, DESIGN.md): talks, checks, visits, lectures
WEEKLY = {"counselor": (5, 2, 2, 1), "class_teacher": (2, 2, 2, 1)}
PERIODS = ("1-2", "3-4", "5-6", "7-8", "9-10", "evening")
TALK_TOPICS = {
    "study": "学习计划和期末复习",
    "life": "宿舍生活和作息",
    "thought": "入党积极分子培养",
    "career": "实习和就业意向",
    "mental": "情绪低落，已约好下次再谈",
    "discipline": "晚归一次，已说明纪律要求",
}
PARENT_REASONS = ("praise", "grades", "thinking_changed", "late_return", "other")


def generate(
    rows, weeks: int, seed: int, today: date, now: datetime | None = None
) -> tuple[list[dict], list[dict]]:
    """Entries and their first revisions for the people, classes and students in `rows`.

    No entry is recorded after `now` (the end of `today` when not given): a record dated
    later than the moment the demo is loaded would show in 本周 and the lists as done."""
    rnd = random.Random(f"weeks:{seed}:{weeks}")
    latest = now or datetime.combine(today, time(23, 59), tzinfo=clock.COLLEGE_TZ)
    world = _World(rows, latest.astimezone(UTC))
    monday = today - timedelta(days=today.weekday())
    entries: list[dict] = []
    for staff_id in sorted(world.classes_of):
        diligence = rnd.choice(DILIGENCE)
        for back in range(weeks - 1, -1, -1):
            days = [monday - timedelta(weeks=back, days=-d) for d in range(7)]
            days = [d for d in days if d <= today]
            entries += world.week(rnd, staff_id, diligence, days)
    entries.sort(key=lambda e: e["recorded_at"])
    revisions = []
    for seq, entry in enumerate(entries, start=1):
        entry["seq"] = seq
        revisions.append(
            {
                "entry_id": entry["id"],
                "revision": 1,
                "payload": entry["payload"],
                "deleted": False,
                "author_id": entry["author_id"],
                "changed_at": entry["recorded_at"],
            }
        )
    return entries, revisions


class _World:
    """Who teaches whom, where students sleep: looked up from the demo rows."""

    def __init__(self, rows, latest: datetime):
        self.latest = latest
        table = rows.rows
        self.roles: dict[int, set[str]] = {}
        for r in table.get(UserRole, []):
            self.roles.setdefault(r["user_id"], set()).add(str(r["role"]))
        self.classes = {c["id"]: c for c in table.get(SchoolClass, [])}
        self.classes_of: dict[int, list[dict]] = {}
        for c in self.classes.values():
            for staff_id in {c["counselor_id"], c.get("class_teacher_id")} - {None}:
                self.classes_of.setdefault(staff_id, []).append(c)
        self.students: dict[int, list[int]] = {}
        for s in table.get(Student, []):
            self.students.setdefault(s["class_id"], []).append(s["id"])
        self.room_of = {
            b["student_id"]: b["room_id"] for b in table.get(Bed, []) if b["student_id"]
        }
        self.guardians: dict[int, list[int]] = {}
        for g in table.get(Guardian, []):
            self.guardians.setdefault(g["student_id"], []).append(g["id"])
        self.taught: dict[int, list[dict]] = {}
        for t in table.get(ClassCourse, []):
            self.taught.setdefault(t["class_id"], []).append(t)

    def week(self, rnd: random.Random, staff_id: int, diligence: float, days: list[date]) -> list:
        if not days:
            return []
        roles = self.roles.get(staff_id, set())
        role = "counselor" if "counselor" in roles else "class_teacher"
        talks, checks, visits, lectures = (
            max(0, round(n * diligence + rnd.uniform(-0.6, 0.6))) for n in WEEKLY[role]
        )
        classes = self.classes_of[staff_id]
        out = []

        def entry(kind: str, school_class: dict, payload: dict, room_id: int | None = None):
            day = rnd.choice(days)
            moment = datetime.combine(
                day, time(rnd.randrange(8, 22), rnd.randrange(60)), tzinfo=clock.COLLEGE_TZ
            ).astimezone(UTC)
            if moment > self.latest:  # today, later than now: earlier today instead
                moment = self.latest - timedelta(minutes=rnd.randrange(1, 90))
            out.append(
                {
                    "id": _uuid7(moment, rnd),
                    "kind": kind,
                    "author_id": staff_id,
                    "department_id": school_class["department_id"],
                    "room_id": room_id,
                    "class_id": school_class["id"] if room_id is None else None,
                    "payload": payload,
                    "schema_version": 1,
                    "recorded_at": moment,
                    "created_at": moment,
                    "updated_at": moment,
                    "revision": 1,
                    "deleted": False,
                }
            )
            return day

        for _ in range(talks):
            c = rnd.choice(classes)
            category = rnd.choice(list(TALK_TOPICS))
            students = rnd.sample(self.students[c["id"]], rnd.choice((1, 1, 1, 2)))
            entry("talk", c, {
                "student_ids": sorted(students), "place": rnd.choice(("办公室", "宿舍", "教室")),
                "category": category, "summary": TALK_TOPICS[category], "measures": "",
                "follow_up": None, "needs_referral": False,
            })  # fmt: skip
        for _ in range(checks):
            c = rnd.choice(classes)
            courses = self.taught.get(c["id"], [])
            period = rnd.choice(PERIODS if courses else ("evening",))
            absent = rnd.sample(self.students[c["id"]], rnd.choice((0, 0, 1, 2)))
            day = entry("attendance_check", c, {})
            out[-1]["payload"] = {
                "class_id": c["id"],
                "course_id": None if period == "evening" else rnd.choice(courses)["course_id"],
                "period": period, "date": day.isoformat(),
                "marks": {str(s): rnd.choice(("absent", "late", "leave")) for s in sorted(absent)},
                "note": "",
            }  # fmt: skip
        for n in range(visits):
            c = rnd.choice(classes)
            room_id = self.room_of.get(rnd.choice(self.students[c["id"]]))
            if room_id is None:
                continue
            entry("dorm_visit", c, {
                "room_id": room_id, "presence": {}, "stars": rnd.choice((3, 4, 4, 5, 5)),
                "issues": [], "issue_other": "",
                "talk_notes": "聊了作息和复习安排" if n % 2 == 0 or rnd.random() < 0.5 else "",
                "concern": None,
            }, room_id=room_id)  # fmt: skip
        for _ in range(lectures):
            c = rnd.choice(classes)
            if self.taught.get(c["id"]):
                t = rnd.choice(self.taught[c["id"]])
                day = entry("lecture_observation", c, {})
                out[-1]["payload"] = {
                    "class_course_id": t["id"], "class_id": c["id"], "course_id": t["course_id"],
                    "teacher_id": t["teacher_id"], "date": day.isoformat(),
                    "period": rnd.choice(PERIODS[:5]), "first_lesson": False,
                    "notes": "学生听课认真，个别同学玩手机",
                }  # fmt: skip
        for _ in range(rnd.choice((0, 1, 1, 2))):
            c = rnd.choice(classes)
            student = rnd.choice(self.students[c["id"]])
            if self.guardians.get(student):
                entry("parent_contact", c, {
                    "student_id": student, "guardian_id": self.guardians[student][0],
                    "method": rnd.choice(("phone", "phone", "sms", "in_person")),
                    "reason": rnd.choice(PARENT_REASONS), "summary": "沟通了近期在校情况",
                })  # fmt: skip
        for c in classes:  # the class teacher contacts each course teacher (§2.6.2)
            if c.get("class_teacher_id") != staff_id:
                continue
            for t in self.taught.get(c["id"], []):
                if rnd.random() < 0.25:  # about once a month each
                    entry("teacher_contact", c, {
                        "class_course_id": t["id"], "class_id": c["id"],
                        "course_id": t["course_id"], "teacher_id": t["teacher_id"],
                        "method": "in_person", "summary": "沟通本班学情",
                    })  # fmt: skip
        return out


def _uuid7(moment: datetime, rnd: random.Random) -> uuid.UUID:
    """A UUIDv7 for `moment` with the random part from the seeded generator (deterministic)."""
    millis = int(moment.timestamp() * 1000)
    value = (millis << 80) | (0x7 << 76) | (rnd.getrandbits(12) << 64)
    value |= (0b10 << 62) | rnd.getrandbits(62)
    return uuid.UUID(int=value)
