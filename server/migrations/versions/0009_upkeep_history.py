"""keeping the data current: contact grade changes and bed moves

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_grade_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("old_grade", sa.String(length=20), nullable=False),
        sa.Column("new_grade", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"],
            name=op.f("fk_contact_grade_changes_student_id_students"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"],
            name=op.f("fk_contact_grade_changes_changed_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_grade_changes")),
    )  # fmt: skip
    with op.batch_alter_table("contact_grade_changes") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_grade_changes_student_id"), ["student_id"], unique=False
        )
    op.create_table(
        "bed_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("from_bed_id", sa.Integer(), nullable=True),
        sa.Column("to_bed_id", sa.Integer(), nullable=True),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("moved_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_bed_moves_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_bed_id"], ["beds.id"], name=op.f("fk_bed_moves_from_bed_id_beds"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_bed_id"], ["beds.id"], name=op.f("fk_bed_moves_to_bed_id_beds"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["moved_by_id"], ["users.id"], name=op.f("fk_bed_moves_moved_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bed_moves")),
    )  # fmt: skip
    with op.batch_alter_table("bed_moves") as batch_op:
        batch_op.create_index(batch_op.f("ix_bed_moves_student_id"), ["student_id"], unique=False)


def downgrade() -> None:
    op.drop_table("bed_moves")
    op.drop_table("contact_grade_changes")
