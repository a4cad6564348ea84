"""Batches (抽查批次): one row per batch with its draft and invitations, and the public batch
code sequences per region and day."""

import sqlalchemy as sa
from alembic import op

from shuangsui.planning.adapters.batches import batch_columns, batch_indexes

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    table = op.create_table("batches", *batch_columns())
    for index in batch_indexes(table):
        index.create(op.get_bind())
    op.create_table(
        "batch_code_sequences",
        sa.Column("region_code", sa.String(6), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("last_sequence", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("batch_code_sequences")
    op.drop_table("batches")
