"""Risk-ratio policies (风险分类抽查比例与频次, R11)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "risk_ratio_policies",
        sa.Column("policy_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("policy_key", sa.Text, nullable=False, unique=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("province", sa.String(2), nullable=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=True),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("effective_year", sa.Integer, nullable=False),
        sa.Column("item_id", UUID(as_uuid=True), nullable=True),
        sa.Column("classes", JSONB, nullable=False),
        sa.Column("unclassified_treatment", sa.String(1), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("holder IN ('national', 'province', 'org')", name="holder_known"),
        sa.CheckConstraint(
            "(holder = 'national') = (province IS NULL) AND (holder = 'org') = (org_id IS NOT NULL)",
            name="holder_has_its_key",
        ),
    )
    op.create_index(
        "risk_ratio_policies_lookup",
        "risk_ratio_policies",
        ["effective_year", "province", "org_id"],
    )


def downgrade() -> None:
    op.drop_table("risk_ratio_policies")
