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
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import clock, records, scope
from server.entries import Kind
from server.kinds import RECORD_KINDS
from server.models import (
    ClassCourse,
    Entry,
    Guardian,
    SchoolClass,
    Student,
    User,
)
from server.params import OptionalId
from server.routes import forms
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
        return forms.saved(request, entry_id)
    return _form(
        db,
        request.user,
        kind,
        error=outcome.reason,
        typed=typed,
        status=422,
        partial=bool(request.htmx),
    )


@get("/entries/{entry_id:uuid}/edit", name="edit_record", sync_to_thread=True)
def edit_record(request: Request[User, dict, object], db: Session, entry_id: uuid.UUID) -> Template:
    """The record's form, filled in, for its author: saving writes a new revision."""
    entry, kind = _own_record(db, request.user, entry_id)
    return _form(db, request.user, kind, typed=entry.payload, editing=entry)


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
        return forms.saved(request, entry.id)
    db.refresh(entry)
    return _form(
        db,
        request.user,
        kind,
        error=outcome.reason,
        typed=typed,
        editing=entry,
        status=422,  # a conflict too: the form swaps in with the reason and what was typed
        partial=bool(request.htmx),
    )


def _own_record(db: Session, user: User, entry_id: uuid.UUID) -> tuple[Entry, Kind]:
    entry = scope.entry_for(db, user, entry_id, to_edit=True)
    return entry, _kind(entry.kind)


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
            **_choices(db, user, kind.name),
        },
        status_code=status,
    )


def _choices(db: Session, user: User, kind_name: str) -> dict:
    """What the form of this kind offers: only what is in the user's scope."""
    if kind_name == "plan":
        return {}  # a plan names no student, class or course
    classes = db.scalars(
        select(SchoolClass).where(scope.class_condition(user)).order_by(SchoolClass.name)
    ).all()
    if kind_name in ("talk", "parent_contact"):
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
        return {"student_groups": list(by_class.values()), "guardians": guardians}
    if kind_name in ("lecture_observation", "teacher_contact"):
        taught = db.scalars(
            select(ClassCourse)
            .options(joinedload(ClassCourse.course), joinedload(ClassCourse.teacher))
            .where(ClassCourse.class_id.in_([c.id for c in classes]))
            .order_by(ClassCourse.class_id, ClassCourse.id)
        ).all()
        names = {c.id: c.name for c in classes}
        return {"taught": [(t, names[t.class_id]) for t in taught]}
    return {"classes": classes}


ROUTES = [new_record, save_record, edit_record, save_edit]
