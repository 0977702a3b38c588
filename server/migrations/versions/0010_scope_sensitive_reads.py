"""who read which mental-health record: sensitive_reads (issue 10, least privilege)

Revision ID: 0010_scope
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_scope"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensitive_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("page", sa.String(length=40), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["users.id"], name=op.f("fk_sensitive_reads_reader_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_sensitive_reads_entry_id_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensitive_reads")),
    )
    for column in ("reader_id", "entry_id", "read_at"):
        op.create_index(
            op.f(f"ix_sensitive_reads_{column}"), "sensitive_reads", [column], unique=False
        )


def downgrade() -> None:
    for column in ("reader_id", "entry_id", "read_at"):
        op.drop_index(op.f(f"ix_sensitive_reads_{column}"), table_name="sensitive_reads")
    op.drop_table("sensitive_reads")
