"""sync trust: devices belong to their user, what a mutation number carried, when an entry
arrived

Revision ID: 0011_synctrust
Revises: 0010_scope
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_synctrust"
down_revision = "0010_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "first_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_devices_user_id_users")),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_devices")),
    )
    with op.batch_alter_table("devices") as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_user_id"), ["user_id"], unique=False)
    # a device already seen belongs to whoever sent its first remembered mutation
    op.execute(
        """
        INSERT INTO devices (device_id, user_id, first_seen_at)
        SELECT m.device_id, m.author_id, m.received_at FROM device_mutations m
        WHERE m.mutation_no = (SELECT MIN(f.mutation_no) FROM device_mutations f
                               WHERE f.device_id = m.device_id)
        """
    )
    with op.batch_alter_table("device_mutations") as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
    with op.batch_alter_table("entries") as batch_op:
        batch_op.add_column(sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
    # until now the insert time was the only trace of arrival
    op.execute("UPDATE entries SET received_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch_op:
        batch_op.drop_column("received_at")
    with op.batch_alter_table("device_mutations") as batch_op:
        batch_op.drop_column("digest")
    op.drop_table("devices")
