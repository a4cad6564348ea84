"""The subject directory (检查对象名录库) and its change history.

The tables are written out here as they were in this revision, so later changes of the adapters
cannot rewrite what this migration did."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "subjects",
        sa.Column("uscc", sa.String(18), primary_key=True),
        sa.Column("subject_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("subject_type", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("registered_address", sa.Text),
        sa.Column("business_address", sa.Text),
        sa.Column("legal_representative", sa.Text),
        sa.Column("industry_code", sa.Text),
        sa.Column("business_scope", sa.Text),
        sa.Column("licences", JSONB, nullable=False),
        sa.Column("online_shops", JSONB, nullable=False),
        sa.Column("registered_capital_wan", sa.Numeric),
        sa.Column("employee_band", sa.Text),
        sa.Column("unit_code", sa.Text),
        sa.Column("registered_on", sa.Date),
        sa.Column("registration_no", sa.Text),
        sa.Column("extra", JSONB, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("subjects_region", "subjects", ["region_code", "uscc"])
    op.create_index("subjects_unit", "subjects", ["unit_code"])
    op.create_table(
        "subject_history",
        sa.Column("uscc", sa.String(18), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("content", JSONB, nullable=False),
    )
