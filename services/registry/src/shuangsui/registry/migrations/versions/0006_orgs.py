"""The org directory (组织机构): bureaus and stations, their hierarchy, and every version.

The DDL is written out here rather than imported from the adapters, so this migration keeps
meaning what it meant when it ran, whatever the adapters become.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0006"
down_revision = "0005"

_uuid = UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("org_id", _uuid, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("parent_code", sa.Text),
        sa.Column("department_type", sa.Text, nullable=False),
        sa.Column("is_hq", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        # Deferred: one import may insert a station before the bureau named as its parent.
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["orgs.code"],
            name="orgs_parent",
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.CheckConstraint("code ~ '^[0-9A-Za-z_-]{1,32}$'", name="orgs_code"),
        sa.CheckConstraint(
            "level IN ('national', 'provincial', 'city', 'county', 'station')", name="orgs_level"
        ),
        sa.CheckConstraint("status IN ('active', 'closed')", name="orgs_status"),
        sa.CheckConstraint("NOT (level = 'station' AND is_hq)", name="orgs_station_not_hq"),
    )
    # Region-scoped reads filter with `region_code LIKE '33%'`; pattern ops make that an index range.
    op.execute("CREATE INDEX orgs_region ON orgs (region_code text_pattern_ops)")
    op.create_index("orgs_parent_code", "orgs", ["parent_code"])

    op.create_table(
        "org_history",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("org_id", _uuid, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("content", JSONB, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("org_history")
    op.drop_table("orgs")
