"""the department's assessment (考核, §4): rules versions and their filing, the assessment
group, manual points, confirmations and frozen results

Revision ID: 0025_assessment
Revises: 0026_entry_kind_indexes
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0025_assessment"
down_revision = "0026_entry_kind_indexes"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assessment_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("measures", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", MOMENT, server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("filed_at", MOMENT, nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", MOMENT, nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_assessment_rules_department_id_departments")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_assessment_rules_created_by_id_users")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_assessment_rules_decided_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_rules")),
        sa.UniqueConstraint("department_id", "version", name=op.f("uq_assessment_rules_department_id_version")),
    )  # fmt: skip
    with op.batch_alter_table("assessment_rules") as batch:
        batch.create_index(batch.f("ix_assessment_rules_department_id"), ["department_id"])
    op.create_table(
        "assessment_group_members",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_assessment_group_members_department_id_departments")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_assessment_group_members_user_id_users")),
        sa.PrimaryKeyConstraint("department_id", "user_id", name=op.f("pk_assessment_group_members")),
    )  # fmt: skip
    op.create_table(
        "assessment_manual_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=30), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("scored_by_id", sa.Integer(), nullable=False),
        sa.Column("scored_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_assessment_manual_scores_department_id_departments")),
        sa.ForeignKeyConstraint(["staff_id"], ["users.id"], name=op.f("fk_assessment_manual_scores_staff_id_users")),
        sa.ForeignKeyConstraint(["scored_by_id"], ["users.id"], name=op.f("fk_assessment_manual_scores_scored_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_manual_scores")),
        sa.UniqueConstraint("department_id", "period", "staff_id", "item", name=op.f("uq_assessment_manual_scores_department_id_period_staff_id_item")),
    )  # fmt: skip
    with op.batch_alter_table("assessment_manual_scores") as batch:
        batch.create_index(batch.f("ix_assessment_manual_scores_department_id"), ["department_id"])
    op.create_table(
        "assessment_confirmations",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_assessment_confirmations_department_id_departments")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_assessment_confirmations_user_id_users")),
        sa.PrimaryKeyConstraint("department_id", "period", "user_id", name=op.f("pk_assessment_confirmations")),
    )  # fmt: skip
    op.create_table(
        "assessment_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("rules_id", sa.Integer(), nullable=True),
        sa.Column("rows", JSON, nullable=False),
        sa.Column("frozen_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_assessment_snapshots_department_id_departments")),
        sa.ForeignKeyConstraint(["rules_id"], ["assessment_rules.id"], name=op.f("fk_assessment_snapshots_rules_id_assessment_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_snapshots")),
        sa.UniqueConstraint("department_id", "period", name=op.f("uq_assessment_snapshots_department_id_period")),
    )  # fmt: skip
    with op.batch_alter_table("assessment_snapshots") as batch:
        batch.create_index(batch.f("ix_assessment_snapshots_department_id"), ["department_id"])


def downgrade() -> None:
    op.drop_table("assessment_snapshots")
    op.drop_table("assessment_confirmations")
    op.drop_table("assessment_manual_scores")
    op.drop_table("assessment_group_members")
    op.drop_table("assessment_rules")
