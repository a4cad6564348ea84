"""Annual plans (年度抽查计划): one row per version, plan code sequences, provincial deadlines."""

import sqlalchemy as sa
from alembic import op

from shuangsui.planning.adapters.plans import plan_version_columns, plan_version_indexes

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    table = op.create_table("plan_versions", *plan_version_columns())
    for index in plan_version_indexes(table):
        index.create(op.get_bind())
    op.create_table(
        "plan_code_sequences",
        sa.Column("region_code", sa.String(6), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last_sequence", sa.Integer, nullable=False),
    )
    op.create_table(
        "plan_deadlines",
        sa.Column("province", sa.String(6), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("set_by", sa.Text, nullable=False),
        sa.Column(
            "set_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("plan_deadlines")
    op.drop_table("plan_code_sequences")
    op.drop_table("plan_versions")
