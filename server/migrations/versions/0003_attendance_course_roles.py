"""attendance: course representatives and study-group leaders of a class (§2.11)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_course_roles_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_roles_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_course_roles_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_roles")),
        sa.UniqueConstraint(
            "class_id",
            "course_id",
            "student_id",
            name=op.f("uq_course_roles_class_id_course_id_student_id"),
        ),
    )
    with op.batch_alter_table("course_roles") as batch_op:
        batch_op.create_index(batch_op.f("ix_course_roles_class_id"), ["class_id"], unique=False)


def downgrade() -> None:
    op.drop_table("course_roles")
