"""The department's records and escalations, for leaders and the student affairs office, and
the office's list of who read which mental-health record."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import scope
from server.auth import requires_leader, role_guard
from server.kinds import KINDS
from server.models import Entry, Role, Room, SensitiveRead, Student, User

PAGE = 100
AUDIT_PAGE = 300
# escalations carry sensitive notes: leaders and the office, not admin (scope.py)
requires_leader_or_office = role_guard(Role.leader, Role.office)
requires_office = role_guard(Role.office)


@get(
    "/department/records", name="department_records", guards=[requires_leader], sync_to_thread=True
)
def department_records(request: Request[User, dict, object], db: Session) -> Template:
    entries = db.scalars(
        select(Entry)
        .options(joinedload(Entry.author), joinedload(Entry.room).joinedload(Room.building))
        .where(scope.entry_condition(request.user), Entry.deleted.is_(False))
        .order_by(Entry.recorded_at.desc())
        .limit(PAGE)
    ).all()
    if scope.note_sensitive_reads(db, request.user, entries, "department_records"):
        db.commit()
    return Template(
        "department_records.html",
        context={
            "entries": entries,
            "kinds": KINDS,
            # what each row may show: sensitive fields left out where the viewer may not read them
            "shown": {e.id: scope.shown_payload(request.user, e) for e in entries},
        },
    )


@get("/audit", name="sensitive_reads", guards=[requires_office], sync_to_thread=True)
def sensitive_reads(db: Session) -> Template:
    """查阅记录: who read which student's mental-health record, newest first (office only)."""
    rows = db.scalars(
        select(SensitiveRead)
        .options(
            joinedload(SensitiveRead.reader),
            joinedload(SensitiveRead.entry).joinedload(Entry.author),
        )
        .order_by(SensitiveRead.read_at.desc(), SensitiveRead.id.desc())
        .limit(AUDIT_PAGE)
    ).all()
    students = _students_of(db, [r.entry for r in rows])
    return Template(
        "audit.html",
        context={
            "reads": rows,
            "kinds": KINDS,
            "students": students,
            "pages": PAGE_NAMES,
            "limit": AUDIT_PAGE,
        },
    )


PAGE_NAMES = {
    "work_log": "工作记录",
    "work_log_xlsx": "工作记录导出",
    "entry_history": "修改记录",
    "department_records": "系部记录",
    "escalations": "关注上报",
    "escalation": "关注上报（单条）",
    "student": "学生页面",
    "sync_pull": "手机同步",
}


def _students_of(db: Session, entries: list[Entry]) -> dict:
    """Entry id → the names of the students it is about (a visit names none: its room shows)."""
    about = {e.id: KINDS[e.kind].students(e.payload) if e.kind in KINDS else set() for e in entries}
    wanted = set().union(*about.values()) if about else set()
    names = {}
    if wanted:
        rows = db.execute(select(Student.id, Student.name).where(Student.id.in_(wanted)))
        names = {student_id: name for student_id, name in rows}
    return {
        entry_id: "、".join(names[i] for i in sorted(ids) if i in names)
        for entry_id, ids in about.items()
    }


ROUTES = [department_records, sensitive_reads]  # /escalations: routes/escalations.py
