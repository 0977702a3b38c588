"""工作记录 (work log, §1.4): a person's records day by day, the Excel export, the week's
review by the department leader, and an entry's revision history."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from io import BytesIO
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from server import clock, escalations, params, photos, scope, semesters, worklog
from server.kinds import KINDS
from server.models import User
from server.params import OptionalId

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@get("/log", name="work_log", sync_to_thread=True)
def work_log(
    request: Request[User, dict, object],
    db: Session,
    staff: OptionalId = None,
    week: str = "",
    kind: str = "",
    student: OptionalId = None,
    reviewed: str = "",
) -> Template:
    viewer = request.user
    person = scope.staff_for(db, viewer, staff)
    today = clock.today()
    monday, sunday = clock.week_of(worklog.parse_day(week) if week else today)
    kind = kind if kind in KINDS else ""
    lines = worklog.log_lines(db, viewer, person, monday, sunday, kind)
    shown = worklog.about_student(lines, student)
    _note_reads(db, viewer, shown, "work_log")
    term = semesters.term_of(db, monday)
    return Template(
        "work_log.html",
        context={
            "person": person,
            "people": worklog.staff_choices(db, viewer),
            "monday": monday,
            "sunday": sunday,
            "this_week": clock.week_of(today)[0],
            "days": worklog.by_day(shown),
            "students": worklog.students_in(lines),
            "kinds": KINDS,
            "kind": kind,
            "student": student,
            "reviews": worklog.reviews_of(db, person, monday),
            "may_review": worklog.may_review(viewer, person) and monday <= today,
            "flagged": sum(line.edited_after_review for line in lines),
            "added": sum(line.added_after_review for line in lines),
            "reviewed": bool(reviewed),
            "previous_week": _log_url(request, person, viewer, week=_shift(monday, -7), kind=kind),
            "next_week": _log_url(request, person, viewer, week=_shift(monday, 7), kind=kind)
            if monday < today - timedelta(days=today.weekday())
            else "",
            "export_week": _export_url(request, person, monday, sunday),
            "export_semester": _export_url(request, person, term.first, term.last),
            # the state of each escalation a line reported (server/escalations.py)
            "escalation_of": escalations.of_entries(db, viewer, [line.entry.id for line in shown]),
        },
    )


@get("/log.xlsx", name="work_log_xlsx", sync_to_thread=True)
def work_log_xlsx(
    request: Request[User, dict, object],
    db: Session,
    staff: OptionalId = None,
    start: str = "",
    end: str = "",
) -> Response:
    """A week or a semester of a person's log as an Excel sheet (this week by default)."""
    viewer = request.user
    person = scope.staff_for(db, viewer, staff)
    first, last = worklog.export_period(start, end, clock.today())
    lines = worklog.log_lines(db, viewer, person, first, last)
    _note_reads(db, viewer, lines, "work_log_xlsx")
    out = BytesIO()
    reviews = worklog.reviews_between(db, person, first, last)
    worklog.workbook(person, first, last, lines, reviews).save(out)
    filename = quote(f"工作记录_{person.name}_{first:%Y%m%d}-{last:%Y%m%d}.xlsx")
    return Response(
        out.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


@post("/log/reviews", name="review_week", sync_to_thread=True)
def review_week(request: Request[User, dict, object], db: Session, data: Form) -> Redirect:
    """检查: a plain form post from the log page of that person and week."""
    viewer = request.user
    staff_id = params.form_id(data, "staff")
    if staff_id is None:
        raise worklog.PeriodError("缺少被检查的老师。")
    person = scope.staff_for(db, viewer, staff_id)
    monday = worklog.parse_day(params.one(data, "week"), label="周")
    worklog.review_week(db, viewer, person, monday, params.one(data, "comment"))
    db.commit()
    return Redirect(
        _log_url(request, person, viewer, week=monday.isoformat(), reviewed="1"), status_code=303
    )


@get("/entries/{entry_id:uuid}/history", name="entry_history", sync_to_thread=True)
def entry_history(
    request: Request[User, dict, object], db: Session, entry_id: uuid.UUID
) -> Template:
    entry = scope.entry_for(db, request.user, entry_id)
    kind = KINDS.get(entry.kind)
    revisions = worklog.history(db, request.user, entry)
    earlier = [v.revision.payload for v in revisions]
    if scope.note_sensitive_reads(db, request.user, [entry], "entry_history", earlier=earlier):
        db.commit()
    return Template(
        "entry_history.html",
        context={
            "entry": entry,
            "label": kind.label if kind else entry.kind,
            "revisions": revisions,
            "recorded_at": clock.college_time(entry.recorded_at),
            "photos": [] if entry.deleted else photos.of_entry(db, entry.id),
            "may_edit": entry.author_id == request.user.id and not entry.deleted,
            "escalation_of": escalations.of_entries(db, request.user, [entry.id]),
        },
    )


def _note_reads(db: Session, viewer: User, lines: list[worklog.LogLine], page: str) -> None:
    if scope.note_sensitive_reads(db, viewer, [line.entry for line in lines], page):
        db.commit()


def _log_url(request: Request, person: User, viewer: User, **query: str) -> str:
    if person.id != viewer.id:
        query = {"staff": str(person.id), **query}
    query = {key: value for key, value in query.items() if value}
    return f"{request.app.route_reverse('work_log')}?{urlencode(query)}"


def _shift(day: date, days: int) -> str:
    return (day + timedelta(days=days)).isoformat()


def _export_url(request: Request, person: User, first, last) -> str:
    query = {"staff": person.id, "start": first.isoformat(), "end": last.isoformat()}
    return f"{request.app.route_reverse('work_log_xlsx')}?{urlencode(query)}"


ROUTES = [work_log, work_log_xlsx, review_week, entry_history]
