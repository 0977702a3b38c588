"""The college import at full size: a workbook of 15,000 students with their beds and
guardians (plus departments, staff, classes, rooms and courses) into an empty database.

Measures, in seconds: reading a 15,000-row sheet with openpyxl (read_only) and with
python-calamine; checking the workbook (the preview); checking and applying it (what the
confirmation does, target under 60 s); importing the same workbook again (all unchanged).
"""

from __future__ import annotations

import io
import os
import random
import time

import openpyxl
import python_calamine

from bench.sync_push import reset
from server.college_import import import_workbook
from server.db import make_engine, make_sessionmaker, upgrade

STUDENTS = 15_000
DEPARTMENTS = 8
CLASS_SIZE = 40
BEDS_PER_ROOM = 6


def workbook(seed: int = 1) -> tuple[bytes, dict[str, int]]:
    rnd = random.Random(seed)
    sheets: dict[str, list[list]] = {
        "系部": [["系部名称"]],
        "教职工": [["工号", "姓名", "系部", "角色", "手机"]],
        "班级": [["班级名称", "入学年份", "专业", "系部", "辅导员工号", "班主任工号"]],
        "学生": [["学号", "姓名", "性别", "班级名称", "联系等级", "手机", "状态"]],
        "家长": [["学号", "姓名", "关系", "电话"]],
        "宿舍": [["楼栋", "房间号", "床位数", "性别"]],
        "床位": [["学号", "楼栋", "房间号", "床号"]],
        "课程": [["班级名称", "课程名称", "任课教师", "教师电话", "专业基础课"]],
    }
    classes = STUDENTS // CLASS_SIZE
    per_dept = -(-classes // DEPARTMENTS)
    beds = {"男": [], "女": []}
    for c in range(classes):
        d = c // per_dept + 1
        dept = f"第{d}系"
        if c % per_dept == 0:
            sheets["系部"].append([dept])
        counselor, teacher = f"C{c // 4:04d}", f"T{c:04d}"
        if c % 4 == 0:
            sheets["教职工"].append([counselor, f"辅导员{c}", dept, "辅导员", f"138{c:08d}"])
        sheets["教职工"].append([teacher, f"班主任{c}", dept, "班主任", f"139{c:08d}"])
        name = f"2024级专业{c}班"
        sheets["班级"].append([name, 2024, f"专业{c % 12}", dept, counselor, teacher])
        for k, course in enumerate(("高等数学", "大学英语", "专业导论")):
            sheets["课程"].append(
                [name, course, f"教师{d}-{k}", f"137{d:04d}{k:04d}", "是" if k == 2 else "否"]
            )
        for s in range(CLASS_SIZE):
            number = f"2024{c:04d}{s:02d}"
            gender = "男" if rnd.random() < 0.55 else "女"
            sheets["学生"].append(
                [number, f"学生{c}-{s}", gender, name, "", f"150{c:04d}{s:04d}", ""]
            )
            sheets["家长"].append([number, f"家长{c}-{s}甲", "父亲", f"151{c:04d}{s:04d}"])
            if rnd.random() < 0.6:
                sheets["家长"].append([number, f"家长{c}-{s}乙", "母亲", f"152{c:04d}{s:04d}"])
            beds[gender].append(number)
    for gender, numbers in beds.items():
        building = f"{gender}生公寓"
        for i in range(0, len(numbers), BEDS_PER_ROOM):
            room = f"{i // BEDS_PER_ROOM + 1:04d}"
            sheets["宿舍"].append([building, room, BEDS_PER_ROOM, gender])
            for bed, number in enumerate(numbers[i : i + BEDS_PER_ROOM], start=1):
                sheets["床位"].append([number, building, room, bed])
    book = openpyxl.Workbook(write_only=True)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), {name: len(rows) - 1 for name, rows in sheets.items()}


def read_times(content: bytes) -> dict[str, float]:
    started = time.perf_counter()
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    rows = sum(1 for _ in book["学生"].iter_rows(values_only=True))
    book.close()
    openpyxl_s = time.perf_counter() - started
    started = time.perf_counter()
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_name(
        "学生"
    )
    assert len(sheet.to_python(skip_empty_area=False)) == rows
    return {"openpyxl (read_only)": openpyxl_s, "python-calamine": time.perf_counter() - started}


def import_times(url: str, content: bytes) -> dict[str, float]:
    reset(url)
    upgrade(url)
    engine = make_engine(url)
    make_session = make_sessionmaker(engine)
    times = {}
    for label, dry_run in (
        ("check (preview)", True),
        ("check + apply", False),
        ("again, unchanged", False),
    ):
        with make_session() as db:
            started = time.perf_counter()
            result = import_workbook(db, content, "college.xlsx", dry_run=dry_run)
            times[label] = time.perf_counter() - started
            assert not result.preview.errors, result.preview.errors[:3]
    engine.dispose()
    reset(url)
    return times


def run(
    postgres_url: str | None,
) -> tuple[dict[str, int], dict[str, float], list[tuple[str, dict]]]:
    content, rows = workbook()
    reads = read_times(content)
    print("read 学生:", {k: f"{v:.2f} s" for k, v in reads.items()}, flush=True)
    targets = [("SQLite", f"sqlite:////tmp/xuegong-bench-import-{os.getpid()}.sqlite3")]
    if postgres_url:
        targets.append(("PostgreSQL", postgres_url))
    results = []
    for name, url in targets:
        times = import_times(url, content)
        print(f"{name:10}", {k: f"{v:.1f} s" for k, v in times.items()}, flush=True)
        results.append((name, times))
    return {**rows, "bytes": len(content)}, reads, results
