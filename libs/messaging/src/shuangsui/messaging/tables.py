"""The messaging tables every service database has: outbox, inbox, dead letters."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import base as postgresql_base
from sqlalchemy.types import UserDefinedType

from shuangsui.kernel.idempotency import idempotency_columns


def _outbox_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("nats_subject", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("envelope", JSONB, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    ]


def _inbox_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def _dead_letter_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("consumer", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text),
        sa.Column("event_type", sa.Text),
        sa.Column("nats_subject", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column(
            "failed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
    ]


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (`xid8`): never wraps around, compares as a number."""

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "xid8"


# Reflection (the schema drift check, alembic) then knows the type instead of warning.
postgresql_base.ischema_names.setdefault("xid8", Xid8)


# The transaction that wrote the row, so a consumer can tell whether an export's snapshot holds
# the event's change (libs/messaging snapshots.py; ADR 0012). NULL on rows written before the
# column existed: they committed before any export was taken.
TXID_DEFAULT = "pg_current_xact_id()"


def _txid_column() -> sa.Column[Any]:
    return sa.Column("txid", Xid8(), server_default=sa.text(TXID_DEFAULT))


metadata = sa.MetaData()
outbox = sa.Table(
    "outbox",
    metadata,
    *_outbox_columns(),
    _txid_column(),
    # The relay scans only unpublished rows; a partial index keeps that scan tiny however many
    # published rows are kept (the migration creates the same index).
    sa.Index("outbox_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
)
inbox = sa.Table("inbox", metadata, *_inbox_columns())
dead_letters = sa.Table("dead_letters", metadata, *_dead_letter_columns())


def create_messaging_tables_v1(op: Any) -> None:
    """Each service's first migration. When a table changes, freeze this body and add a v2."""
    op.create_table("outbox", *_outbox_columns())
    # The relay scans only unpublished rows; a partial index keeps that scan tiny.
    op.create_index(
        "outbox_unpublished", "outbox", ["seq"], postgresql_where=sa.text("published_at IS NULL")
    )
    op.create_table("inbox", *_inbox_columns())
    op.create_table("dead_letters", *_dead_letter_columns())
    op.create_table("idempotency_keys", *idempotency_columns())


def add_outbox_txid_v1(op: Any) -> None:
    """Each service's migration after `create_messaging_tables_v1`: every outbox row records its
    transaction. In two steps, so that the rows already there stay NULL (a default given with
    the column would be evaluated once, for all of them, in the migration's own transaction)."""
    op.add_column("outbox", sa.Column("txid", Xid8()))
    op.alter_column("outbox", "txid", server_default=sa.text(TXID_DEFAULT))


def drop_outbox_txid_v1(op: Any) -> None:
    op.drop_column("outbox", "txid")
