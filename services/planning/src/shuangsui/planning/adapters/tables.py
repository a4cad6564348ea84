"""Planning's own tables."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID


def received_probe_columns() -> list[sa.Column[Any]]:
    """Also used by migration 0002; freeze a copy there before changing these."""
    return [
        sa.Column("probe_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


metadata = sa.MetaData()
received_probes = sa.Table("received_probes", metadata, *received_probe_columns())
