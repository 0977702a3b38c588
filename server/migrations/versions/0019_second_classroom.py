"""the second classroom and semester-start duties: activities and their steps, course
results (成绩), the timetable (课表), retake reports (issue 13)

Revision ID: 0019_second_classroom
Revises: 0014_accounts
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019_second_classroom"
down_revision = "0018_dorm_evaluation"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("high_level", sa.Boolean(), nullable=False),
        sa.Column("organiser", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("grades", JSON, nullable=False),
        sa.Column("class_ids", JSON, nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("safety", sa.Text(), nullable=False),
        sa.Column("proposer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", MOMENT, server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_activities_department_id_departments")),
        sa.ForeignKeyConstraint(["proposer_id"], ["users.id"], name=op.f("fk_activities_proposer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )  # fmt: skip
    with op.batch_alter_table("activities") as batch:
        batch.create_index(batch.f("ix_activities_department_id"), ["department_id"])
        batch.create_index(batch.f("ix_activities_day"), ["day"])
        batch.create_index(batch.f("ix_activities_proposer_id"), ["proposer_id"])
    op.create_table(
        "activity_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], name=op.f("fk_activity_steps_activity_id_activities"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_activity_steps_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_steps")),
    )  # fmt: skip
    with op.batch_alter_table("activity_steps") as batch:
        batch.create_index(batch.f("ix_activity_steps_activity_id"), ["activity_id"])
    op.create_table(
        "course_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("semester", sa.String(length=50), nullable=False),
        sa.Column("course", sa.String(length=80), nullable=False),
        sa.Column("score", sa.String(length=20), nullable=False),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("retake", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], name=op.f("fk_course_results_student_id_students"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_results")),
        sa.UniqueConstraint("student_id", "semester", "course", name=op.f("uq_course_results_student_id_semester_course")),
    )  # fmt: skip
    with op.batch_alter_table("course_results") as batch:
        batch.create_index(batch.f("ix_course_results_student_id"), ["student_id"])
    op.create_table(
        "timetable_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_course_id", sa.Integer(), nullable=False),
        sa.Column("semester", sa.String(length=50), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("periods", sa.String(length=20), nullable=False),
        sa.Column("first_week", sa.Integer(), nullable=False),
        sa.Column("last_week", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["class_course_id"], ["class_courses.id"], name=op.f("fk_timetable_slots_class_course_id_class_courses"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timetable_slots")),
        sa.UniqueConstraint("class_course_id", "semester", "weekday", "periods", name=op.f("uq_timetable_slots_class_course_id_semester_weekday_periods")),
    )  # fmt: skip
    with op.batch_alter_table("timetable_slots") as batch:
        batch.create_index(batch.f("ix_timetable_slots_class_course_id"), ["class_course_id"])
    op.create_table(
        "retake_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counselor_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("semester", sa.String(length=50), nullable=False),
        sa.Column("submitted_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["counselor_id"], ["users.id"], name=op.f("fk_retake_reports_counselor_id_users")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_retake_reports_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retake_reports")),
        sa.UniqueConstraint("counselor_id", "semester", name=op.f("uq_retake_reports_counselor_id_semester")),
    )  # fmt: skip
    with op.batch_alter_table("retake_reports") as batch:
        batch.create_index(batch.f("ix_retake_reports_counselor_id"), ["counselor_id"])


def downgrade() -> None:
    for table in (
        "retake_reports", "timetable_slots", "course_results", "activity_steps", "activities"
    ):  # fmt: skip
        op.drop_table(table)
