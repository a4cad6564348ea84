"""The item lists of the catalogue read model: published list versions
(registry.item_list.published.v1) and their items (registry.item.upserted.v2)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "catalogue_lists",
        sa.Column("list_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("province", sa.String(6), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("item_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
        sa.Column("adopted_list_id", UUID(as_uuid=True), nullable=True),
        sa.Column("based_on_list_id", UUID(as_uuid=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "catalogue_lists_family", "catalogue_lists", ["level", "province", "effective_from"]
    )
    op.create_table(
        "catalogue_items",
        sa.Column("list_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("item_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("list_level", sa.Text, nullable=False),
        sa.Column("list_version", sa.Integer, nullable=False),
        sa.Column("province", sa.String(6), nullable=True),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("business_line", sa.Text, nullable=False),
        sa.Column("item_category", sa.Text, nullable=False),
        sa.Column("allowed_methods", ARRAY(sa.Text), nullable=False),
        sa.Column("subject_criteria", JSONB, nullable=False),
        sa.Column("required_qualification", sa.Text, nullable=True),
        sa.Column("min_ratio", sa.Float, nullable=True),
        sa.Column("lead_department", sa.Text, nullable=True),
        sa.Column("partner_departments", ARRAY(sa.Text), nullable=False),
        sa.Column("joint", sa.Boolean, nullable=False),
        sa.Column("inspection_level", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("catalogue_items_code", "catalogue_items", ["list_id", "code"])


def downgrade() -> None:
    op.drop_table("catalogue_items")
    op.drop_table("catalogue_lists")
