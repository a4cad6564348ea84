"""Inspector directory (执法检查人员名录库), declared conflicts, professional institutions."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0003"
down_revision = "0001"
branch_labels = ("inspectors",)
depends_on = None


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "inspectors",
        sa.Column("inspector_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("station_code", sa.Text),
        sa.Column("department_type", sa.Text, nullable=False),
        sa.Column("position", sa.Text),
        sa.Column("cert_no", sa.Text, nullable=False, unique=True),
        sa.Column("cert_valid_until", sa.Date, nullable=False),
        sa.Column("qualifications", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("specialties", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("justice_db_ref", sa.Text, unique=True),
        sa.Column("version", sa.Integer, nullable=False),
        *_stamps(),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'on_leave', 'left')", name="inspectors_status"
        ),
    )
    # Region-scoped reads filter with `region_code LIKE '33%'`; pattern ops make that an index range.
    op.execute("CREATE INDEX inspectors_region ON inspectors (region_code text_pattern_ops)")
    op.create_index("inspectors_unit_station", "inspectors", ["unit_code", "station_code"])
    op.create_index(
        "inspectors_qualifications", "inspectors", ["qualifications"], postgresql_using="gin"
    )
    op.create_index("inspectors_specialties", "inspectors", ["specialties"], postgresql_using="gin")

    op.create_table(
        "inspector_conflicts",
        sa.Column("conflict_id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "inspector_id",
            UUID(as_uuid=True),
            sa.ForeignKey("inspectors.inspector_id"),
            nullable=False,
        ),
        sa.Column("subject_uscc", sa.String(18), nullable=False),
        sa.Column("since", sa.Date, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("withdrawn", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("declared_by", sa.Text, nullable=False),
        sa.Column("withdrawn_by", sa.Text),
        *_stamps(),
        sa.CheckConstraint(
            "source IN ('directory', 'inspector', 'subject_application')",
            name="inspector_conflicts_source",
        ),
    )
    # One live declaration per officer and subject; withdrawn ones stay as history (R42).
    op.create_index(
        "inspector_conflicts_live",
        "inspector_conflicts",
        ["inspector_id", "subject_uscc"],
        unique=True,
        postgresql_where=sa.text("NOT withdrawn"),
    )

    op.create_table(
        "institutions",
        sa.Column("institution_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("uscc", sa.String(18)),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("qualifications", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("valid_until", sa.Date),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_stamps(),
        sa.CheckConstraint(
            "kind IN ('testing', 'inspection', 'certification', 'expert')", name="institutions_kind"
        ),
    )
    op.create_index(
        "institutions_uscc",
        "institutions",
        ["uscc"],
        unique=True,
        postgresql_where=sa.text("uscc IS NOT NULL"),
    )
    op.execute("CREATE INDEX institutions_region ON institutions (region_code text_pattern_ops)")


def downgrade() -> None:
    op.drop_table("institutions")
    op.drop_table("inspector_conflicts")
    op.drop_table("inspectors")
