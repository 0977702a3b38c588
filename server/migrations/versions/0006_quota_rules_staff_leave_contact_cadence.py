"""the guideline's records: weekly quota rules (with the guideline's defaults), staff leave,
parent-contact cadence per department

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ROLE = sa.Enum(
    "counselor", "class_teacher", "leader", "office", "admin",
    name="role", native_enum=False, length=20,
)  # fmt: skip

# DESIGN.md's table of weekly quotas (guideline §1.5, §2.6.3, §2.7): the college's defaults
DEFAULT_RULES = [
    # counts, label, distinct students, counselor, class teacher
    ("talk", "谈心谈话（不同学生）", True, 5, 2),
    ("attendance_check", "检查上课", False, 2, 2),
    ("hygiene_check", "宿舍卫生检查", False, 2, 2),
    ("dorm_talk", "深入宿舍谈心", False, 2, 2),
    ("lecture_observation", "听课", False, 1, 1),
]


def upgrade() -> None:
    rules = op.create_table(
        "quota_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("counts", sa.String(length=30), nullable=False),
        sa.Column("label", sa.String(length=50), nullable=False),
        sa.Column("distinct_students", sa.Boolean(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_quota_rules_department_id_departments"),
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_rules")),
        sa.UniqueConstraint(
            "department_id", "role", "counts", name=op.f("uq_quota_rules_department_id_role_counts")
        ),
    )
    op.bulk_insert(
        rules,
        [
            {"role": role, "counts": counts, "label": label, "distinct_students": distinct,
             "target": target, "department_id": None}
            for counts, label, distinct, counselor, teacher in DEFAULT_RULES
            for role, target in (("counselor", counselor), ("class_teacher", teacher))
        ],
    )  # fmt: skip
    op.create_table(
        "staff_leaves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "approved",
                "rejected",
                name="leavestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["staff_id"], ["users.id"], name=op.f("fk_staff_leaves_staff_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_staff_leaves_department_id_departments"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_staff_leaves_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_leaves")),
    )
    with op.batch_alter_table("staff_leaves") as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_leaves_staff_id"), ["staff_id"])
        batch_op.create_index(batch_op.f("ix_staff_leaves_department_id"), ["department_id"])
    op.create_table(
        "contact_cadences",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("special_days", sa.Integer(), nullable=False),
        sa.Column("key_days", sa.Integer(), nullable=False),
        sa.Column("general_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_contact_cadences_department_id_departments"),
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("department_id", name=op.f("pk_contact_cadences")),
    )


def downgrade() -> None:
    op.drop_table("contact_cadences")
    op.drop_table("staff_leaves")
    op.drop_table("quota_rules")
