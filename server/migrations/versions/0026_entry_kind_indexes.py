"""entries: the class's and the department's indexes also hold the kind (issue 16)

Revision ID: 0026_entry_kind_indexes
Revises: 0024_rules_as_written
"""

from alembic import op

revision = "0026_entry_kind_indexes"
down_revision = "0024_rules_as_written"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entries_class_kind", "entries", ["class_id", "kind"])
    op.create_index("ix_entries_department_kind", "entries", ["department_id", "kind"])
    # the new indexes start with the same columns: they serve every query the old ones did
    op.drop_index("ix_entries_class_id", table_name="entries")
    op.drop_index("ix_entries_department_id", table_name="entries")


def downgrade() -> None:
    op.create_index("ix_entries_department_id", "entries", ["department_id"])
    op.create_index("ix_entries_class_id", "entries", ["class_id"])
    op.drop_index("ix_entries_department_kind", table_name="entries")
    op.drop_index("ix_entries_class_kind", table_name="entries")
