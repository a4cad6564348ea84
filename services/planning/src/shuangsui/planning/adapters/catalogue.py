"""Planning's catalogue read model: what the registry's events say about orgs (and, later, the
items in force). Fed only by the `planning-catalogue` consumer, never by a call to the registry."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

metadata = sa.MetaData()

# One row per org, replaced when an event carries a higher version (registry.org.upserted.v1).
catalogue_orgs = sa.Table(
    "catalogue_orgs",
    metadata,
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
    sa.Index("catalogue_orgs_parent", "parent_org_id"),
    sa.Index("catalogue_orgs_region", "region_code"),
)
