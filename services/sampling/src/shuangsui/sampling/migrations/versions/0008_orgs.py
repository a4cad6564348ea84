"""The orgs of the directory read model (registry.org.upserted.v1, consumer `sampling-orgs`): the
departments a commit-reveal party may be named after (R20)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0008_orgs"
down_revision = "0007_recusals"


def upgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("department_type", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("orgs_code", "orgs", ["code"])


def downgrade() -> None:
    op.drop_table("orgs")
