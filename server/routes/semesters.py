"""/admin/semesters: the college's semester calendar (office and admin)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import clock, semesters
from server.auth import requires_office
from server.models import Semester, User
from server.params import OptionalId

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/admin/semesters", name="semesters", guards=[requires_office], sync_to_thread=True)
def semester_list(db: Session, edit: OptionalId = None, saved: str = "") -> Template:
    editing = db.get(Semester, edit) if edit else None
    return _page(db, editing=editing, saved=bool(saved))


@post("/admin/semesters/save", name="save_semester", guards=[requires_office], sync_to_thread=True)
def save_semester(
    request: Request[User, dict, object], db: Session, data: Form
) -> Template | Redirect:
    wanted = str(data.get("semester_id") or "")
    editing = None
    if wanted:
        editing = db.get(Semester, int(wanted)) if wanted.isdecimal() and len(wanted) < 10 else None
        if editing is None:
            raise NotFoundException("找不到这个学期。")
    try:
        semesters.save(
            db, editing,
            name=str(data.get("name") or ""), first=str(data.get("first_day") or ""),
            last=str(data.get("last_day") or ""), holidays=str(data.get("holidays") or ""),
        )  # fmt: skip
    except semesters.SemesterError as exc:
        db.rollback()
        return _page(db, editing=editing, typed=data, error=str(exc), status=422)
    db.commit()
    return Redirect(f"{request.app.route_reverse('semesters')}?saved=1", status_code=303)


def _page(
    db: Session,
    *,
    editing: Semester | None = None,
    typed: dict | None = None,
    error: str = "",
    saved: bool = False,
    status: int = 200,
) -> Template:
    today = clock.today()
    if typed is None:
        typed = {
            "name": editing.name if editing else "",
            "first_day": editing.first_day.isoformat() if editing else "",
            "last_day": editing.last_day.isoformat() if editing else "",
            "holidays": semesters.holidays_text(editing),
        }
    return Template(
        "semesters.html",
        context={
            "semesters": semesters.all_semesters(db),
            "current": semesters.term_of(db, today),
            "editing": editing,
            "typed": typed,
            "error": error,
            "saved": saved,
            "holidays_of": semesters.holidays_of,
        },
        status_code=status,
    )


ROUTES = [semester_list, save_semester]
