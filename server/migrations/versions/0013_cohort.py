"""graduating a cohort: classes.archived

Revision ID: 0013_cohort
Revises: 0012_import
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_cohort"
down_revision = "0012_import"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("classes") as batch:
        batch.add_column(
            sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("classes") as batch:
        batch.drop_column("archived")
