"""/admin/cohorts: graduate a cohort (admin): list → confirm → 毕业 + archived classes."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import cohorts
from server.auth import requires_admin
from server.models import User

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/admin/cohorts", name="cohorts", guards=[requires_admin], sync_to_thread=True)
def cohort_list(db: Session, confirm: str = "", done: str = "") -> Template:
    return _page(db, confirm=_year(confirm), done=_year(done))


@post(
    "/admin/cohorts/graduate", name="graduate_cohort", guards=[requires_admin], sync_to_thread=True
)
def graduate_cohort(
    request: Request[User, dict, object], db: Session, data: Form
) -> Template | Redirect:
    year = _year(str(data.get("year") or ""))
    if year is None:
        return _page(db, error="请选择要毕业的入学年份。", status=422)
    try:
        cohorts.graduate(db, year)
    except cohorts.CohortError as exc:
        db.rollback()
        return _page(db, error=str(exc), status=422)
    db.commit()
    url = request.app.route_reverse("cohorts")
    return Redirect(f"{url}?done={year}", status_code=303)


def _year(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdecimal() and len(text) == 4 else None


def _page(
    db: Session,
    *,
    confirm: int | None = None,
    done: int | None = None,
    error: str = "",
    status: int = 200,
) -> Template:
    found = cohorts.cohorts(db)
    return Template(
        "cohorts.html",
        context={
            "cohorts": found,
            "confirming": next((c for c in found if c.year == confirm), None),
            "done": done,
            "error": error,
        },
        status_code=status,
    )


ROUTES = [cohort_list, graduate_cohort]
