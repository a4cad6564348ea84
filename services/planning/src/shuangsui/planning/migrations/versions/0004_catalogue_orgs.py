"""The orgs of the catalogue read model (registry.org.upserted.v1)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "catalogue_orgs",
        sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("parent_org_id", UUID(as_uuid=True), nullable=True),
        sa.Column("parent_code", sa.Text, nullable=True),
        sa.Column("department_type", sa.Text, nullable=False),
        sa.Column("is_hq", sa.Boolean, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("catalogue_orgs_parent", "catalogue_orgs", ["parent_org_id"])
    op.create_index("catalogue_orgs_region", "catalogue_orgs", ["region_code"])


def downgrade() -> None:
    op.drop_table("catalogue_orgs")
