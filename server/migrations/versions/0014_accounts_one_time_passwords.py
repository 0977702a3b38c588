"""one-time passwords: users.must_change_password (issue 11, first admin and accounts)

Revision ID: 0014_accounts
Revises: 0013_cohort
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_accounts"
down_revision = "0013_cohort"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
