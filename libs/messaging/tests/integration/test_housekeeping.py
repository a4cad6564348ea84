"""Old published outbox rows and expired idempotency keys are cleaned; nothing else is."""

import asyncpg

from shuangsui.messaging.housekeeping import clean_once
from shuangsui.messaging.testing import fill_outbox


async def test_only_old_published_rows_and_expired_keys_are_removed(messaging_db):
    await fill_outbox(messaging_db, 4)
    conn = await asyncpg.connect(messaging_db)
    try:
        seqs = [r["seq"] for r in await conn.fetch("SELECT seq FROM outbox ORDER BY seq")]
        await conn.execute(
            "UPDATE outbox SET published_at = now() - interval '8 days' WHERE seq = $1", seqs[0]
        )
        await conn.execute("UPDATE outbox SET published_at = now() WHERE seq = $1", seqs[1])
        await conn.execute(
            "INSERT INTO idempotency_keys (principal, operation, key, request_hash, created_at) VALUES "
            "('a', 'op', 'old', 'h', now() - interval '25 hours'), ('a', 'op', 'new', 'h', now())"
        )
        await clean_once(conn)
        remaining = [r["seq"] for r in await conn.fetch("SELECT seq FROM outbox ORDER BY seq")]
        keys = [r["key"] for r in await conn.fetch("SELECT key FROM idempotency_keys")]
    finally:
        await conn.close()
    assert remaining == seqs[1:], "only the published row older than the retention goes"
    assert keys == ["new"]
