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
    Float,
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
    event,
    func,
)
from sqlalchemy import false as sa_false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class EncodedJSON(TypeDecorator):
    """A JSONDoc value handed over already encoded, as the bytes of `msgspec.json.encode`.

    A phone's batch inserts a hundred payloads at once: encoded by msgspec instead of the
    json module (1.2 µs against 10 µs a payload here). For insert parameters only; the
    column reads back as JSONDoc, whose decoder takes either text."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else JSON())

    def bind_processor(self, dialect):
        if dialect.name == "postgresql":  # psycopg sends a Jsonb wrapper as jsonb
            from psycopg.types.json import Jsonb

            return lambda encoded: Jsonb(encoded, dumps=_as_is)
        return bytes.decode  # SQLite: the text (bytes would be stored as a BLOB)


def _as_is(encoded: bytes) -> bytes:
    return encoded


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
        return not self.roles.isdisjoint(roles)


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
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"))
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

    __table_args__ = (
        Index("ix_entries_author_recorded", "author_id", "recorded_at"),
        # a class's or a department's records of one kind (due lists, semester duties, leader
        # pages): without the kind, SQLite reads every record of the class to find a few
        Index("ix_entries_class_kind", "class_id", "kind"),
        Index("ix_entries_department_kind", "department_id", "kind"),
    )

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
    # why this revision deleted the entry (a deletion needs one, sync/merge.py); "" otherwise
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")


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
    # the flow (server/escalations.py): pending 待确认 → acknowledged 已确认 → following 跟进中
    # → closed 已办结; each step is a row of escalation_steps, these columns only mirror the last
    state: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # when the overdue notification was queued (once per escalation)
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    entry: Mapped[Entry] = relationship()
    room: Mapped[Room | None] = relationship()
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


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
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    kept: Mapped[str | None] = mapped_column(String(10))  # "mine" or "server", once resolved


class Photo(Base):
    """A photo kept as evidence with an entry (a dorm visit's 违章电器, a hazard): at most
    MAX_PHOTOS per entry, the file under the photo folder (server/photos.py), the row here.
    Photos belong to an entry id, whatever its kind; they go with the entry's deletion."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1 … MAX_PHOTOS, as the phone numbered them
    content_type: Mapped[str] = mapped_column(String(20))  # from the file's magic bytes
    size: Mapped[int] = mapped_column(Integer)  # bytes
    file_name: Mapped[str] = mapped_column(String(80))  # random, under the photo folder
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())

    __table_args__ = (UniqueConstraint("entry_id", "position"),)


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


# --- a page per student and role homes (issue 12)

# search keys of the name (server/pinyin.py): "zhengyuqiang", "zyq"; filled whenever a student
# is written (the import's bulk writes set them, `_fill_pinyin` every ORM insert or rename)
Student.pinyin_full = mapped_column(
    String(200), nullable=False, default="", server_default="", index=True
)
Student.pinyin_initials = mapped_column(
    String(50), nullable=False, default="", server_default="", index=True
)
# the label version last opened for printing; a room whose label_version differs (never
# printed, or revoked since) has no current label on its door (the admin's home counts them)
Room.printed_label_version = mapped_column(Integer, nullable=True)


@event.listens_for(Student, "before_insert")
@event.listens_for(Student, "before_update")
def _fill_pinyin(mapper, connection, student: Student) -> None:
    from server.pinyin import keys

    student.pinyin_full, student.pinyin_initials = keys(student.name)


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


# --- discipline cases (违纪处理, §1.8): the case is an entry of kind `discipline`
# (server/records/discipline.py); where it stands is this table of steps (server/discipline.py)


class DisciplineStep(Base):
    """One step of a discipline case, never updated or deleted: the counselor's submission,
    the department group's review (agree, change the handling, return), the college's decision
    (approve, change, return). The case's state is its last step; the history is all of them.

    `handling` is the handling as it stands after the step (proposed, agreed, changed or
    decided); `decided_on` the date of the college's final decision; `entry_revision` the
    revision of the case a submission sent (the text the group reviewed stays readable)."""

    __tablename__ = "discipline_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … within the case
    step: Mapped[str] = mapped_column(String(20))  # submit, review, approve
    decision: Mapped[str] = mapped_column(String(20))  # submit, agree, change, return, approve
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    handling: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[date | None] = mapped_column(Date)
    entry_revision: Mapped[int | None] = mapped_column(Integer)

    actor: Mapped[User] = relationship()

    # two people acting on one case at once: the second insert of the same number fails
    __table_args__ = (UniqueConstraint("entry_id", "number"),)
# --- dorm evaluation and 公示 (guideline §2.9, server/evaluations.py) ----------------------------


class EvaluationRound(Base):
    """评比: a department's (or, without one, the college's) evaluation of its rooms' hygiene
    over a period. Scores are computed from the visits when asked; the settings say how:
    `rule` (mean / last / inspection), `inspection_days` (["2026-11-04", …], for the
    inspection rule) and `deductions` (issue → points taken off per visit that found it)."""

    __tablename__ = "evaluation_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    period: Mapped[str] = mapped_column(String(10))  # week, month, custom
    first_day: Mapped[date] = mapped_column(Date, index=True)
    last_day: Mapped[date] = mapped_column(Date)
    grade: Mapped[int | None] = mapped_column(Integer)  # 入学年份; None: every grade
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    rule: Mapped[str] = mapped_column(String(20), default="mean")
    inspection_days: Mapped[list] = mapped_column(JSONDoc, default=list)
    deductions: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())

    department: Mapped[Department | None] = relationship()
    building: Mapped[Building | None] = relationship()
    opened_by: Mapped[User] = relationship()


class EvaluationPublication(Base):
    """公示: a round's ranking as published, behind a long random link that needs no login.

    `rows` is the snapshot shown (room, building, class, stars, score, ranks — never a
    student's name or a note), so a visit changed later does not change what was published.
    Revoking sets `revoked_at`: the link is gone for good; publishing again makes a new one."""

    __tablename__ = "evaluation_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    rows: Mapped[list] = mapped_column(JSONDoc, default=list)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    evaluation_round: Mapped[EvaluationRound] = relationship()
# --- the second classroom and the semester-start duties (§2.10, §1.7, §2.6.1) -------------------


class Activity(Base):
    """A 第二课堂 activity (§2.10): proposed by a class teacher, a counselor or a leader for
    classes of their department, approved (or returned) before it happens, and recorded as
    held or cancelled after (server/second_classroom.py). `class_ids` are the classes it is
    for, fixed when it is proposed (a grade picked on the form is its classes then)."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))  # lecture, competition … (CATEGORIES)
    title: Mapped[str] = mapped_column(String(100))
    high_level: Mapped[bool] = mapped_column(Boolean, default=False)  # 高水平讲座/报告
    organiser: Mapped[str] = mapped_column(String(100))
    day: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(100))
    grades: Mapped[list] = mapped_column(JSONDoc)  # enrollment years picked, for the lists
    class_ids: Mapped[list] = mapped_column(JSONDoc)
    expected: Mapped[int] = mapped_column(Integer)  # expected participants
    safety: Mapped[str] = mapped_column(Text)  # safety measures
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    participants: Mapped[int | None] = mapped_column(Integer)  # after it was held
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())

    proposer: Mapped[User] = relationship()
    department: Mapped[Department] = relationship()
    steps: Mapped[list[ActivityStep]] = relationship(
        order_by="ActivityStep.id", cascade="all, delete-orphan"
    )


class ActivityStep(Base):
    """One step of an activity, never updated: proposed, approved, returned (with the
    reason), held, cancelled — who and when."""

    __tablename__ = "activity_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(20))
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(500), default="")

    by: Mapped[User] = relationship()


class CourseResult(Base):
    """A student's result in a course of a semester (成绩 sheet of the import, §1.7)."""

    __tablename__ = "course_results"
    __table_args__ = (UniqueConstraint("student_id", "semester", "course"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    semester: Mapped[str] = mapped_column(String(50))  # the semester's name
    course: Mapped[str] = mapped_column(String(80))
    score: Mapped[str] = mapped_column(String(20))  # as given: 85, 72.5, 良好, 不及格
    points: Mapped[float | None] = mapped_column(Float)  # the number of a numeric score
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    retake: Mapped[bool] = mapped_column(Boolean, default=False)  # 重修

    student: Mapped[Student] = relationship()


class TimetableSlot(Base):
    """A weekly lesson of a class's course in a semester (课表 sheet of the import, §2.6.1)."""

    __tablename__ = "timetable_slots"
    __table_args__ = (UniqueConstraint("class_course_id", "semester", "weekday", "periods"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_course_id: Mapped[int] = mapped_column(
        ForeignKey("class_courses.id", ondelete="CASCADE"), index=True
    )
    semester: Mapped[str] = mapped_column(String(50))
    weekday: Mapped[int] = mapped_column(Integer)  # 1 = Monday … 7 = Sunday
    periods: Mapped[str] = mapped_column(String(20))  # 节次 as given, e.g. 1-2
    first_week: Mapped[int] = mapped_column(Integer)  # 起止周: week 1 holds the first day
    last_week: Mapped[int] = mapped_column(Integer)

    class_course: Mapped[ClassCourse] = relationship()


class RetakeReport(Base):
    """A counselor's report of last semester's grades to the department (§1.7), marked
    submitted: one per counselor and semester (the semester it is due in)."""

    __tablename__ = "retake_reports"
    __table_args__ = (UniqueConstraint("counselor_id", "semester"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    counselor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    semester: Mapped[str] = mapped_column(String(50))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- the rules read as written (issue 13): §1.4 主管领导布置的工作, §1.6 综合素质测评 ---------------


class LeaderTask(Base):
    """主管领导布置的工作 (§1.4): a task a leader gives one or more staff, with a due date."""

    __tablename__ = "leader_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(String(2000), default="")
    due: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    assigned_by: Mapped[User] = relationship()
    assignees: Mapped[list[TaskAssignee]] = relationship(
        order_by="TaskAssignee.id", cascade="all, delete-orphan", passive_deletes=True,
        back_populates="task",
    )  # fmt: skip


class TaskAssignee(Base):
    """One person's part of a task: done with a note, or still open."""

    __tablename__ = "task_assignees"
    __table_args__ = (UniqueConstraint("task_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("leader_tasks.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(2000), default="")

    task: Mapped[LeaderTask] = relationship(back_populates="assignees")
    staff: Mapped[User] = relationship()


class QualityAssessment(Base):
    """综合素质测评 (§1.6): a student's result of one school year, as the class committee
    assessed it and the class teacher recorded or imported it (sheet 综合测评)."""

    __tablename__ = "quality_assessments"
    __table_args__ = (UniqueConstraint("student_id", "school_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    school_year: Mapped[str] = mapped_column(String(20))  # 学年, e.g. 2025-2026
    score: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(10))  # 等级: 优秀 良好 合格 不合格
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    student: Mapped[Student] = relationship()


class QualitySubmission(Base):
    """A class's 综合素质测评 of a school year submitted to the department (§1.6)."""

    __tablename__ = "quality_submissions"
    __table_args__ = (UniqueConstraint("class_id", "school_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    school_year: Mapped[str] = mapped_column(String(20))
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    submitted_by: Mapped[User] = relationship()


# --- the department's assessment (考核, §4; server/assessment.py) ------------------------------


class AssessmentRules(Base):
    """考核细则: one version of a department's assessment rules (§4). `measures` lists what is
    counted, each with its weight (server/assessment.py MEASURES). A version is written as a
    draft, filed (备案) with the office, then accepted or returned with a comment; the newest
    accepted version is the one scores use. Versions are never deleted: old ones stay readable."""

    __tablename__ = "assessment_rules"
    __table_args__ = (UniqueConstraint("department_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(20))  # month, semester, year
    measures: Mapped[list] = mapped_column(JSONDoc)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # filed, accepted, returned
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    comment: Mapped[str] = mapped_column(Text, default="")

    department: Mapped[Department] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class AssessmentGroupMember(Base):
    """考核领导小组: a member of a department's assessment group, named by the leader (§4)."""

    __tablename__ = "assessment_group_members"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)

    user: Mapped[User] = relationship()


class AssessmentManualScore(Base):
    """Points the assessment group gives a person for a manual item of a period (德育论文 /
    课题, 经验交流会, §3), at most the item's maximum in the rules."""

    __tablename__ = "assessment_manual_scores"
    __table_args__ = (UniqueConstraint("department_id", "period", "staff_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))  # the period's key (m2026-11, s2026-09-01, y2026)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    item: Mapped[str] = mapped_column(String(30))  # the rules' item id
    points: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    scored_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AssessmentConfirmation(Base):
    """A member of the assessment group confirmed a period's results; when every member has,
    the results are frozen (AssessmentSnapshot)."""

    __tablename__ = "assessment_confirmations"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class AssessmentSnapshot(Base):
    """A period's frozen results: the rows as confirmed, with the rules version used. Later
    edits to the period's records do not change it; they are flagged beside it."""

    __tablename__ = "assessment_snapshots"
    __table_args__ = (UniqueConstraint("department_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    rules_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_rules.id"))
    rows: Mapped[list] = mapped_column(JSONDoc)
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EscalationStep(Base):
    """One step of an escalation's flow (server/escalations.py), never edited: acknowledge,
    a follow-up note (maybe meant for the reporter), an assignment, the close with its outcome."""

    __tablename__ = "escalation_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))  # acknowledge, note, assign, close
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text, default="")
    for_reporter: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class Notification(Base):
    """The notifications outbox (server/notify.py): written in the transaction that opens an
    escalation or finds it overdue, sent later by `xuegong notify` or the app's loop. Each
    channel (e-mail, webhook) is marked sent on its own, so a retry resends only what failed."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(20))  # opened, overdue
    department_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webhook_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
