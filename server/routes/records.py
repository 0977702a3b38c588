"""The guideline's records as phone forms (server/records.py): a new record, and its author's
edits.

A form page has no query string by default (/records/new/talk), so 准备巡查 caches it and it
opens offline; a save goes through merge.apply like a dorm visit, or into the phone's outbox.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import attendance, clock, dorm_visits, params, pinyin, records, scope
from server.entries import Kind, one
from server.kinds import KINDS, RECORD_KINDS
from server.models import (
    ClassCourse,
    Entry,
    Guardian,
    SchoolClass,
    Student,
    User,
)
from server.params import OptionalId
from server.routes import attendance as attendance_routes
from server.routes import dorm_visits as visit_routes
from server.routes import forms
from server.sync import merge
from server.sync.ids import new_entry_id

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MAX_LEAVE_DAYS = 60


def _kind(name: str) -> Kind:
    kind = RECORD_KINDS.get(name)
    if kind is None:
        raise NotFoundException("没有这种记录。")
    return kind


@get("/records/new/{kind_name:str}", name="new_record", sync_to_thread=True)
def new_record(
    request: Request[User, dict, object], db: Session, kind_name: str, student: OptionalId = None
) -> Template:
    return _form(db, request.user, _kind(kind_name), typed={"student_id": student})


@post("/records/{kind_name:str}", name="save_record", sync_to_thread=True)
def save_record(
    request: HTMXRequest, db: Session, kind_name: str, data: Form
) -> Template | Redirect | ClientRedirect:
    """Like the dorm visit form: a plain post is redirected (303), an htmx post gets a client
    redirect, a refused record comes back as the form with what was typed and why."""
    kind = _kind(kind_name)
    entry_id, outcome, typed = forms.save(request, db, kind, data)
    if forms.stored(outcome):
        return forms.saved(request, entry_id, kind)
    return _form(
        db,
        request.user,
        kind,
        error=outcome.reason,
        typed=typed,
        status=422,
        partial=bool(request.htmx),
        occurred=str(one(data, forms.OCCURRED_FIELD) or "")[:16],
    )


@get("/entries/{entry_id:uuid}/edit", name="edit_record", sync_to_thread=True)
def edit_record(request: Request[User, dict, object], db: Session, entry_id: uuid.UUID) -> Template:
    """The record's form, filled in, for its author: saving writes a new revision. Every
    kind: a dorm visit gets its door form, an attendance check its roster with the marks."""
    entry, _ = _own_record(db, request.user, entry_id)
    return _edit_page(db, request.user, entry)


@post("/entries/{entry_id:uuid}/revisions", name="save_edit", sync_to_thread=True)
def save_edit(
    request: HTMXRequest, db: Session, entry_id: uuid.UUID, data: Form
) -> Template | Redirect | ClientRedirect:
    """An edit is an update based on the revision the form showed: if the record changed
    since (another phone), the server keeps its version and the form says so (a conflict)."""
    entry, kind = _own_record(db, request.user, entry_id)
    _, outcome, typed = forms.save(
        request,
        db,
        kind,
        data,
        entry_id=entry.id,
        base_revision=forms.id_of(data.get("base_revision")),
    )
    if forms.stored(outcome):
        return forms.saved(request, entry.id, kind)
    db.refresh(entry)
    return _edit_page(
        db,
        request.user,
        entry,
        error=outcome.reason,
        typed=typed,
        status=422,  # a conflict too: the form swaps in with the reason and what was typed
        partial=bool(request.htmx),
    )


@post("/entries/{entry_id:uuid}/delete", name="delete_record", sync_to_thread=True)
def delete_record(
    request: HTMXRequest, db: Session, entry_id: uuid.UUID, data: Form
) -> Template | Redirect:
    """Delete with a reason: a revision marks the record deleted (who, when, why), its photos
    go, and it counts nowhere afterwards. Based on the revision the page showed, like an edit."""
    entry, kind = _own_record(db, request.user, entry_id)
    outcome = merge.apply(
        db,
        request.user,
        merge.Mutation(
            id=entry.id,
            op="delete",
            kind=kind.name,
            base_revision=forms.id_of(data.get("base_revision")),
            reason=params.one(data, "reason"),
        ),
    )
    db.commit()
    if forms.stored(outcome):
        target = f"{request.app.route_reverse('my_records')}?deleted={entry.id}"
        return Redirect(target, status_code=303)
    db.refresh(entry)
    return _edit_page(db, request.user, entry, delete_error=outcome.reason, status=422)


def _own_record(db: Session, user: User, entry_id: uuid.UUID) -> tuple[Entry, Kind]:
    entry = scope.entry_for(db, user, entry_id, to_edit=True)
    kind = KINDS.get(entry.kind)
    if kind is None:
        raise NotFoundException("没有这种记录。")
    locked = kind.locked(db, entry.id)
    if locked:
        raise PermissionDeniedException(locked)
    return entry, kind


def _edit_page(
    db: Session,
    user: User,
    entry: Entry,
    *,
    error: str = "",
    delete_error: str = "",
    typed: dict | None = None,
    status: int = 200,
    partial: bool = False,
) -> Template:
    """The correction form of the entry's kind, with the delete form below it."""
    if entry.kind == dorm_visits.KIND:
        page = visit_routes.edit_form
    elif entry.kind == attendance.KIND:
        page = attendance_routes.edit_form
    else:
        page = None
    if page is not None:
        template = page(db, user, entry, error=error, typed=typed, status=status, partial=partial)
    else:
        template = _form(
            db,
            user,
            _kind(entry.kind),
            error=error,
            typed=entry.payload if typed is None else typed,
            editing=entry,
            status=status,
            partial=partial,
        )
    template.context["delete_error"] = delete_error
    template.context["max_reason"] = merge.MAX_REASON_CHARS
    return template


def _form(
    db: Session,
    user: User,
    kind: Kind,
    *,
    error: str = "",
    typed: dict | None = None,
    entry_id: uuid.UUID | None = None,
    editing: Entry | None = None,
    status: int = 200,
    partial: bool = False,
    occurred: str = "",
) -> Template:
    return Template(
        "_record_form.html" if partial else "record_form.html",
        context={
            "kind": kind,
            "entry_id": editing.id if editing else entry_id or new_entry_id(),
            "editing": editing,
            "typed": typed or {},
            "error": error,
            "today": clock.today(),
            "records": records,
            "typed_occurred": occurred,  # a refused form keeps the time typed (_occurred_at.html)
            **_class_first(_choices(db, user, kind.name), (typed or {}).get("student_id")),
        },
        status_code=status,
    )


def _class_first(choices: dict, student_id: object) -> dict:
    """The picker lists the class of the student the form was opened for first (联系家长 from
    待办联系 names one)."""
    groups = choices.get("student_groups")
    if groups and isinstance(student_id, int):
        groups.sort(key=lambda group: all(s.id != student_id for s in group[1]))
    return choices


def _choices(db: Session, user: User, kind_name: str) -> dict:
    """What the form of this kind offers: only what is in the user's scope."""
    if kind_name == "plan":
        return {}  # a plan names no student, class or course
    classes = db.scalars(
        select(SchoolClass).where(scope.class_condition(user)).order_by(SchoolClass.name)
    ).all()
    if kind_name == "discipline":
        # a counselor proposes handling for the students of the classes they counsel (§1.8)
        classes = [
            c
            for c in db.scalars(
                select(SchoolClass)
                .where(scope.current_class(), SchoolClass.counselor_id == user.id)
                .order_by(SchoolClass.name)
            )
        ]
    if kind_name in ("talk", "parent_contact", "discipline"):
        students = db.scalars(
            select(Student)
            .where(Student.class_id.in_([c.id for c in classes]), scope.enrolled())
            .order_by(Student.class_id, Student.student_number)
        ).all()
        by_class = {c.id: (c, []) for c in classes}
        for s in students:
            by_class[s.class_id][1].append(s)
        guardians = []
        if kind_name == "parent_contact":
            guardians = db.scalars(
                select(Guardian)
                .where(Guardian.student_id.in_([s.id for s in students]))
                .order_by(Guardian.student_id, Guardian.id)
            ).all()
        return {
            "student_groups": list(by_class.values()),
            "guardians": guardians,
            # the picker finds 郑宇强 by "zyq" or "zhengyuqiang", offline too (in the page)
            "pinyin": {s.id: pinyin.keys(s.name) for s in students},
        }
    if kind_name in ("lecture_observation", "teacher_contact"):
        taught = db.scalars(
            select(ClassCourse)
            .options(joinedload(ClassCourse.course), joinedload(ClassCourse.teacher))
            .where(ClassCourse.class_id.in_([c.id for c in classes]))
            .order_by(ClassCourse.class_id, ClassCourse.id)
        ).all()
        names = {c.id: c.name for c in classes}
        return {"taught": [(t, names[t.class_id]) for t in taught]}
    if kind_name == "meeting":  # attendees and chair are picked from the department's staff
        return {"classes": classes, "staff": records.department_staff(db, user.department_id)}
    return {"classes": classes}


ROUTES = [new_record, save_record, edit_record, save_edit, delete_record]
