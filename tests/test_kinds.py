"""The registry of kinds (server/kinds.py): complete on its own, and every kind everywhere a
kind must be — its labels, the work log, the Excel export, 准备巡查; its payload decoded with
one Chinese reason per field."""

from __future__ import annotations

import importlib
import io
import pkgutil
import re
import subprocess
import sys
import uuid

import msgspec
import pytest
from litestar.testing import TestClient
from openpyxl import load_workbook

import server
from server.entries import Kind
from server.kinds import KINDS
from server.models import Entry
from tests.conftest import log_in
from tests.sync_helpers import push
from tests.wire_samples import mutation, places


@pytest.fixture(scope="module")
def counselor(app):
    """counselor1, logged in once for the module (a login costs an argon2 hash)."""
    with TestClient(app) as client:
        assert log_in(client, "counselor1").status_code == 303
        yield client


def _kinds_defined_anywhere() -> set[str]:
    found = set()
    for module in pkgutil.walk_packages(server.__path__, "server."):
        if ".migrations" in module.name:
            continue
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, Kind):
                found.add(value.name)
    return found


def test_the_registry_is_complete_after_importing_only_the_week_module():
    # 本周 counted nothing when KINDS filled itself as a side effect of other imports
    out = subprocess.run(
        [sys.executable, "-c", "import server.week; print(' '.join(sorted(server.week.KINDS)))"],
        capture_output=True, text=True, check=True, cwd=server.__path__[0] + "/..",
    )  # fmt: skip
    assert set(out.stdout.split()) == _kinds_defined_anywhere() == set(KINDS)


def test_every_kind_defined_in_the_server_is_in_the_registry():
    assert _kinds_defined_anywhere() <= set(KINDS)
    assert len(KINDS) >= 8


def _fields(struct: type[msgspec.Struct], prefix: str = "") -> list[str]:
    names = []
    for info in msgspec.inspect.type_info(struct).fields:
        names.append(prefix + info.name)
        inner = info.type
        if isinstance(inner, msgspec.inspect.UnionType):
            inner = next(
                (t for t in inner.types if isinstance(t, msgspec.inspect.StructType)), inner
            )
        if isinstance(inner, msgspec.inspect.StructType):
            names += _fields(inner.cls, f"{prefix}{info.name}.")
    return names


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_payload_field_has_a_chinese_label(kind):
    for version, struct in KINDS[kind].payloads.items():
        for name in _fields(struct):
            label = KINDS[kind].field_labels.get(name)
            assert label and re.search(r"[\u4e00-\u9fff]", label), (kind, version, name)
    assert re.search(r"[\u4e00-\u9fff]", KINDS[kind].label)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_choice_offered_has_a_chinese_label(kind):
    for field, choices in KINDS[kind].choices.items():
        assert field in KINDS[kind].field_labels, (kind, field)
        assert all(re.search(r"[\u4e00-\u9fff]", label) for label in choices.values()), field


def test_every_kind_appears_in_the_work_log_and_its_export(counselor, db):
    client = counselor
    where = places(db)
    answer = push(client, [mutation(kind, "payload", where) for kind in sorted(KINDS)])
    assert [r["status"] for r in answer.json()["results"]] == ["applied"] * len(KINDS)

    page = client.get("/log")
    assert page.status_code == 200
    for kind in KINDS.values():
        assert kind.label in page.text, kind.name

    sheet = load_workbook(io.BytesIO(client.get("/log.xlsx").content))["工作记录"]
    labels = {row[2] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert {kind.label for kind in KINDS.values()} <= labels


def test_the_history_page_names_changed_fields_by_the_kinds_labels(counselor, db):
    client = counselor
    first = mutation("plan", "payload", places(db))
    assert push(client, [first]).json()["results"][0]["status"] == "applied"
    edit = {**first, "op": "update", "base_revision": 1, "mutation_no": first["mutation_no"] + 500,
            "payload": {**first["payload"], "period": "第13周"}}  # fmt: skip
    assert push(client, [edit]).json()["results"][0]["status"] == "applied"
    page = client.get(f"/entries/{first['id']}/history")
    assert "时段" in page.text and "第13周" in page.text


def test_prepare_lists_a_form_for_every_kind(counselor):
    plan = counselor.get("/rounds/plan").json()
    assert {item.get("record") for item in plan["items"]} >= set(KINDS)


# --- decoding: one Chinese reason per field --------------------------------------------------


def _reason(client, kind: str, payload: dict, where: dict) -> str:
    sent = mutation(kind, "payload", where)
    sent["payload"] = {**sent["payload"], **payload}
    answer = push(client, [sent])
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert result["status"] == "rejected", result
    return result["reason"]


@pytest.mark.parametrize(
    "kind, change, reason",
    [
        ("talk", {"category": "chat"}, "谈话类别无效"),
        ("talk", {"category": ["study"]}, "谈话类别必须是文字"),
        ("parent_contact", {"student_id": "5"}, "学生编号必须是整数"),
        ("parent_contact", {"student_id": "²"}, "学生编号必须是整数"),
        ("dorm_visit", {"room_id": 2**31}, "宿舍编号无效"),
        ("dorm_visit", {"room_id": 2**63}, "宿舍编号无效"),
        ("dorm_visit", {"room_id": 0}, "宿舍编号无效"),
        ("dorm_visit", {"presence": {"²": "present"}}, "在寝情况里的学生编号必须是整数"),
        ("dorm_visit", {"presence": {str(2**63): "present"}}, "在寝情况里的学生编号无效"),
        ("dorm_visit", {"stars": 6}, "卫生星级应为 1 到 5 星"),
        ("dorm_visit", {"concern": {"category": "bored", "note": ""}}, "请选择关注类别"),
        ("dorm_visit", {"issues": {"hygiene": True}}, "问题格式不正确"),
        ("attendance_check", {"date": "0000-01-01"}, "查课日期格式不正确"),
        ("attendance_check", {"date": "9999-12-31"}, "不能晚于明天"),
        ("attendance_check", {"date": "0001-01-01"}, "只能补记"),
        ("attendance_check", {"marks": [["1", "absent"]]}, "出勤情况格式不正确"),
        ("lecture_observation", {"first_lesson": "maybe"}, "专业基础课第一课只能选是或否"),
        ("meeting", {"theme": "题" * 2001}, "主题太长（最多 2000 字）"),
        ("plan", {"text": "字" * 10_001}, "内容太长（最多 10000 字）"),
        ("plan", {"period": 12}, "时段必须是文字"),
        ("talk", {"summary": "说了\x00什么"}, "谈话内容含有不允许的字符（NUL）"),
        ("talk", {"mood": "good"}, "无法识别的字段：mood"),
        ("discipline", {"handling": "dismissal"}, "拟处理意见无效"),
        ("discipline", {"date": "2026-02-30"}, "违纪日期格式不正确"),
        ("discipline", {"student_ids": ["5"]}, "学生编号必须是整数"),
        ("discipline", {"facts": "实" * 2001}, "违纪事实太长（最多 2000 字）"),
    ],
)
def test_a_payload_that_does_not_fit_is_refused_with_one_chinese_reason(
    counselor, db, kind, change, reason
):
    found = _reason(counselor, kind, change, places(db))
    assert reason in found
    assert "Expected" not in found and "`" not in found  # never msgspec's English


def test_a_form_value_that_does_not_fit_is_refused_with_the_same_reason(counselor, db):
    client = counselor
    sent = mutation("talk", "form", places(db))
    sent["form"] = {**sent["form"], "student_ids": ["²"]}
    (result,) = push(client, [sent]).json()["results"]
    assert result == {**result, "status": "rejected", "reason": "学生编号必须是整数。"}


def test_control_characters_are_stripped_from_text_and_tabs_and_newlines_kept(counselor, db):
    client = counselor
    sent = mutation("talk", "payload", places(db))
    sent["payload"] = {
        **sent["payload"],
        "summary": " 甲\x0b乙\t丙\r\n丁\x1f\x7f ",
        "place": "\x0c",
    }
    assert push(client, [sent]).json()["results"][0]["status"] == "applied"
    stored = db.get(Entry, uuid.UUID(sent["id"])).payload
    assert stored["summary"] == "甲乙\t丙\r\n丁" and stored["place"] == ""


def test_a_payload_nested_too_deep_is_refused_not_a_crash(counselor, db):
    deep: object = "x"
    for _ in range(50):
        deep = [deep]
    reason = _reason(counselor, "talk", {"summary": deep}, places(db))
    assert "嵌套太深" in reason
