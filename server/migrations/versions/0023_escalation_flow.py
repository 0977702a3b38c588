"""escalations handled to the end: states, steps, the notifications outbox

Revision ID: 0023_escalation_flow
Revises: 0025_assessment
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_escalation_flow"
down_revision = "0025_assessment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        # existing open escalations become 待确认 (pending)
        batch.add_column(
            sa.Column("state", sa.String(20), nullable=False, server_default="pending")
        )
        batch.add_column(sa.Column("acknowledged_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("overdue_notified_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_foreign_key(
            "fk_escalations_acknowledged_by_id_users", "users", ["acknowledged_by_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_escalations_assignee_id_users", "users", ["assignee_id"], ["id"]
        )
    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "escalation_id",
            sa.Integer(),
            sa.ForeignKey("escalations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("for_reporter", sa.Boolean(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_index("ix_escalation_steps_escalation_id", "escalation_steps", ["escalation_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "escalation_id",
            sa.Integer(),
            sa.ForeignKey("escalations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("department_name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhook_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
    )
    op.create_index("ix_notifications_escalation_id", "notifications", ["escalation_id"])
    op.create_index("ix_notifications_status", "notifications", ["status"])
    op.create_index("ix_notifications_next_attempt_at", "notifications", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("escalation_steps")
    with op.batch_alter_table("escalations") as batch:
        batch.drop_constraint("fk_escalations_assignee_id_users", type_="foreignkey")
        batch.drop_constraint("fk_escalations_acknowledged_by_id_users", type_="foreignkey")
        for column in ("overdue_notified_at", "closed_at", "assignee_id", "acknowledged_at",
                       "acknowledged_by_id", "state"):  # fmt: skip
            batch.drop_column(column)
