"""the rules read as written (issue 13): leaders' tasks (§1.4), 综合素质测评 and its
submissions (§1.6)

Revision ID: 0024_rules_as_written
Revises: 0017_students
"""

import sqlalchemy as sa
from alembic import op

MOMENT = sa.DateTime(timezone=True)

revision = "0024_rules_as_written"
down_revision = "0017_students"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leader_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("assigned_by_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.String(length=2000), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_leader_tasks_department_id_departments")),
        sa.ForeignKeyConstraint(["assigned_by_id"], ["users.id"],
                                name=op.f("fk_leader_tasks_assigned_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leader_tasks")),
    )  # fmt: skip
    op.create_index(op.f("ix_leader_tasks_department_id"), "leader_tasks", ["department_id"])
    op.create_table(
        "task_assignees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("done_at", MOMENT, nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["leader_tasks.id"], ondelete="CASCADE",
                                name=op.f("fk_task_assignees_task_id_leader_tasks")),
        sa.ForeignKeyConstraint(["staff_id"], ["users.id"],
                                name=op.f("fk_task_assignees_staff_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_assignees")),
        sa.UniqueConstraint("task_id", "staff_id", name=op.f("uq_task_assignees_task_id_staff_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_task_assignees_task_id"), "task_assignees", ["task_id"])
    op.create_index(op.f("ix_task_assignees_staff_id"), "task_assignees", ["staff_id"])
    op.create_table(
        "quality_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE",
                                name=op.f("fk_quality_assessments_student_id_students")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_assessments")),
        sa.UniqueConstraint("student_id", "school_year",
                            name=op.f("uq_quality_assessments_student_id_school_year")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_quality_assessments_student_id"), "quality_assessments", ["student_id"]
    )
    op.create_table(
        "quality_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.String(length=20), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["class_id"], ["classes.id"], ondelete="CASCADE",
                                name=op.f("fk_quality_submissions_class_id_classes")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"],
                                name=op.f("fk_quality_submissions_submitted_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_submissions")),
        sa.UniqueConstraint("class_id", "school_year",
                            name=op.f("uq_quality_submissions_class_id_school_year")),
    )  # fmt: skip
    op.create_index(op.f("ix_quality_submissions_class_id"), "quality_submissions", ["class_id"])


def downgrade() -> None:
    op.drop_table("quality_submissions")
    op.drop_table("quality_assessments")
    op.drop_table("task_assignees")
    op.drop_table("leader_tasks")
