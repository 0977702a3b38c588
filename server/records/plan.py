"""计划与总结 plans and summaries (§1.3, §3): a semester or weekly plan, a semester summary."""

from __future__ import annotations

from typing import Literal

import msgspec
from sqlalchemy.orm import Session

from server.entries import Kind, Placement, Rejected, Text, blank_is_none, one
from server.models import User
from server.records.common import LongText

PLAN_TYPES = {
    "semester_plan": "学期工作计划",
    "weekly_plan": "周工作计划",
    "semester_summary": "学期工作总结",
}


class PlanV1(msgspec.Struct, forbid_unknown_fields=True):
    plan_type: Literal[tuple(PLAN_TYPES)] | None = None  # type: ignore[valid-type]
    period: Text | None = ""
    text: LongText | None = ""


def check(db: Session, user: User, plan: PlanV1) -> Placement:
    if plan.plan_type is None:
        raise Rejected("请选择类型。")
    if not plan.text:
        raise Rejected("请填写内容。")
    if not plan.period:
        raise Rejected("请填写时段，例如“2026-2027学年第一学期”或“第12周”。")
    cleaned = {"plan_type": plan.plan_type, "period": plan.period, "text": plan.text}
    return Placement(cleaned, department_id=user.department_id)


def form_fields(form: dict) -> dict:
    return {
        "plan_type": blank_is_none(one(form, "plan_type")),
        "period": one(form, "period"),
        "text": one(form, "text"),
    }


PLAN = Kind(
    name="plan",
    label="计划与总结",
    payloads={1: PlanV1},
    check=check,
    form=form_fields,
    field_labels={"plan_type": "类型", "period": "时段", "text": "内容"},
    choices={"plan_type": PLAN_TYPES},
    summary=lambda p: f"{PLAN_TYPES.get(p.get('plan_type'), '')} · {p.get('period', '')}",
    record_form=True,
)
