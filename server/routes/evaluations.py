"""宿舍评比 and 公示 (guideline §2.9): leaders open rounds, read the rankings and the five-star
rate, publish a round behind a long link and revoke it; the published page needs no login.

The rules (scores, ranks, rates) are server/evaluations.py; who may read or manage a round is
`scope.evaluation_for`.
"""

from __future__ import annotations

import io
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, evaluations, params, scope, semesters, xlsx
from server.auth import requires_leader, role_guard
from server.dorm_visits import ISSUES
from server.models import Building, Department, EvaluationRound, Role, User
from server.params import Id, OptionalId

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# opening and publishing rounds: leaders (their department) and the office (any)
requires_leader_or_office = role_guard(Role.leader, Role.office)
# the published page: no login, no session; the link itself is the key
PUBLIC = {"exclude_from_auth": True, "include_in_schema": False}
ROBOTS = {"X-Robots-Tag": "noindex, nofollow"}
FIELDS = [
    "name", "department_id", "period", "week_day", "month", "first_day", "last_day", "grade",
    "building_id", "rule", "inspection_days", *(f"deduct_{issue}" for issue in ISSUES),
]  # fmt: skip


@get("/evaluations", name="evaluations", guards=[requires_leader], sync_to_thread=True)
def evaluation_list(request: Request[User, dict, object], db: Session) -> Template:
    rounds = evaluations.rounds_for(db, request.user)
    return Template(
        "evaluations.html",
        context={
            "rounds": rounds,
            "scopes": {r.id: evaluations.scope_label(r) for r in rounds},
            "rules": evaluations.RULES,
            "may_open": request.user.has(Role.leader, Role.office),
        },
    )


@get(
    "/evaluations/new",
    name="evaluation_form",
    guards=[requires_leader_or_office],
    sync_to_thread=True,
)
def evaluation_form(request: Request[User, dict, object], db: Session) -> Template:
    return _form(db, request.user, {})


@post(
    "/evaluations/create",
    name="open_evaluation",
    guards=[requires_leader_or_office],
    sync_to_thread=True,
)
def open_evaluation(
    request: Request[User, dict, object], db: Session, data: Form
) -> Template | Redirect:
    typed = {name: params.one(data, name) for name in FIELDS}
    try:
        evaluation = evaluations.open_round(db, request.user, typed)
    except evaluations.EvaluationError as exc:
        db.rollback()
        return _form(db, request.user, typed, error=str(exc.detail), status=422)
    db.commit()
    url = request.app.route_reverse("evaluation", round_id=evaluation.id)
    return Redirect(url, status_code=303)


@get(
    "/evaluations/{round_id:int}", name="evaluation", guards=[requires_leader], sync_to_thread=True
)
def evaluation_page(
    request: Request[User, dict, object], db: Session, round_id: Id, view: str = "grade"
) -> Template:
    evaluation = scope.evaluation_for(db, request.user, round_id)
    found = evaluations.results(db, evaluation)
    if view == "building":
        found.sort(key=lambda r: (r.score is None, r.building, r.building_rank or 0, r.number))
    publication = evaluations.active_publication(db, evaluation)
    return Template(
        "evaluation.html",
        context={
            "evaluation": evaluation,
            "results": found,
            "view": "building" if view == "building" else "grade",
            "scope_label": evaluations.scope_label(evaluation),
            "deductions": evaluations.deductions_label(evaluation),
            "rules": evaluations.RULES,
            "publication": publication,
            "public_url": _public_url(request, publication),
            "may_manage": evaluations.may_manage(request.user, evaluation.department_id),
            "scored": sum(1 for r in found if r.score is not None),
        },
    )


@get(
    "/evaluations/{round_id:int}/export.xlsx",
    name="evaluation_xlsx",
    guards=[requires_leader],
    sync_to_thread=True,
)
def evaluation_xlsx(request: Request[User, dict, object], db: Session, round_id: Id) -> Response:
    evaluation = scope.evaluation_for(db, request.user, round_id)
    rows = evaluations.public_rows(evaluations.results(db, evaluation))
    return _workbook(evaluation, rows)


@post(
    "/evaluations/{round_id:int}/publish",
    name="publish_evaluation",
    guards=[requires_leader_or_office],
    sync_to_thread=True,
)
def publish_evaluation(request: Request[User, dict, object], db: Session, round_id: Id) -> Redirect:
    evaluation = scope.evaluation_for(db, request.user, round_id, to_manage=True)
    evaluations.publish(db, request.user, evaluation)
    db.commit()
    return Redirect(request.app.route_reverse("evaluation", round_id=round_id), status_code=303)


@post(
    "/evaluations/{round_id:int}/revoke",
    name="revoke_evaluation",
    guards=[requires_leader_or_office],
    sync_to_thread=True,
)
def revoke_evaluation(request: Request[User, dict, object], db: Session, round_id: Id) -> Redirect:
    evaluation = scope.evaluation_for(db, request.user, round_id, to_manage=True)
    evaluations.revoke(db, request.user, evaluation)
    db.commit()
    return Redirect(request.app.route_reverse("evaluation", round_id=round_id), status_code=303)


@get(
    "/evaluations/five-star",
    name="five_star_rates",
    guards=[requires_leader],
    sync_to_thread=True,
)
def five_star_rates(
    request: Request[User, dict, object],
    db: Session,
    day: str = "",
    department: OptionalId = None,
) -> Template:
    """The five-star rate of a semester (any day of it; today's by default)."""
    user = request.user
    on = params.parse_date(day, "学期中的日期") if day else clock.today()
    term = semesters.term_of(db, on)
    if scope.sees_everything(user):
        dept = db.get(Department, department) if department else None
        if department and dept is None:
            raise params.BadInput("找不到这个系部。")
    else:
        dept = scope.department_for(db, user, department, refusal="只能查看本系部的五星率。")
    rates = evaluations.five_star_rates(db, term.first, term.last, dept.id if dept else None)
    return Template(
        "evaluation_rates.html",
        context={
            "term": term,
            "department": dept,
            "departments": list(db.scalars(select(Department).order_by(Department.id)))
            if scope.sees_everything(user)
            else [],
            "rates": rates,
            "target": evaluations.FIVE_STAR_TARGET,
            "day": on,
        },
    )


@get("/p/{token:str}", name="publication", sync_to_thread=True, **PUBLIC)
def publication(db: Session, token: str) -> Template:
    """公示: the published ranking, for anyone with the link (a screen, a notice board)."""
    found = evaluations.published(db, token)
    if found is None:
        return Template("evaluation_gone.html", status_code=404, headers=ROBOTS)
    evaluation = found.evaluation_round
    return Template(
        "evaluation_public.html",
        context={
            "publication": found,
            "evaluation": evaluation,
            "rows": found.rows,
            "scope_label": evaluations.scope_label(evaluation),
            "deductions": evaluations.deductions_label(evaluation),
            "rules": evaluations.RULES,
        },
        headers=ROBOTS,
    )


@get("/p/{token:str}/export.xlsx", name="publication_xlsx", sync_to_thread=True, **PUBLIC)
def publication_xlsx(db: Session, token: str) -> Response | Template:
    found = evaluations.published(db, token)
    if found is None:
        return Template("evaluation_gone.html", status_code=404, headers=ROBOTS)
    return _workbook(found.evaluation_round, found.rows)


# --- helpers ------------------------------------------------------------------------------------


def _form(db: Session, user: User, typed: dict, *, error: str = "", status: int = 200) -> Template:
    office = user.has(Role.office)
    department_id = params.as_id(typed.get("department_id")) if office else user.department_id
    defaults = {
        "period": "week",
        "week_day": clock.today().isoformat(),
        "month": clock.today().strftime("%Y-%m"),
        "rule": "mean",
        **{f"deduct_{i}": f"{w:g}" for i, w in evaluations.DEFAULT_DEDUCTIONS.items()},
    }
    return Template(
        "evaluation_form.html",
        context={
            "typed": defaults | {k: v for k, v in typed.items() if v},
            "error": error,
            "office": office,
            "departments": list(db.scalars(select(Department).order_by(Department.id))),
            "own_department": user.department,
            "grades": evaluations.grades(db, department_id),
            "buildings": list(db.scalars(select(Building).order_by(Building.name))),
            "periods": evaluations.PERIODS,
            "rules": evaluations.RULES,
            "issues": ISSUES,
        },
        status_code=status,
    )


def _public_url(request: Request, publication) -> str:
    if publication is None:
        return ""
    path = request.app.route_reverse("publication", token=publication.token)
    base = request.app.state.settings.base_url.rstrip("/")
    return f"{base}{path}"


def _workbook(evaluation: EvaluationRound, rows: list[dict]) -> Response:
    book = Workbook()
    sheet = book.active
    sheet.title = "评比结果"
    xlsx.append(sheet, [evaluation.name])
    xlsx.append(
        sheet,
        [
            f"{evaluation.first_day:%Y-%m-%d} 至 {evaluation.last_day:%Y-%m-%d}　{evaluations.scope_label(evaluation)}"
        ],
    )
    xlsx.append(sheet, evaluations.EXPORT_HEADERS)
    for row in evaluations.export_rows(rows):
        xlsx.append(sheet, row)
    for column, width in zip("ABCDEFGHIJ", (9, 9, 14, 8, 30, 7, 7, 8, 7, 7), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    filename = quote(f"{evaluation.name}.xlsx")
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}", **ROBOTS},
    )


ROUTES = [
    evaluation_list,
    evaluation_form,
    open_evaluation,
    five_star_rates,
    evaluation_page,
    evaluation_xlsx,
    publish_evaluation,
    revoke_evaluation,
    publication,
    publication_xlsx,
]
