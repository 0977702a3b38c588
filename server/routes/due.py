"""待办联系 (what is due): parents and course teachers due for contact, talk follow-ups."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.orm import Session

from server import clock, due, first_lessons, grades, records, second_classroom, semester_plans
from server.models import User


@get("/due", name="due", sync_to_thread=True)
def what_is_due(request: Request[User, dict, object], db: Session) -> Template:
    """Parents and course teachers due for contact, and talk follow-ups that have come."""
    user, today = request.user, clock.today()
    return Template(
        "due.html",
        context={
            "parents": due.parents_overdue(db, user, today),
            "teachers": due.course_teachers_overdue(db, user, today),
            "follow_ups": due.follow_ups_due(db, user, today),
            "cadence": due.cadence(db, user.department_id),
            "categories": records.TALK_CATEGORIES,
            "today": today,
            "lectures": second_classroom.lectures_due(db, user, today),
            "lectures_per_grade": second_classroom.LECTURES_PER_GRADE,
            "retake_report": grades.report_due(db, user, today),
            "first_lessons": first_lessons.due_for(db, user, today),
            "plans": semester_plans.due_for(db, user, today),
        },
    )


ROUTES = [what_is_due]
