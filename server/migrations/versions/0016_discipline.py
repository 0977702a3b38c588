"""discipline cases: the append-only steps of each case (discipline_steps, §1.8)

Revision ID: 0016_discipline
Revises: 0014_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_discipline"
down_revision = "0014_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "discipline_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handling", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("entry_revision", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_discipline_steps_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_discipline_steps_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discipline_steps")),
        sa.UniqueConstraint("entry_id", "number", name=op.f("uq_discipline_steps_entry_id_number")),
    )
    with op.batch_alter_table("discipline_steps") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_discipline_steps_entry_id"), ["entry_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("discipline_steps")
