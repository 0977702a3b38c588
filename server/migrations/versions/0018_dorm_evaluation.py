"""dorm evaluation rounds (评比) and their publications (公示), guideline §2.9

Revision ID: 0018_dorm_evaluation
Revises: 0014_accounts
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018_dorm_evaluation"
down_revision = "0016_discipline"
branch_labels = None
depends_on = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "evaluation_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("inspection_days", JSONDoc, nullable=False),
        sa.Column("deductions", JSONDoc, nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_evaluation_rounds_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_evaluation_rounds_building_id_buildings"),
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"], name=op.f("fk_evaluation_rounds_opened_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_rounds")),
    )
    for column in ("department_id", "first_day"):
        op.create_index(
            op.f(f"ix_evaluation_rounds_{column}"), "evaluation_rounds", [column], unique=False
        )
    op.create_table(
        "evaluation_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("rows", JSONDoc, nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["evaluation_rounds.id"],
            name=op.f("fk_evaluation_publications_round_id_evaluation_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_evaluation_publications_published_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["users.id"],
            name=op.f("fk_evaluation_publications_revoked_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_publications")),
        sa.UniqueConstraint("token", name=op.f("uq_evaluation_publications_token")),
    )
    op.create_index(
        op.f("ix_evaluation_publications_round_id"),
        "evaluation_publications",
        ["round_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_evaluation_publications_round_id"), table_name="evaluation_publications")
    op.drop_table("evaluation_publications")
    for column in ("department_id", "first_day"):
        op.drop_index(op.f(f"ix_evaluation_rounds_{column}"), table_name="evaluation_rounds")
    op.drop_table("evaluation_rounds")
