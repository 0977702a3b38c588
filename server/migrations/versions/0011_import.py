"""bringing the college in: students.status, rooms.gender, the imports table

Revision ID: 0011_import
Revises: 0010_scope
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011_import"
down_revision = "0010_scope"
branch_labels = None
depends_on = None

STUDENT_STATUS = sa.Enum(
    "enrolled", "suspended", "withdrawn", "graduated",
    name="studentstatus", native_enum=False, length=20,
)  # fmt: skip
IMPORT_STATUS = sa.Enum(
    "uploaded", "checking", "checked", "rejected", "unreadable", "applying", "applied", "failed",
    name="importstatus", native_enum=False, length=20,
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("students") as batch:
        batch.add_column(
            sa.Column("status", STUDENT_STATUS, nullable=False, server_default="enrolled")
        )
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("gender", sa.String(length=2), nullable=True))
    op.create_table(
        "imports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sheet", sa.String(length=20), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", IMPORT_STATUS, nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=50), nullable=False),
        sa.Column("preview", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=True),
        sa.Column("counts", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"),
                  nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_imports_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("imports")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("gender")
    with op.batch_alter_table("students") as batch:
        batch.drop_column("status")
