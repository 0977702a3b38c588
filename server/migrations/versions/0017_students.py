"""a page per student and role homes: students' pinyin keys, rooms' printed label version

Revision ID: 0017_students
Revises: 0014_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_students"
down_revision = "0022_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("students") as batch:
        batch.add_column(
            sa.Column("pinyin_full", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("pinyin_initials", sa.String(50), nullable=False, server_default="")
        )
        batch.create_index("ix_students_pinyin_full", ["pinyin_full"])
        batch.create_index("ix_students_pinyin_initials", ["pinyin_initials"])
    with op.batch_alter_table("rooms") as batch:
        # the label version last opened for printing (/labels/<building>); None: never printed
        batch.add_column(sa.Column("printed_label_version", sa.Integer(), nullable=True))
    _backfill()


def _backfill() -> None:
    from server.pinyin import keys

    bind = op.get_bind()
    students = sa.table(
        "students", sa.column("id", sa.Integer), sa.column("name", sa.String),
        sa.column("pinyin_full", sa.String), sa.column("pinyin_initials", sa.String),
    )  # fmt: skip
    rows = bind.execute(sa.select(students.c.id, students.c.name)).all()
    changes = [
        {"b_id": id_, "b_full": full, "b_initials": initials}
        for id_, name in rows
        for full, initials in [keys(name)]
    ]
    if changes:
        bind.execute(
            students.update()
            .where(students.c.id == sa.bindparam("b_id"))
            .values(pinyin_full=sa.bindparam("b_full"), pinyin_initials=sa.bindparam("b_initials")),
            changes,
        )


def downgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("printed_label_version")
    with op.batch_alter_table("students") as batch:
        batch.drop_index("ix_students_pinyin_initials")
        batch.drop_index("ix_students_pinyin_full")
        batch.drop_column("pinyin_initials")
        batch.drop_column("pinyin_full")
