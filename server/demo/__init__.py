"""Deterministic demo data: a small department or a whole college.

`xuegong demo --size small|college --seed N`. The same seed and day give the same college.
The college is built in memory, written as an import workbook (server/demo/workbook.py) and
brought in with the importer, the same code path as a real college's workbook (issue 11);
duty shifts, generated weeks of records and the demo password (`demo1234`, hashed once) are
added afterwards with core bulk inserts on the imported ids.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from argon2 import PasswordHasher
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session

from server import clock
from server.college_import import import_workbook
from server.demo import semester as demo_semester
from server.demo import weeks as demo_weeks
from server.demo import workbook as demo_workbook
from server.models import (
    Bed,
    Building,
    ChangeCounter,
    ClassCourse,
    Course,
    CourseTeacher,
    Department,
    DutyShift,
    Entry,
    EntryRevision,
    Guardian,
    Role,
    Room,
    SchoolClass,
    Student,
    User,
    UserRole,
)
from server.settings import Settings

DEMO_PASSWORD = "demo1234"
DEMO_LOGINS = [
    ("admin", "管理员", "door label sheets"),
    ("office1", "学工部", "every department, escalations"),
    ("leader1", "系部学生工作负责人", "信息工程系: records and escalations"),
    ("counselor1", "辅导员", "on duty today; record a dorm visit"),
    ("teacher1", "班主任", "class teacher of one of counselor1's classes"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_MALE = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳洋成康峰航晨博文轩子豪宏志"
)
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪慧莹晶颖倩琳欣怡佳悦蕾璐瑶雨婧梦媛露洁琪薇梅丹萍红月妍馨诗"

DEPARTMENTS = [
    ("信息工程系", ["计算机应用技术", "软件技术", "计算机网络技术", "电子信息工程技术"]),
    ("机电工程系", ["机电一体化技术", "数控技术", "汽车检测与维修技术", "工业机器人技术"]),
    ("经济管理系", ["会计", "市场营销", "电子商务", "物流管理"]),
    ("建筑工程系", ["建筑工程技术", "工程造价", "建设工程管理"]),
    ("冶金化工系", ["黑色冶金技术", "应用化工技术", "材料工程技术"]),
    ("医学系", ["护理", "药学", "医学检验技术", "康复治疗技术"]),
    ("文化传媒系", ["广告设计与制作", "数字媒体艺术设计", "文秘"]),
    ("教育系", ["学前教育", "小学教育", "音乐教育"]),
]
COURSES = [
    ("高等数学", True),
    ("大学英语", False),
    ("思想道德与法治", False),
    ("体育", False),
    ("专业导论", True),
    ("程序设计基础", True),
    ("电工电子技术", True),
    ("机械制图", True),
    ("基础会计", True),
    ("管理学基础", True),
    ("职业生涯规划", False),
    ("信息技术", False),
]
GRADES = (2023, 2024, 2025)
BEDS_PER_ROOM = 6
FLOORS = 6
ROOMS_PER_FLOOR = 30

SIZES = {
    # departments, classes per department, students per class, spare rooms per building
    "small": dict(departments=1, classes=4, students=40, spare_rooms=3),
    "college": dict(departments=8, classes=38, students=50, spare_rooms=2),
}


@dataclass
class Rows:
    """Rows to insert, by model, with ids handed out here."""

    rows: dict[type, list[dict]] = field(default_factory=dict)

    def add(self, model: type, **values) -> int:
        table = self.rows.setdefault(model, [])
        values.setdefault("id", len(table) + 1)
        table.append(values)
        return values["id"]


def _name(rnd: random.Random, gender: str) -> str:
    chars = GIVEN_MALE if gender == "男" else GIVEN_FEMALE
    given = "".join(rnd.choice(chars) for _ in range(rnd.choice((1, 2, 2))))
    return rnd.choice(SURNAMES) + given


def _phone(rnd: random.Random) -> str:
    return f"1{rnd.choice('3456789')}{rnd.randrange(10**9):09d}"


def _week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]


def build(size: str = "small", seed: int = 1, today: date | None = None) -> Rows:
    """Make the whole demo college in memory (no database)."""
    spec = SIZES[size]
    rnd = random.Random(seed)
    today = today or clock.today()
    password_hash = PasswordHasher().hash(DEMO_PASSWORD)
    out = Rows()
    staff_no = {"counselor": 0, "teacher": 0, "leader": 0}

    def person(
        kind: str, roles: list[Role], department_id: int | None, username: str | None = None
    ) -> int:
        if username is None:
            staff_no[kind] += 1
            username = f"{kind}{staff_no[kind]}"
        user_id = out.add(
            User,
            username=username,
            name=_name(rnd, rnd.choice("男女")),
            password_hash=password_hash,
            department_id=department_id,
            phone=_phone(rnd),
            active=True,
            session_epoch=0,
        )
        for role in roles:
            out.rows.setdefault(UserRole, []).append({"user_id": user_id, "role": role.value})
        return user_id

    person("admin", [Role.admin], None, username="admin")
    for n in range(1, 3 if size == "small" else 6):
        person("office", [Role.office], None, username=f"office{n}")

    for code, (dept_name, majors) in enumerate(DEPARTMENTS[: spec["departments"]], start=1):
        dept_id = out.add(Department, name=dept_name)
        person("leader", [Role.leader], dept_id)
        # the import knows a course teacher by department + name: no two of one name (drawn
        # in the same order as before, so a seed without a clash gives the same college)
        teachers, names = [], set()
        while len(teachers) < max(6, spec["classes"] // 3):
            name = _name(rnd, rnd.choice("男女"))
            phone = _phone(rnd)
            if name not in names:
                names.add(name)
                teachers.append(
                    out.add(CourseTeacher, name=name, phone=phone, department_id=dept_id)
                )
        courses = [
            out.add(Course, name=name, professional_foundation=pf, department_id=dept_id)
            for name, pf in COURSES
        ]

        classes: list[tuple[int, int]] = []  # (class id, grade)
        counselor_id = None
        for n in range(spec["classes"]):
            grade = GRADES[n * len(GRADES) // spec["classes"]]
            major = majors[n % len(majors)]
            if n % 4 == 0:  # a counselor looks after about four classes of a grade
                counselor_id = person("counselor", [Role.counselor], dept_id)
            # about one class in ten has no class teacher: its counselor covers (§1.10)
            teacher_id = (
                None
                if (size == "college" and n % 10 == 9)
                else person("teacher", [Role.class_teacher], dept_id)
            )
            number = (
                sum(1 for c in out.rows[SchoolClass] if c["major"] == major and c["grade"] == grade)
                + 1
                if SchoolClass in out.rows
                else 1
            )
            class_id = out.add(
                SchoolClass,
                name=f"{grade}级{major}{number}班",
                grade=grade,
                major=major,
                department_id=dept_id,
                counselor_id=counselor_id,
                class_teacher_id=teacher_id,
            )
            classes.append((class_id, grade))
            for course_id in rnd.sample(courses, rnd.randint(5, 8)):
                out.add(
                    ClassCourse,
                    class_id=class_id,
                    course_id=course_id,
                    teacher_id=rnd.choice(teachers),
                )

        _students_and_rooms(out, rnd, dept_id, code, classes, spec)
        _duty_week(out, rnd, dept_id, today)
    return out


def _students_and_rooms(
    out: Rows, rnd: random.Random, dept_id: int, code: int, classes, spec
) -> None:
    """Students of a department sleep in its own two buildings, one for men and one for women."""
    by_gender: dict[str, list[int]] = {"男": [], "女": []}
    for class_id, grade in classes:
        for seq in range(1, spec["students"] + 1):
            gender = "男" if rnd.random() < 0.55 else "女"
            name = _name(rnd, gender)
            grade_roll = rnd.random()
            student_id = out.add(
                Student,
                student_number=f"{grade}{code:02d}{class_id:04d}{seq:02d}",
                name=name,
                gender=gender,
                class_id=class_id,
                phone=_phone(rnd),
                contact_grade="special"
                if grade_roll < 0.03
                else "key"
                if grade_roll < 0.11
                else "general",
            )
            out.add(
                Guardian,
                student_id=student_id,
                name=name[0] + rnd.choice(GIVEN_MALE),
                relation="父亲",
                phone=_phone(rnd),
            )
            if rnd.random() < 0.6:
                out.add(
                    Guardian,
                    student_id=student_id,
                    name=_name(rnd, "女"),
                    relation="母亲",
                    phone=_phone(rnd),
                )
            by_gender[gender].append(student_id)

    for gender, students in by_gender.items():
        building_id = out.add(
            Building,
            name=f"{len(out.rows.get(Building, [])) + 1}号学生公寓（{'男' if gender == '男' else '女'}）",
        )
        rooms_needed = -(-len(students) // BEDS_PER_ROOM) + spec["spare_rooms"] // 2
        for n in range(rooms_needed):
            floor, slot = divmod(n, ROOMS_PER_FLOOR)
            room_id = out.add(
                Room,
                building_id=building_id,
                number=f"{floor % FLOORS + 1}{slot + 1:02d}"
                if n < FLOORS * ROOMS_PER_FLOOR
                else f"A{n}",
                label_version=1,
            )
            for bed in range(1, BEDS_PER_ROOM + 1):
                index = n * BEDS_PER_ROOM + bed - 1
                out.add(
                    Bed,
                    room_id=room_id,
                    number=bed,
                    student_id=students[index] if index < len(students) else None,
                )


def _duty_week(out: Rows, rnd: random.Random, dept_id: int, today: date) -> None:
    """This week's duty: morning and evening rounds in each of the department's buildings."""
    buildings = [b["id"] for b in out.rows[Building][-2:]]
    staff = [c["counselor_id"] for c in out.rows[SchoolClass] if c["department_id"] == dept_id]
    staff += [
        c["class_teacher_id"]
        for c in out.rows[SchoolClass]
        if c["department_id"] == dept_id and c["class_teacher_id"]
    ]
    staff = sorted(set(staff))
    turn = 0
    for day in _week_of(today):
        for slot in ("morning", "evening"):
            for building_id in buildings:
                staff_id = staff[turn % len(staff)]
                turn += 1
                out.add(
                    DutyShift,
                    date=day,
                    slot=slot,
                    department_id=dept_id,
                    building_id=building_id,
                    staff_id=staff_id,
                )
    if dept_id == 1:
        _counselor1_on_duty_today(out, today)


def _counselor1_on_duty_today(out: Rows, today: date) -> None:
    """counselor1 walks tonight's round in the building where most of their students sleep."""
    counselor1 = next(u["id"] for u in out.rows[User] if u["username"] == "counselor1")
    their_classes = {c["id"] for c in out.rows[SchoolClass] if c["counselor_id"] == counselor1}
    their_students = {s["id"] for s in out.rows[Student] if s["class_id"] in their_classes}
    room_building = {r["id"]: r["building_id"] for r in out.rows[Room]}
    counts: dict[int, int] = {}
    for bed in out.rows[Bed]:
        if bed["student_id"] in their_students:
            counts[room_building[bed["room_id"]]] = counts.get(room_building[bed["room_id"]], 0) + 1
    building_id = max(counts, key=counts.get)
    for shift in out.rows[DutyShift]:
        if (
            shift["date"] == today
            and shift["building_id"] == building_id
            and shift["department_id"] == 1
        ):
            shift["staff_id"] = counselor1


INSERT_ORDER = [
    Department,
    User,
    UserRole,
    Building,
    Room,
    CourseTeacher,
    Course,
    SchoolClass,
    ClassCourse,
    Student,
    Guardian,
    Bed,
    DutyShift,
    Entry,
    EntryRevision,
]


def load(
    target: Engine | Session,
    size: str = "small",
    seed: int = 1,
    today: date | None = None,
    weeks: int = 0,
) -> dict[str, int]:
    """Insert the demo college in one transaction, with `weeks` weeks of work records
    (server/demo/weeks.py); returns row counts by table."""
    # loaded for real (no fixed day): nothing may be dated after this moment
    now = None if today else clock.now()
    today = today or clock.today()
    built = build(size, seed, today)
    # teacher1 must be the class teacher of one of counselor1's classes: true by construction
    # (the first class of the first department), checked by tests/test_demo.py
    session = target if isinstance(target, Session) else Session(target)
    try:
        # what a workbook holds goes through the importer (issue 11), in its own transaction
        result = import_workbook(session, demo_workbook.write(built), f"demo-{size}.xlsx")
        if not result.applied:
            errors = result.preview.errors[:5]
            raise RuntimeError(f"the demo workbook did not import: {errors}")
        rows = Rows()
        demo_workbook.reload(session, rows)
        demo_workbook.remap_shifts(built, rows)
        rows.rows[DutyShift] = built.rows.get(DutyShift, [])
        if weeks:
            entries, revisions = demo_weeks.generate(rows, weeks, seed, today, now=now)
            rows.rows[Entry], rows.rows[EntryRevision] = entries, revisions
        # imported staff have no usable password; the demo logins use DEMO_PASSWORD
        password_hash = built.rows[User][0]["password_hash"]
        session.execute(update(User).values(password_hash=password_hash))
        for model in (DutyShift, Entry, EntryRevision):
            chunk = rows.rows.get(model, [])
            for start in range(0, len(chunk), 5000):
                session.execute(insert(model), chunk[start : start + 5000])
        demo_semester.activities(session, today)
        if rows.rows.get(Entry):
            session.execute(update(ChangeCounter).values(value=len(rows.rows[Entry])))
        _fix_postgres_sequences(session)
        session.commit()
    finally:
        if session is not target:
            session.close()
    return {model.__tablename__: len(rows.rows.get(model, [])) for model in INSERT_ORDER}


def _fix_postgres_sequences(session: Session) -> None:
    """Ids were given explicitly: move PostgreSQL's sequences past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in INSERT_ORDER:
        if model in (UserRole, Entry, EntryRevision):  # no serial id
            continue
        table = model.__tablename__
        session.execute(
            select(
                func.setval(
                    func.pg_get_serial_sequence(table, "id"),
                    func.coalesce(select(func.max(model.id)).scalar_subquery(), 1),
                )
            )
        )


def command(settings: Settings, size: str, seed: int, if_empty: bool, weeks: int = 0) -> int:
    from server.db import make_engine, upgrade

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            if session.scalar(select(func.count()).select_from(Department)):
                if if_empty:
                    print("demo data already loaded")
                    return 0
                print(
                    "xuegong: the database already holds data; demo data goes into an empty database only"
                )
                return 1
        started = time.perf_counter()
        counts = load(engine, size=size, seed=seed, weeks=weeks)
        took = time.perf_counter() - started
    finally:
        engine.dispose()
    print(
        f"loaded the {size} demo college in {took:.1f} s: "
        + ", ".join(f"{n} {t}" for t, n in counts.items() if n)
    )
    print(f"\ndemo logins (password {DEMO_PASSWORD}):")
    for username, role, what in DEMO_LOGINS:
        print(f"  {username:12} {role:10} {what}")
    return 0
