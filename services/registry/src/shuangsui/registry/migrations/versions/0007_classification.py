"""Automatic tags, the item → subject index (事项-对象 对应索引) and population counts."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0007"
down_revision = "0006"
depends_on = ("0004",)


def upgrade() -> None:
    op.add_column(
        "check_items", sa.Column("subject_tags", JSONB, nullable=False, server_default="[]")
    )
    op.add_column(
        "subjects", sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default="{}")
    )
    op.add_column(
        "subjects", sa.Column("item_keys", ARRAY(sa.Integer), nullable=False, server_default="{}")
    )
    op.add_column(
        "subjects", sa.Column("classification", sa.Integer, nullable=False, server_default="0")
    )
    op.create_index("subjects_items", "subjects", ["item_keys"], postgresql_using="gin")
    op.create_table(
        "tag_rule_sets",
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("rules", JSONB, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
    )
    op.create_table(
        "index_items",
        sa.Column("item_id", sa.Uuid, primary_key=True),
        sa.Column("item_key", sa.Integer, sa.Identity(), nullable=False, unique=True),
    )
    op.create_table(
        "classifications",
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("rules_version", sa.Integer, nullable=False),
        sa.Column("items", JSONB, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("done", sa.BigInteger, nullable=False),
        sa.Column("changed", sa.BigInteger, nullable=False),
        sa.Column("cursor", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "population_counts",
        *_count_key(),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("item_key", "region_code", "tags", "domain", "risk_class"),
    )
    op.create_table(
        "population_deltas",
        *_count_key(),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_index("population_deltas_item", "population_deltas", ["item_key", "region_code"])


def _count_key() -> list[sa.Column[object]]:
    return [
        sa.Column("item_key", sa.Integer, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("tags", ARRAY(sa.Text), nullable=False),
        sa.Column("domain", sa.String(40), nullable=False),
        sa.Column("risk_class", sa.String(1), nullable=False),
    ]
