"""corrections and photos: a deletion's reason, resolved conflicts, photos of entries (issue 15)

Revision ID: 0022_corrections
Revises: 0014_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_corrections"
down_revision = "0019_second_classroom"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entry_revisions") as batch:
        # why a revision deleted the entry (required for a deletion), empty otherwise
        batch.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("conflicts") as batch:
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("kept", sa.String(10), nullable=True))
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=80), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_photos_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_photos_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
        sa.UniqueConstraint("entry_id", "position", name=op.f("uq_photos_entry_id_position")),
    )
    op.create_index(op.f("ix_photos_entry_id"), "photos", ["entry_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_photos_entry_id"), table_name="photos")
    op.drop_table("photos")
    with op.batch_alter_table("conflicts") as batch:
        batch.drop_column("kept")
        batch.drop_column("resolved_at")
    with op.batch_alter_table("entry_revisions") as batch:
        batch.drop_column("reason")
