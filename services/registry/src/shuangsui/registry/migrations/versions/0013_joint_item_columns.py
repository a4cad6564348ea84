"""Joint cross-department items: 发起部门, 配合部门, 抽查层级 (INTEGRATION_FORMATS.md §3, R20).

All three are optional, so items written before them stay valid as single-department items
with no level. The checks repeat the domain's bounds and its joint rule (partners need a lead),
so a row written around the API still cannot break them.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.add_column("check_items", sa.Column("lead_department", sa.Text))
    op.add_column(
        "check_items",
        sa.Column("partner_departments", JSONB, nullable=False, server_default="[]"),
    )
    op.add_column("check_items", sa.Column("inspection_level", sa.Text))
    op.create_check_constraint(
        "check_items_lead_department",
        "check_items",
        "char_length(lead_department) BETWEEN 1 AND 50",
    )
    op.create_check_constraint(
        "check_items_partner_departments",
        "check_items",
        # CASE, not AND: PostgreSQL does not promise to test the type before taking a length.
        "CASE WHEN jsonb_typeof(partner_departments) = 'array' "
        "THEN jsonb_array_length(partner_departments) <= 20 ELSE false END",
    )
    op.create_check_constraint(
        "check_items_joint_has_lead",
        "check_items",
        "lead_department IS NOT NULL OR partner_departments = '[]'::jsonb",
    )
    op.create_check_constraint(
        "check_items_inspection_level",
        "check_items",
        "inspection_level IN ('national', 'provincial', 'city', 'county')",
    )


def downgrade() -> None:
    for name in (
        "check_items_inspection_level",
        "check_items_joint_has_lead",
        "check_items_partner_departments",
        "check_items_lead_department",
    ):
        op.drop_constraint(name, "check_items", type_="check")
    op.drop_column("check_items", "inspection_level")
    op.drop_column("check_items", "partner_departments")
    op.drop_column("check_items", "lead_department")
