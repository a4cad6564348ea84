"""The subjects read model (检查对象): subjects, their item scope and tags, their risk classes,
and where each read model stands against the registry (its export point, its lag)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "subjects",
        sa.Column("uscc", sa.Text, primary_key=True),
        sa.Column("subject_id", UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("subject_type", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("unit_code", sa.Text, nullable=True),
        sa.Column("industry_code", sa.Text, nullable=True),
        sa.Column("registered_on", sa.Date, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("subjects_region", "subjects", ["region_code", "status"])
    op.create_table(
        "subject_scopes",
        sa.Column("uscc", sa.Text, primary_key=True),
        sa.Column("tags", JSONB, nullable=False),
        sa.Column("item_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
        sa.Column("classification", sa.Integer, nullable=False),
        sa.Column("scoped_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("subject_scopes_items", "subject_scopes", ["item_ids"], postgresql_using="gin")
    op.create_table(
        "subject_risk_classes",
        sa.Column("uscc", sa.Text, primary_key=True),
        sa.Column("domain", sa.Text, primary_key=True),
        sa.Column("risk_class", sa.String(1), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "read_models",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("snapshot", JSONB, nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("loaded_rows", sa.BigInteger, nullable=True),
        sa.Column("current_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending", sa.BigInteger, nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    for table in ("read_models", "subject_risk_classes", "subject_scopes", "subjects"):
        op.drop_table(table)
