"""staff leave: every decision kept (leave_decisions)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leave_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("leave_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["leave_id"],
            ["staff_leaves.id"],
            name=op.f("fk_leave_decisions_leave_id_staff_leaves"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_leave_decisions_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_decisions")),
    )
    with op.batch_alter_table("leave_decisions") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leave_decisions_leave_id"), ["leave_id"], unique=False
        )
    # decisions taken before this table existed become its first rows
    op.execute(
        "INSERT INTO leave_decisions (leave_id, status, decided_by_id, note, decided_at) "
        "SELECT id, status, decided_by_id, '', COALESCE(decided_at, created_at) "
        "FROM staff_leaves WHERE status <> 'requested' AND decided_by_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("leave_decisions")
