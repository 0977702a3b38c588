"""第二课堂 (§2.10): the activities one sees, proposing one, its approval and its result."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import clock, params, second_classroom, semesters
from server.entries import flag
from server.models import Activity, User
from server.params import Id, OptionalId

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/activities", name="activities", sync_to_thread=True)
def activities(request: Request[User, dict, object], db: Session) -> Template:
    """This semester's activities, proposals waiting for my approval, and the lecture rule."""
    user, today = request.user, clock.today()
    term = semesters.term_of(db, today)
    grades, classes = ([], [])
    if user.department_id is not None:
        grades, classes = second_classroom.lecture_tallies(
            db, user.department_id, term.first, term.last
        )
    return Template(
        "activities.html",
        context={
            "activities": second_classroom.visible(db, user, term.first, term.last),
            "waiting": second_classroom.waiting_for(db, user),
            "grades": grades,
            "classes": classes,
            "term": term,
            "may_propose": bool(second_classroom.proposable_classes(db, user)),
            **_labels(),
        },
    )


@get("/activities/new", name="new_activity", sync_to_thread=True)
def new_activity(
    request: Request[User, dict, object], db: Session, copy: OptionalId = None
) -> Template:
    """The proposal form; `?copy=<id>` fills it from an activity (one that was returned)."""
    source = second_classroom.activity_for(db, request.user, copy) if copy else None
    return _form(db, request.user, _values_of(source) if source else {})


@post("/activities/create", name="propose_activity", sync_to_thread=True)
def propose_activity(
    request: Request[User, dict, object], db: Session, data: Form
) -> Template | Redirect:
    user = request.user
    try:
        values = {
            "category": params.one(data, "category"), "title": params.one(data, "title"),
            "organiser": params.one(data, "organiser"), "place": params.one(data, "place"),
            "expected": params.one(data, "expected"), "safety": params.one(data, "safety"),
            "high_level": flag(data.get("high_level")) is True,
            "grades": params.form_ids(data, "grades"), "class_ids": params.form_ids(data, "class_ids"),
            "day": params.one(data, "day"),
        }  # fmt: skip
        day = params.parse_date(values["day"], "活动日期")
    except params.BadInput as exc:
        return _form(db, user, _typed(data), exc.detail, 422)
    try:
        activity = second_classroom.propose(
            db, user, **{**values, "day": day}, today=clock.today()
        )
    except second_classroom.ActivityError as exc:
        db.rollback()
        return _form(db, user, _typed(data), str(exc), 422)
    db.commit()
    return Redirect(
        request.app.route_reverse("activity", activity_id=activity.id), status_code=303
    )


@get("/activities/{activity_id:int}", name="activity", sync_to_thread=True)
def activity_page(request: Request[User, dict, object], db: Session, activity_id: Id) -> Template:
    return _page(db, request.user, second_classroom.activity_for(db, request.user, activity_id))


@post("/activities/{activity_id:int}/decide", name="decide_activity", sync_to_thread=True)
def decide_activity(
    request: Request[User, dict, object], db: Session, activity_id: Id, data: Form
) -> Template | Redirect:
    user = request.user
    activity = second_classroom.activity_for(db, user, activity_id)
    try:
        second_classroom.decide(
            db, activity, user, params.one(data, "decision"), params.one(data, "note"),
            clock.today(),
        )  # fmt: skip
    except second_classroom.ActivityError as exc:
        db.rollback()
        return _page(db, user, second_classroom.activity_for(db, user, activity_id), str(exc), 409)
    db.commit()
    return Redirect(request.app.route_reverse("activity", activity_id=activity_id), status_code=303)


@post("/activities/{activity_id:int}/complete", name="complete_activity", sync_to_thread=True)
def complete_activity(
    request: Request[User, dict, object], db: Session, activity_id: Id, data: Form
) -> Template | Redirect:
    user = request.user
    activity = second_classroom.activity_for(db, user, activity_id)
    try:
        second_classroom.complete(
            db, activity, user, params.one(data, "outcome"), params.one(data, "participants"),
            params.one(data, "summary"), clock.today(),
        )  # fmt: skip
    except second_classroom.ActivityError as exc:
        db.rollback()
        return _page(db, user, second_classroom.activity_for(db, user, activity_id), str(exc), 409)
    db.commit()
    return Redirect(request.app.route_reverse("activity", activity_id=activity_id), status_code=303)


def _labels() -> dict:
    return {
        "categories": second_classroom.CATEGORIES,
        "statuses": second_classroom.STATUSES,
        "step_labels": second_classroom.STEP_LABELS,
        "today": clock.today(),
        "lectures_per_grade": second_classroom.LECTURES_PER_GRADE,
    }


def _form(db: Session, user: User, values: dict, error: str = "", status: int = 200) -> Template:
    classes = second_classroom.proposable_classes(db, user)
    if not classes:
        raise PermissionDeniedException(
            "只有系部的辅导员、班主任和学生工作负责人可以申报第二课堂活动。"
        )
    return Template(
        "activity_form.html",
        context={
            "values": values, "error": error, "school_classes": classes,
            "grade_years": sorted({c.grade for c in classes}, reverse=True), **_labels(),
        },  # fmt: skip
        status_code=status,
    )


def _page(db: Session, user: User, activity: Activity, error: str = "", status: int = 200):
    return Template(
        "activity.html",
        context={
            "activity": activity,
            "class_names": second_classroom.class_names(db, activity),
            "may_decide": second_classroom.may_decide(db, user, activity),
            "may_complete": second_classroom.may_complete(db, user, activity),
            "error": error,
            **_labels(),
        },
        status_code=status,
    )


def _values_of(activity: Activity) -> dict:
    return {
        "category": activity.category, "title": activity.title, "organiser": activity.organiser,
        "place": activity.place, "expected": str(activity.expected), "safety": activity.safety,
        "high_level": activity.high_level, "class_ids": list(activity.class_ids), "grades": [],
        "day": "",
    }  # fmt: skip


def _typed(data: dict) -> dict:
    """What was typed, to draw the refused form again (ids that are not ids dropped)."""

    def ids(name):
        values = data.get(name, [])
        return [params.as_id(v) for v in (values if isinstance(values, list) else [values])]

    text = {k: data.get(k) for k in ("category", "title", "organiser", "place", "expected",
                                     "safety", "day")}  # fmt: skip
    return {
        **{k: v if isinstance(v, str) else "" for k, v in text.items()},
        "high_level": flag(data.get("high_level")) is True,
        "grades": ids("grades"),
        "class_ids": ids("class_ids"),
    }


ROUTES = [activities, new_activity, propose_activity, activity_page, decide_activity,
          complete_activity]  # fmt: skip
