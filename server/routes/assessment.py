"""考核 (§4): the department's scores per period, its rules and their filing (备案) with the
office, the assessment group's points and confirmation, the charts and the exports
(server/assessment.py, server/charts.py, server/assessment_export.py)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import assessment, assessment_export, charts, clock, errors, flash, params, scope
from server.assessment import AssessmentError
from server.auth import requires_leader, role_guard
from server.kinds import KINDS
from server.models import AssessmentRules, Department, Role, User
from server.params import OptionalId

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
requires_office = role_guard(Role.office)
REFUSAL = "只能查看本系部的考核。"


@get("/assessment", name="assessment", guards=[requires_leader], sync_to_thread=True)
def overview(
    request: Request[User, dict, object], db: Session, department: OptionalId = None,
    period: str = "",
) -> Template:  # fmt: skip
    """The department's scores of a period: one row per person, one column per item, rank."""
    user = request.user
    dept = scope.department_for(db, user, department, refusal=REFUSAL)
    rules = assessment.rules_in_force(db, dept.id)
    current = _period(db, rules, period)
    today = clock.today()
    scores = assessment.department_scores(db, dept.id, current, rules, today)
    snap = assessment.snapshot_of(db, dept.id, current)
    return Template(
        "assessment.html",
        context={
            **_common(db, user, dept),
            "rules": rules,
            "period": current,
            "periods": assessment.recent_periods(db, rules.period, today),
            "scores": scores,
            "links": _links(request, scores, current),
            "group": assessment.group(db, dept.id),
            "member": assessment.is_member(db, dept.id, user),
            "confirmed": {c.user_id for c in assessment.confirmations(db, dept.id, current)},
            "snapshot": snap,
            "frozen": assessment.frozen_scores(snap) if snap else {},
            "changed": assessment.changed_after_freeze(db, dept.id, current, snap) if snap else [],
            "may_confirm": current.last < today,
            "kinds": KINDS,
            **_labels(),
        },
    )


@get("/assessment/people/{staff_id:int}", name="assessment_person", sync_to_thread=True)
def person(
    request: Request[User, dict, object], db: Session, staff_id: int, period: str = ""
) -> Template:
    """One person's breakdown: each item's count and points, linked to the records behind
    it, and the weekly quotas of the semester as a chart with its table."""
    viewer = request.user
    staff = scope.staff_for(db, viewer, staff_id)
    if staff.department_id is None:
        raise NotFoundException("这位老师不属于任何系部。")
    rules = assessment.rules_in_force(db, staff.department_id)
    current = _period(db, rules, period)
    today = clock.today()
    ctx = assessment.Context(db, staff.department_id, current, today)
    result = assessment.score(ctx, staff, rules)
    semester = assessment.period_for_day(db, "semester", min(today, current.last))
    weeks = charts.person_weeks(db, staff, semester, today)
    return Template(
        "assessment_person.html",
        context={
            "staff": staff,
            "rules": rules,
            "period": current,
            "periods": assessment.recent_periods(db, rules.period, today),
            "result": result,
            "links": _links(request, [result], current),
            "semester": semester,
            "weeks": weeks,
            "chart": charts.line_chart(weeks.series, weeks.x_labels, 100, "%"),
            "log_url": request.app.route_reverse("work_log"),
            "member": assessment.is_member(db, staff.department_id, viewer)
            and assessment.snapshot_of(db, staff.department_id, current) is None,
            **_labels(),
        },
    )


@get("/assessment/rules", name="assessment_rules", guards=[requires_leader], sync_to_thread=True)
def rules_page(
    request: Request[User, dict, object], db: Session, department: OptionalId = None
) -> Template:
    dept = scope.department_for(db, request.user, department, refusal="只能设置本系部的考核细则。")
    return _rules_page(db, request.user, dept)


@post("/assessment/rules/save", name="assessment_rules_save", guards=[requires_leader],
      sync_to_thread=True)  # fmt: skip
def rules_save(
    request: Request[User, dict, object], db: Session, data: Form
) -> Response | Redirect:
    dept = _posted_department(db, request.user, data)
    fields = {k: params.one(data, k) for k in data}
    copy = assessment.working_copy(db, dept.id)
    try:
        period, items = assessment.parse_items(fields, copy.items)
        assessment.save_draft(db, dept.id, request.user, period, items)
    except (ValueError, AssessmentError) as exc:
        db.rollback()
        return _rules_page(db, request.user, dept, error=str(exc), status=422)
    db.commit()
    flash.flash(request, "细则已保存为草稿；报学工部备案后生效。")
    return _back(request, "assessment_rules", dept)


@post("/assessment/rules/file", name="assessment_rules_file", guards=[requires_leader],
      sync_to_thread=True)  # fmt: skip
def rules_file(
    request: Request[User, dict, object], db: Session, data: Form
) -> Response | Redirect:
    dept = _posted_department(db, request.user, data)
    try:
        assessment.file_rules(db, dept.id, request.user, params.one(data, "version"))
    except AssessmentError as exc:
        return _rules_page(db, request.user, dept, error=str(exc), status=409)
    db.commit()
    flash.flash(request, "已报学工部备案。")
    return _back(request, "assessment_rules", dept)


@get("/assessment/rules/{rules_id:int}", name="assessment_version", guards=[requires_leader],
     sync_to_thread=True)  # fmt: skip
def version(request: Request[User, dict, object], db: Session, rules_id: int) -> Template:
    """One version of a department's rules, readable after newer ones replace it."""
    row = _version(db, request.user, rules_id)
    return Template(
        "assessment_version.html",
        context={"row": row, "rules": assessment.Rules(row.period, row.measures, row),
                 **_labels()},
    )  # fmt: skip


@get("/assessment/filings", name="assessment_filings", guards=[requires_office],
     sync_to_thread=True)  # fmt: skip
def filings(db: Session) -> Template:
    """The office: rules filed and waiting, and each department's rules in force."""
    departments = db.scalars(select(Department).order_by(Department.name)).all()
    return Template(
        "assessment_filings.html",
        context={
            "waiting": assessment.waiting_filings(db),
            "departments": [(d, assessment.rules_in_force(db, d.id)) for d in departments],
            **_labels(),
        },
    )


@post("/assessment/rules/{rules_id:int}/decide", name="assessment_decide",
      guards=[requires_office], sync_to_thread=True)  # fmt: skip
def decide(
    request: Request[User, dict, object], db: Session, rules_id: int, data: Form
) -> Response | Redirect:
    choice = params.one(data, "decision")
    if choice not in ("accept", "return"):
        return _error(request, "请选择备案或退回。", 422)
    try:
        row = assessment.decide(
            db, rules_id, request.user, choice == "accept", params.one(data, "comment")
        )
    except AssessmentError as exc:
        return _error(request, str(exc), 404 if "找不到" in str(exc) else 409)
    db.commit()
    flash.flash(
        request, f"{row.department.name}的细则已{'备案' if choice == 'accept' else '退回'}。"
    )
    return Redirect(request.app.route_reverse("assessment_filings"), status_code=303)


@get("/assessment/group", name="assessment_group", guards=[requires_leader], sync_to_thread=True)
def group_page(
    request: Request[User, dict, object], db: Session, department: OptionalId = None
) -> Template:
    dept = scope.department_for(db, request.user, department, refusal=REFUSAL)
    return _group_page(db, request.user, dept)


@post("/assessment/group/save", name="assessment_group_save", guards=[requires_leader],
      sync_to_thread=True)  # fmt: skip
def group_save(
    request: Request[User, dict, object], db: Session, data: Form
) -> Response | Redirect:
    """The leader names the assessment group (§4: 组建学生工作考核领导小组)."""
    dept = _posted_department(db, request.user, data)
    if not request.user.has(Role.leader) or request.user.department_id != dept.id:
        return _error(request, "考核小组由本系部学生工作负责人指定。", 403)
    try:
        assessment.set_group(db, dept.id, set(params.form_ids(data, "members")))
    except (AssessmentError, ValueError) as exc:
        db.rollback()
        return _group_page(db, request.user, dept, error=str(exc), status=422)
    db.commit()
    flash.flash(request, "考核小组已保存。")
    return _back(request, "assessment_group", dept)


@post("/assessment/manual", name="assessment_manual", guards=[requires_leader],
      sync_to_thread=True)  # fmt: skip
def manual(request: Request[User, dict, object], db: Session, data: Form) -> Response | Redirect:
    """A group member's points for a manual item (德育论文 / 课题, 经验交流会)."""
    dept = _posted_department(db, request.user, data)
    rules = assessment.rules_in_force(db, dept.id)
    try:
        current = assessment.period_of(db, rules.period, params.one(data, "period"), clock.today())
        staff_id = params.form_id(data, "staff_id")
        if staff_id is None:
            raise AssessmentError("请选择评分的老师。")
        assessment.set_manual(
            db, dept.id, current, rules, request.user, staff_id, params.one(data, "item"),
            params.one(data, "points"), params.one(data, "note"),
        )  # fmt: skip
    except PermissionError as exc:
        return _error(request, str(exc), 403)
    except (AssessmentError, ValueError) as exc:
        return _error(request, str(exc), 422)
    db.commit()
    flash.flash(request, "评分已保存。")
    url = request.app.route_reverse("assessment_person", staff_id=staff_id)
    return Redirect(f"{url}?period={quote(current.key)}", status_code=303)


@post("/assessment/confirm", name="assessment_confirm", guards=[requires_leader],
      sync_to_thread=True)  # fmt: skip
def confirm(request: Request[User, dict, object], db: Session, data: Form) -> Response | Redirect:
    """A group member confirms the period's results; the last confirmation freezes them."""
    dept = _posted_department(db, request.user, data)
    rules = assessment.rules_in_force(db, dept.id)
    today = clock.today()
    if not params.one(data, "period").strip():
        return _error(request, "请选择要确认的考核期。", 422)
    try:
        current = assessment.period_of(db, rules.period, params.one(data, "period"), today)
        snap = assessment.confirm(db, dept.id, current, rules, request.user, today)
    except PermissionError as exc:
        return _error(request, str(exc), 403)
    except AssessmentError as exc:
        return _error(request, str(exc), 409)
    db.commit()
    flash.flash(request, "考核结果已确认并冻结。" if snap else "已确认；等待考核小组其他成员确认。")
    url = request.app.route_reverse("assessment")
    return Redirect(f"{url}?department={dept.id}&period={quote(current.key)}", status_code=303)


@get("/assessment/sheet.xlsx", name="assessment_sheet", guards=[requires_leader],
     sync_to_thread=True)  # fmt: skip
def sheet(
    request: Request[User, dict, object], db: Session, department: OptionalId = None,
    period: str = "",
) -> Response:  # fmt: skip
    """考核表: one row per person, one column per item, total and rank; the rules on sheet 2."""
    dept = scope.department_for(db, request.user, department, refusal=REFUSAL)
    rules = assessment.rules_in_force(db, dept.id)
    current = _period(db, rules, period)
    snap = assessment.snapshot_of(db, dept.id, current)
    scores = assessment.department_scores(db, dept.id, current, rules, clock.today())
    body = assessment_export.sheet_workbook(dept, current, rules, scores, snap)
    return _xlsx(body, f"{dept.name}考核表-{current.label}.xlsx")


@get("/assessment/records.xlsx", name="assessment_records", guards=[requires_leader],
     sync_to_thread=True)  # fmt: skip
def records(
    request: Request[User, dict, object], db: Session, department: OptionalId = None,
    period: str = "",
) -> Response:  # fmt: skip
    """The department's records of the period, full content, one sheet per kind; mental-health
    content only for those who may read it (scope.may_read_sensitive)."""
    dept = scope.department_for(db, request.user, department, refusal=REFUSAL)
    rules = assessment.rules_in_force(db, dept.id)
    current = _period(db, rules, period)
    body = assessment_export.records_workbook(db, request.user, dept, current)
    db.commit()  # the sensitive reads noted
    return _xlsx(body, f"{dept.name}工作记录-{current.label}.xlsx")


@get("/assessment/charts", name="assessment_charts", guards=[requires_leader],
     sync_to_thread=True)  # fmt: skip
def charts_page(
    request: Request[User, dict, object], db: Session, department: OptionalId = None
) -> Template:
    """The leader's charts: completion per measure, hygiene per building, escalations."""
    dept = scope.department_for(db, request.user, department, refusal=REFUSAL)
    today = clock.today()
    semester = assessment.period_for_day(db, "semester", today)
    completion = charts.department_completion(db, dept.id, semester, today)
    hygiene = charts.hygiene(db, dept.id, semester, today)
    opened = charts.escalations(db, dept.id, semester, today)
    return Template(
        "assessment_charts.html",
        context={
            **_common(db, request.user, dept),
            **_labels(),
            "semester": semester,
            "completion": completion,
            "completion_chart": charts.line_chart(completion.series, completion.x_labels, 100, "%"),
            "hygiene": hygiene,
            "stars_chart": charts.line_chart(hygiene.stars, hygiene.x_labels, 5, "星"),
            "rate_chart": charts.line_chart(hygiene.rate, hygiene.x_labels, 100, "%"),
            "escalations": opened,
            "escalations_chart": charts.bar_chart(opened.series, opened.x_labels),
        },
    )


@get("/assessment/office", name="assessment_office", guards=[requires_office],
     sync_to_thread=True)  # fmt: skip
def office(request: Request[User, dict, object], db: Session) -> Template:
    """The office: one row per department, each item's average completion, drill-down to
    the department's people (/assessment?department=…)."""
    today = clock.today()
    rows = []
    for dept in db.scalars(select(Department).order_by(Department.name)):
        rules = assessment.rules_in_force(db, dept.id)
        current = assessment.period_for_day(db, rules.period, today)
        scores = assessment.department_scores(db, dept.id, current, rules, today)
        rows.append((dept, rules, current, scores, _averages(scores)))
    return Template(
        "assessment_office.html",
        context={"rows": rows, "measures": assessment.MEASURES, **_labels()},
    )


# ---------------------------------------------------------------- helpers


def _period(db: Session, rules: assessment.Rules, key: str) -> assessment.Period:
    try:
        return assessment.period_of(db, rules.period, key.strip(), clock.today())
    except AssessmentError as exc:
        from litestar.exceptions import ValidationException

        raise ValidationException(str(exc)) from None


def _common(db: Session, user: User, dept: Department) -> dict:
    return {
        "department": dept,
        "departments": db.scalars(select(Department).order_by(Department.name)).all()
        if scope.sees_everything(user)
        else [dept],
    }


def _labels() -> dict:
    return {
        "status_labels": assessment.STATUS_LABELS,
        "period_kinds": assessment.PERIOD_KINDS,
        "quota_modes": assessment.QUOTA_MODES,
        "measure_by_key": assessment.MEASURE_BY_KEY,
        "item_label": assessment.item_label,
    }


def _links(request: Request, scores: list, period: assessment.Period) -> dict:
    """(person id, item id) → the list page with the records behind the number."""
    reverse = request.app.route_reverse
    out = {}
    for row in scores:
        for line in row.lines:
            measure = assessment.MEASURE_BY_KEY[line.item["measure"]]
            if measure.link is not None:
                out[row.person.id, line.item["id"]] = measure.link(reverse, row.person, period)
    return out


def _averages(scores: list[assessment.PersonScore]) -> dict[str, float]:
    """item id → the department's average share of the item's points (%)."""
    sums: dict[str, list[float]] = {}
    for row in scores:
        for line in row.lines:
            weight = float(line.item["weight"])
            if weight:
                sums.setdefault(line.item["id"], []).append(line.points / weight * 100)
    return {k: round(sum(v) / len(v)) for k, v in sums.items()}


def _rules_page(db: Session, user: User, dept: Department, *, error: str = "", status: int = 200):
    copy = assessment.working_copy(db, dept.id)
    weights = {i["measure"]: i for i in copy.items if i["measure"] != "manual"}
    manual = [i for i in copy.items if i["measure"] == "manual"]
    manual += [{"id": "", "label": "", "weight": ""}] * max(
        0, min(2, assessment.MAX_MANUAL_ITEMS - len(manual))
    )
    return Template(
        "assessment_rules.html",
        context={
            **_common(db, user, dept),
            "copy": copy,
            "weights": weights,
            "manual": manual[: assessment.MAX_MANUAL_ITEMS],
            "measures": [m for m in assessment.MEASURES if not m.manual],
            "in_force": assessment.rules_in_force(db, dept.id),
            "versions": assessment.versions(db, dept.id),
            "error": error,
            **_labels(),
        },
        status_code=status,
    )


def _group_page(db: Session, user: User, dept: Department, *, error: str = "", status: int = 200):
    people = db.scalars(
        select(User).where(User.department_id == dept.id, User.active.is_(True)).order_by(User.name)
    ).all()
    return Template(
        "assessment_group.html",
        context={
            **_common(db, user, dept),
            "people": people,
            "members": {m.id for m in assessment.group(db, dept.id)},
            "may_edit": user.has(Role.leader) and user.department_id == dept.id,
            "error": error,
        },
        status_code=status,
    )


def _posted_department(db: Session, user: User, data: dict) -> Department:
    return scope.department_for(
        db, user, params.form_id(data, "department_id"), refusal="只能办理本系部的考核。"
    )


def _version(db: Session, user: User, rules_id: int) -> AssessmentRules:
    row = db.get(AssessmentRules, rules_id)
    if row is None:
        raise NotFoundException("找不到这版细则。")
    scope.department_for(db, user, row.department_id, refusal="只能查看本系部的考核细则。")
    return row


def _back(request: Request, name: str, dept: Department) -> Redirect:
    return Redirect(f"{request.app.route_reverse(name)}?department={dept.id}", status_code=303)


def _error(request: Request, message: str, status: int) -> Response:
    return errors.page(request, status, message)


def _xlsx(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


ROUTES = [
    overview, person, rules_page, rules_save, rules_file, version, filings, decide,
    group_page, group_save, manual, confirm, sheet, records, charts_page, office,
]  # fmt: skip
