"""Batches (抽查批次) in PostgreSQL (migration 0008): one row per batch, its draft as JSON in
the draft's own field names, its invitations, and the code sequences per region and day."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID

metadata = sa.MetaData()
_uuid = PgUUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)


def batch_columns() -> list[sa.Column[Any]]:
    """Also used by migration 0008; freeze a copy there before changing these."""
    return [
        sa.Column("batch_id", _uuid, primary_key=True),
        sa.Column("plan_id", _uuid, nullable=False),
        sa.Column("added_in_version", sa.Integer, nullable=False),
        sa.Column("org_id", _uuid, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("window_start", sa.Date, nullable=False),
        sa.Column("window_end", sa.Date, nullable=False),
        sa.Column("draft", JSONB, nullable=False),
        sa.Column("invitations", JSONB, nullable=False),
        sa.Column("invited_org_ids", ARRAY(_uuid), nullable=False),
        sa.Column("batch_code", sa.String(18), unique=True),
        sa.Column("published_at", _ts),
        sa.Column("published_in_version", sa.Integer),
        sa.Column("published_payload", JSONB),
        sa.Column("cancelled_in_version", sa.Integer),
        sa.Column("cancel_reason", sa.Text),
        sa.Column("cancelled_from", sa.Text),
        sa.Column("cancelled_at", _ts),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("created_at", _ts, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _ts, nullable=False, server_default=sa.func.now()),
    ]


def batch_indexes(table: sa.Table) -> list[sa.Index]:
    return [
        sa.Index("batches_plan", table.c.plan_id, table.c.added_in_version),
        sa.Index("batches_org_year", table.c.org_id, table.c.year),
        sa.Index("batches_invited", table.c.invited_org_ids, postgresql_using="gin"),
    ]


batches = sa.Table("batches", metadata, *batch_columns())
batch_indexes(batches)

# The last sequence given out per (region, Asia/Shanghai day): the public code's last 4 digits.
batch_code_sequences = sa.Table(
    "batch_code_sequences",
    metadata,
    sa.Column("region_code", sa.String(6), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("last_sequence", sa.Integer, nullable=False),
)
