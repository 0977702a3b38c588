"""The college in tables: people, classes, dorms, duty, and the work records (entries).

Names follow the glossary in DESIGN.md. Entries are the records staff write, online or
offline; their ids are made on the phone (UUIDv7), so the server never invents one.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy import false as sa_false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """A moment stored in UTC and always handed back aware, in UTC.

    PostgreSQL keeps `timestamptz`; SQLite keeps text without an offset, so a value read
    back from it would otherwise be naive. A naive value written is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(cls: type[enum.Enum]) -> Enum:
    # store the English value as plain text: readable in SQL, no PostgreSQL enum type to migrate
    return Enum(cls, native_enum=False, values_callable=lambda e: [m.value for m in e], length=20)


class Role(enum.StrEnum):
    counselor = "counselor"  # 辅导员
    class_teacher = "class_teacher"  # 班主任
    leader = "leader"  # 系部学生工作负责人
    office = "office"  # 学工部 / 学生处
    admin = "admin"  # 管理员

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.counselor: "辅导员",
    Role.class_teacher: "班主任",
    Role.leader: "系部学生工作负责人",
    Role.office: "学工部",
    Role.admin: "管理员",
}


class ContactGrade(enum.StrEnum):
    """How often parents are contacted (guideline §2.5.4)."""

    special = "special"  # 特殊: contact often
    key = "key"  # 重点: contact more
    general = "general"  # 一般: keep in touch


class Slot(enum.StrEnum):
    """Duty rounds of a day (guideline §2.4)."""

    morning = "morning"  # 早间
    evening = "evening"  # 晚间

    @property
    def label(self) -> str:
        return {"morning": "早间", "evening": "晚间"}[self.value]


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class User(Base):
    """A staff member who logs in. Roles are a set: a counselor may also lead a department."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # bumped to log a user out everywhere: sessions carry the epoch they were made in
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    # set with a one-time password (xuegong create-admin / reset-password, 重置密码): every
    # page but /account/password stays closed until the person sets a password of their own
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)

    department: Mapped[Department | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role), primary_key=True)


class SchoolClass(Base):
    """班级. With no class teacher the counselor does the class teacher's work (§1.10)."""

    __tablename__ = "classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    grade: Mapped[int] = mapped_column(Integer)  # enrollment year, e.g. 2024
    major: Mapped[str] = mapped_column(String(80))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    counselor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    class_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # set when its cohort graduates (server/cohorts.py): gone from day-to-day lists, history kept
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    department: Mapped[Department] = relationship()
    counselor: Mapped[User] = relationship(foreign_keys=[counselor_id])
    class_teacher: Mapped[User | None] = relationship(foreign_keys=[class_teacher_id])


class Student(Base):
    __tablename__ = "students"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_number: Mapped[str] = mapped_column(String(20), unique=True)  # 学号
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(2))  # 男 / 女
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    contact_grade: Mapped[ContactGrade] = mapped_column(
        _enum(ContactGrade), default=ContactGrade.general
    )

    school_class: Mapped[SchoolClass] = relationship()
    guardians: Mapped[list[Guardian]] = relationship(cascade="all, delete-orphan")


class Guardian(Base):
    __tablename__ = "guardians"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(50))
    relation: Mapped[str] = mapped_column(String(20))  # 父亲, 母亲, 祖父 …
    phone: Mapped[str | None] = mapped_column(String(20))


class Building(Base):
    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("building_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    number: Mapped[str] = mapped_column(String(10))
    # printed into the door label's token: bumping it revokes every label printed before
    label_version: Mapped[int] = mapped_column(Integer, default=1)

    building: Mapped[Building] = relationship()
    beds: Mapped[list[Bed]] = relationship(order_by="Bed.number")

    @property
    def title(self) -> str:
        return f"{self.building.name} {self.number}"


class Bed(Base):
    """床位: which student sleeps where; a student has at most one bed."""

    __tablename__ = "beds"
    __table_args__ = (UniqueConstraint("room_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), unique=True)

    student: Mapped[Student | None] = relationship()


class CourseTeacher(Base):
    """任课教师: teaches courses; not necessarily a user of the app."""

    __tablename__ = "course_teachers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    # 专业基础课: staff attend its first lesson each semester (§2.6.1)
    professional_foundation: Mapped[bool] = mapped_column(Boolean, default=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))


class ClassCourse(Base):
    """A course taught to a class by a course teacher."""

    __tablename__ = "class_courses"
    __table_args__ = (UniqueConstraint("class_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("course_teachers.id"))

    course: Mapped[Course] = relationship()
    teacher: Mapped[CourseTeacher] = relationship()


class CourseRole(Base):
    """课代表 / 学习小组长 of a class for one course, named by the class teacher (§2.11).

    One role per student and course; a course has at most one representative (kept by the
    page that sets them, not by the database) and any number of study-group leaders.
    """

    __tablename__ = "course_roles"
    __table_args__ = (UniqueConstraint("class_id", "course_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))  # representative, group_leader

    student: Mapped[Student] = relationship()


class DutyShift(Base):
    """值班: one staff member on duty for one round of one day in one building (§2.4)."""

    __tablename__ = "duty_shifts"
    __table_args__ = (UniqueConstraint("date", "slot", "staff_id", "building_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    slot: Mapped[Slot] = mapped_column(_enum(Slot))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    building: Mapped[Building] = relationship()
    staff: Mapped[User] = relationship()


class DutyWindow(Base):
    """A department's own time window for a round (defaults in server/duty.py: 06:30–08:30,
    21:00–23:30). Times are the college's clock (Asia/Shanghai) and never cross midnight."""

    __tablename__ = "duty_windows"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    slot: Mapped[Slot] = mapped_column(_enum(Slot), primary_key=True)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)


class SwapStatus(enum.StrEnum):
    """requested → accepted / refused by the colleague → approved / rejected by the leader."""

    requested = "requested"
    accepted = "accepted"
    refused = "refused"
    approved = "approved"
    rejected = "rejected"

    @property
    def label(self) -> str:
        return {
            "requested": "待同事确认",
            "accepted": "待负责人审批",
            "refused": "同事已拒绝",
            "approved": "已批准",
            "rejected": "负责人未批准",
        }[self.value]


class SwapRequest(Base):
    """换班: the requester gives `shift` to a colleague; with `colleague_shift` the two shifts
    are exchanged, without it the colleague takes the shift over (代班)."""

    __tablename__ = "swap_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(
        ForeignKey("duty_shifts.id", ondelete="CASCADE"), index=True
    )
    colleague_shift_id: Mapped[int | None] = mapped_column(
        ForeignKey("duty_shifts.id", ondelete="CASCADE")
    )
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    colleague_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[SwapStatus] = mapped_column(_enum(SwapStatus), default=SwapStatus.requested)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    shift: Mapped[DutyShift] = relationship(foreign_keys=[shift_id])
    colleague_shift: Mapped[DutyShift | None] = relationship(foreign_keys=[colleague_shift_id])
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    colleague: Mapped[User] = relationship(foreign_keys=[colleague_id])


class Entry(Base):
    """A work record (工作记录): dorm visit, talk, attendance check … (guideline §1.4).

    The id is made by the client when the record is written, so a record saved offline and
    sent twice is still one row. `revision` counts edits; every revision is kept in
    entry_revisions because inspected records are never silently changed. `seq` is the
    server's change cursor for pulls: it is reassigned on every change.
    """

    __tablename__ = "entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # dorm_visit, talk, attendance_check …
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSONDoc)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())  # on the phone
    # the server's clock when the entry first arrived (see "Devices and times" below)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    revision: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    seq: Mapped[int] = mapped_column(BigInteger, index=True, default=0)

    author: Mapped[User] = relationship()
    room: Mapped[Room | None] = relationship()

    __table_args__ = (Index("ix_entries_author_recorded", "author_id", "recorded_at"),)

    @property
    def late(self) -> bool:
        """补录: the server got it more than LATE_HOURS after the phone's time."""
        return is_late(self.recorded_at, self.received_at)


class EntryRevision(Base):
    """Every state an entry has had, with who made it and when (edits keep history, §1.4)."""

    __tablename__ = "entry_revisions"

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    payload: Mapped[dict] = mapped_column(JSONDoc)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class WeekReview(Base):
    """检查: a department leader has read a person's week of records (§1.4), with a comment.

    One row per review action, never updated: reviewing the week again adds a row, so the
    log shows every review. The first review's time decides which later edits are flagged.
    """

    __tablename__ = "week_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    week_start: Mapped[date] = mapped_column(Date)  # the Monday, Asia/Shanghai
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])

    __table_args__ = (Index("ix_week_reviews_staff_week", "staff_id", "week_start"),)


class Escalation(Base):
    """A concern that goes to the office and the department leader (§2.7.2): raised on a dorm
    visit, or by a 心理 talk that needs referral (server/entries.py `keep_escalation`)."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id"), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    category: Mapped[str] = mapped_column(String(20))  # mental, physical, financial, relationships
    note: Mapped[str] = mapped_column(Text, default="")
    # open; withdrawn when an edit or a deletion of the record takes the concern away
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())

    entry: Mapped[Entry] = relationship()
    room: Mapped[Room | None] = relationship()


class LoginFailure(Base):
    """Failed logins, kept in the database so every app process sees the same count."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ChangeCounter(Base):
    """One row: the last change number handed out to an entry (`entries.seq`).

    Writers increment it with UPDATE … RETURNING, which locks the row until they commit,
    so change numbers become visible in the order they were given: a pull that has seen
    number N never later finds a smaller number appear (no change skipped).
    """

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class DeviceMutation(Base):
    """What each phone has sent: a mutation number seen before is answered from here."""

    __tablename__ = "device_mutations"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mutation_no: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    # what was sent under this number (merge.mutation_digest): a resend must match it
    digest: Mapped[str | None] = mapped_column(String(64))


class Conflict(Base):
    """A version that lost a merge: kept, never dropped, until its author resolves it."""

    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    op: Mapped[str] = mapped_column(String(10))
    payload: Mapped[dict] = mapped_column(JSONDoc)
    base_revision: Mapped[int | None] = mapped_column(Integer)
    server_revision: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


# --- devices and times: who owns a phone's numbers, when an entry really arrived (issue 10)

LATE_HOURS = 12  # an entry the server gets this long after the phone's time is 补录 (late)


def is_late(recorded_at: datetime, received_at: datetime | None) -> bool:
    """Received more than LATE_HOURS after it was recorded; unknown (older rows) is on time."""
    if received_at is None or recorded_at is None:
        return False
    return received_at - recorded_at > timedelta(hours=LATE_HOURS)


class Device(Base):
    """A phone's outbox (its `device_id`), registered to the user who first pushed with it.

    Mutation numbers are per device; without an owner, another user sending under the same
    id would be answered with the first user's outcomes (docs/sync.md, "Devices")."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


# --- the guideline's records: weekly quotas, staff leave, parent-contact cadence (§1.5, §1.9, §2.5)


class QuotaRule(Base):
    """A weekly target (§1.5): for a role, how many records of one sort a person makes a week.

    `counts` names what is counted: a facet of entries (server/entries.py `Kind.facets`: a
    dorm visit with stars is also a `hygiene_check`, with talk notes also a `dorm_talk`);
    with `distinct_students`, the students the entries are about are counted instead, each
    once. Rows without a department are the college's defaults (the guideline's values,
    written by the migration); a department's own row for the same role and facet replaces
    its default (§4: departments set their own rules).
    """

    __tablename__ = "quota_rules"
    __table_args__ = (UniqueConstraint("department_id", "role", "counts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    role: Mapped[Role] = mapped_column(_enum(Role))
    counts: Mapped[str] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(String(50))
    distinct_students: Mapped[bool] = mapped_column(Boolean, default=False)
    target: Mapped[int] = mapped_column(Integer)


class LeaveStatus(enum.StrEnum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"

    @property
    def label(self) -> str:
        return {"requested": "待审批", "approved": "已批准", "rejected": "未批准"}[self.value]


class StaffLeave(Base):
    """请假 (§1.9): a staff member away from their post; approved days prorate the week's quotas."""

    __tablename__ = "staff_leaves"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[LeaveStatus] = mapped_column(_enum(LeaveStatus), default=LeaveStatus.requested)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())

    staff: Mapped[User] = relationship(foreign_keys=[staff_id])
    decisions: Mapped[list[LeaveDecision]] = relationship(
        order_by="LeaveDecision.id", cascade="all, delete-orphan", passive_deletes=True
    )


class LeaveDecision(Base):
    """One decision on a leave request, never updated: a changed decision is a new row, so
    what was decided first (and by whom) stays readable (server/leave.py)."""

    __tablename__ = "leave_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    leave_id: Mapped[int] = mapped_column(
        ForeignKey("staff_leaves.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[LeaveStatus] = mapped_column(_enum(LeaveStatus))
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())

    decided_by: Mapped[User] = relationship()


class ContactCadence(Base):
    """How often parents of each contact grade are contacted (§2.5.4), per department.

    Without a row a department uses due.DEFAULT_CADENCE (special every 2 weeks, key every
    month, general once a semester)."""

    __tablename__ = "contact_cadences"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    special_days: Mapped[int] = mapped_column(Integer)
    key_days: Mapped[int] = mapped_column(Integer)
    general_days: Mapped[int] = mapped_column(Integer)


class Semester(Base):
    """学期: a semester of the college calendar, set by the office (server/semesters.py).

    `holidays` lists the days off as [{"day": "2026-10-01", "name": "国庆节"}, …]."""

    __tablename__ = "semesters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    first_day: Mapped[date] = mapped_column(Date, index=True)
    last_day: Mapped[date] = mapped_column(Date)
    holidays: Mapped[list] = mapped_column(JSONDoc, default=list)


# --- keeping the data current (server/upkeep.py) -------------------------------------------------


class ContactGradeChange(Base):
    """A student's contact grade changed by their counselor (or an admin), with the reason."""

    __tablename__ = "contact_grade_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    old_grade: Mapped[ContactGrade] = mapped_column(_enum(ContactGrade))
    new_grade: Mapped[ContactGrade] = mapped_column(_enum(ContactGrade))
    reason: Mapped[str] = mapped_column(String(200))
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    changed_by: Mapped[User] = relationship()


class BedMove(Base):
    """A student moved to another bed on a day; the bed before is kept (None: had none)."""

    __tablename__ = "bed_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    from_bed_id: Mapped[int | None] = mapped_column(ForeignKey("beds.id", ondelete="SET NULL"))
    to_bed_id: Mapped[int | None] = mapped_column(ForeignKey("beds.id", ondelete="SET NULL"))
    moved_on: Mapped[date] = mapped_column(Date)
    moved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


# --- who read which mental-health record (issue 10: least privilege for sensitive notes)


class SensitiveRead(Base):
    """A leader or the office read the content of a student's mental-health record (a 心理
    talk, a visit or escalation with a mental-health concern): who, when, which entry, on
    which page. Written by server/scope.py `note_sensitive_reads`, listed on /audit for the
    office; never updated."""

    __tablename__ = "sensitive_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id"), index=True)
    page: Mapped[str] = mapped_column(String(40))  # the route name: work_log, sync_pull …
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    reader: Mapped[User] = relationship()
    entry: Mapped[Entry] = relationship()


# --- bringing the college in (issue 11): student status, room gender, import records
# Kept in their own section so the import's additions merge cleanly; the columns are added
# to the classes above with setattr, which declarative mapping supports.


class StudentStatus(enum.StrEnum):
    """学籍状态: only 在读 students belong in day-to-day lists; the others keep their history."""

    enrolled = "enrolled"  # 在读
    suspended = "suspended"  # 休学
    withdrawn = "withdrawn"  # 退学
    graduated = "graduated"  # 毕业

    @property
    def label(self) -> str:
        return STUDENT_STATUS_LABELS[self]


STUDENT_STATUS_LABELS = {
    StudentStatus.enrolled: "在读",
    StudentStatus.suspended: "休学",
    StudentStatus.withdrawn: "退学",
    StudentStatus.graduated: "毕业",
}

Student.status = mapped_column(
    _enum(StudentStatus), nullable=False, default=StudentStatus.enrolled, server_default="enrolled"
)
# 男 / 女 for a single-sex room; None when the room's gender was never given
Room.gender = mapped_column(String(2), nullable=True)


class ImportStatus(enum.StrEnum):
    """uploaded → checking → checked (ready) or rejected (row errors) or unreadable;
    checked → applying → applied or failed."""

    uploaded = "uploaded"
    checking = "checking"
    checked = "checked"
    rejected = "rejected"
    unreadable = "unreadable"
    applying = "applying"
    applied = "applied"
    failed = "failed"

    @property
    def label(self) -> str:
        return {
            "uploaded": "已上传",
            "checking": "检查中",
            "checked": "待确认",
            "rejected": "有错误",
            "unreadable": "无法读取",
            "applying": "导入中",
            "applied": "已导入",
            "failed": "导入失败",
        }[self.value]


class ImportRun(Base):
    """One uploaded workbook and what became of it (server/college_import/).

    The file's bytes wait here between preview and confirm, so any app process can confirm
    it; they are dropped once the workbook is applied. `progress` (0–100) and `stage` are
    written while a large workbook is checked, for the page that polls them.
    """

    __tablename__ = "imports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, also in the URL
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the shell
    filename: Mapped[str] = mapped_column(String(200))
    sheet: Mapped[str | None] = mapped_column(String(20))  # the table a .csv holds
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[ImportStatus] = mapped_column(_enum(ImportStatus))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(50), default="")
    preview: Mapped[dict | None] = mapped_column(JSONDoc)
    # new / changed / unchanged / errors: what the list of imports shows without the preview
    counts: Mapped[dict | None] = mapped_column(JSONDoc)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship()
