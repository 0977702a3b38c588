"""duty: per-department round windows and shift swap requests

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SLOT = sa.Enum("morning", "evening", name="slot", native_enum=False, length=20)
SWAP_STATUS = sa.Enum(
    "requested",
    "accepted",
    "refused",
    "approved",
    "rejected",
    name="swapstatus",
    native_enum=False,
    length=20,
)


def upgrade() -> None:
    op.create_table(
        "duty_windows",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("slot", SLOT, nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_duty_windows_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("department_id", "slot", name=op.f("pk_duty_windows")),
    )
    op.create_table(
        "swap_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("colleague_shift_id", sa.Integer(), nullable=True),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("colleague_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("status", SWAP_STATUS, nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["duty_shifts.id"],
            name=op.f("fk_swap_requests_shift_id_duty_shifts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["colleague_shift_id"],
            ["duty_shifts.id"],
            name=op.f("fk_swap_requests_colleague_shift_id_duty_shifts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_swap_requests_requester_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["colleague_id"], ["users.id"], name=op.f("fk_swap_requests_colleague_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_swap_requests_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_swap_requests_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swap_requests")),
    )
    with op.batch_alter_table("swap_requests") as batch_op:
        batch_op.create_index(batch_op.f("ix_swap_requests_shift_id"), ["shift_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_swap_requests_requester_id"), ["requester_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_swap_requests_colleague_id"), ["colleague_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_swap_requests_department_id"), ["department_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("swap_requests")
    op.drop_table("duty_windows")
