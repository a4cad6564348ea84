"""Every service's outbox records each row's transaction from its txid migration on; the rows
written before it stay NULL, which consumers read as "before any export" (ADR 0012)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from shuangsui.kernel.migrations import alembic_config, upgrade

SERVICES_WITH_DATABASE = ["registry", "planning", "sampling", "inspection", "disclosure"]
INSERT = (
    "INSERT INTO outbox (id, nats_subject, event_type, envelope) "
    "VALUES ($1, 'evt.p33.x.y.z.v1', 'x.y.z.v1', $2::jsonb)"
)


def txid_migration(package: str, dsn: str) -> tuple[str, str]:
    """(the revision that adds the column, the one before it)."""
    scripts = ScriptDirectory.from_config(alembic_config(package, dsn))
    for revision in scripts.walk_revisions():
        if "add_outbox_txid_v1(op)" in Path(revision.path).read_text(encoding="utf-8"):
            assert isinstance(revision.down_revision, str)
            return revision.revision, revision.down_revision
    raise AssertionError(f"{package} has no migration adding the outbox txid")


@pytest.mark.parametrize("service", SERVICES_WITH_DATABASE)
async def test_the_outbox_records_transactions_from_the_migration_on(service, fresh_database):
    package = f"shuangsui.{service}"
    _added, before = txid_migration(package, fresh_database)
    await asyncio.to_thread(upgrade, package, fresh_database, before)
    conn = await asyncpg.connect(fresh_database)
    try:
        await conn.execute(INSERT, uuid.uuid4(), json.dumps({"written": "before"}))
        await asyncio.to_thread(upgrade, package, fresh_database)
        async with conn.transaction():
            await conn.execute(INSERT, uuid.uuid4(), json.dumps({"written": "after"}))
            mine = await conn.fetchval("SELECT pg_current_xact_id()::text")
        rows = await conn.fetch("SELECT envelope->>'written' AS written, txid::text FROM outbox")
    finally:
        await conn.close()
    assert {r["written"]: r["txid"] for r in rows} == {"before": None, "after": mine}
