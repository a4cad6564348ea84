"""The inspector pool and batches read models: officers (registry.inspector.upserted.v1), their
declared conflicts (registry.inspector.conflict_declared.v1) and batches
(planning.batch.published.v1, planning.batch.cancelled.v1)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "inspectors",
        sa.Column("inspector_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_code", sa.Text, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("station_code", sa.Text, nullable=True),
        sa.Column("department_type", sa.Text, nullable=False),
        sa.Column("qualifications", ARRAY(sa.Text), nullable=False),
        sa.Column("specialties", ARRAY(sa.Text), nullable=False),
        sa.Column("cert_valid_until", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("inspectors_org", "inspectors", ["org_code", "department_type"])
    op.create_index("inspectors_region", "inspectors", ["region_code", "department_type"])
    op.create_table(
        "inspector_conflicts",
        sa.Column("conflict_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("inspector_id", UUID(as_uuid=True), nullable=False),
        sa.Column("subject_uscc", sa.Text, nullable=False),
        sa.Column("since", sa.Date, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
        sa.Column("inspector_version", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("inspector_conflicts_inspector", "inspector_conflicts", ["inspector_id"])
    op.create_index("inspector_conflicts_subject", "inspector_conflicts", ["subject_uscc"])
    op.create_table(
        "batches",
        sa.Column("batch_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("batch_code", sa.Text, nullable=False),
        sa.Column("plan_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("published", JSONB, nullable=True),
        sa.Column("org_id", UUID(as_uuid=True), nullable=True),
        sa.Column("org_region_code", sa.String(6), nullable=True),
        sa.Column("department_type", sa.Text, nullable=True),
        sa.Column("participant_org_ids", ARRAY(UUID(as_uuid=True)), nullable=True),
        sa.Column("window_start", sa.Date, nullable=True),
        sa.Column("window_end", sa.Date, nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.Column("cancelled_from", sa.Text, nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("batches_org", "batches", ["org_id", "status"])
    op.create_index("batches_region", "batches", ["org_region_code", "status"])


def downgrade() -> None:
    op.drop_table("batches")
    op.drop_table("inspector_conflicts")
    op.drop_table("inspectors")
