"""Sampling test helpers: sampling's database for its use cases called directly, and builders of
the registry's and planning's events as their outboxes record them."""

import uuid
from datetime import UTC, date, datetime

import pytest

from shuangsui.contracts.events.planning_batches import BatchCancelled, BatchPublished
from shuangsui.contracts.events.registry_inspectors import (
    InspectorConflictDeclared,
    InspectorUpserted,
)
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.messaging.envelope import Outgoing


@pytest.fixture
async def sampling_database(stack):
    url = stack.database_url("sampling").replace("postgresql://", "postgresql+asyncpg://", 1)
    database = Database(url, pool_size=2)
    yield database
    await database.stop()


@pytest.fixture
def new_uow(sampling_database):
    return lambda: UnitOfWork(sampling_database)


@pytest.fixture
def sampling_rows(stack):
    """`await sampling_rows("SELECT …", *args)`: what sampling's database holds."""
    import asyncpg

    async def fetch(query, *args):
        conn = await asyncpg.connect(stack.database_url("sampling"))
        try:
            return [dict(r) for r in await conn.fetch(query, *args)]
        finally:
            await conn.close()

    return fetch


class DirectoryEvents:
    """The registry's inspector events, as `Outgoing` for `consumer_feed`'s `publish`."""

    @staticmethod
    def inspector(inspector_id, version=1, **changes):
        upserted = InspectorUpserted(
            **{
                "inspector_id": inspector_id, "name": "张三", "org_code": "330106-AMR",
                "region_code": "330106", "station_code": "330106-01",
                "department_type": "market_supervision", "qualifications": ["food_safety"],
                "specialties": ["catering"], "cert_valid_until": date(2027, 12, 31),
                "status": "active", "version": version, "changed_at": datetime.now(UTC),
                **changes,
            }
        )  # fmt: skip
        return Outgoing(upserted, subject=str(inspector_id), actor="system:registry")

    @staticmethod
    def conflict(conflict_id, inspector_id, uscc, inspector_version, withdrawn=False):
        declared = InspectorConflictDeclared(
            conflict_id=conflict_id, inspector_id=inspector_id, subject_uscc=uscc,
            since=date(2025, 1, 1), source="directory", withdrawn=withdrawn,
            inspector_version=inspector_version, changed_at=datetime.now(UTC),
        )  # fmt: skip
        return Outgoing(declared, subject=str(inspector_id), actor="system:registry")


class BatchEvents:
    """Planning's batch events (the published event's example payload with what a test
    changes), as `Outgoing` for `consumer_feed`'s `publish`."""

    @staticmethod
    def published(batch_id=None, **changes):
        example = BatchPublished.model_config["json_schema_extra"]["examples"][0]
        batch = BatchPublished.model_validate(
            {**example, "batch_id": batch_id or uuid.uuid4(), **changes}
        )
        return Outgoing(batch, subject=str(batch.batch_id), actor="system:planning")

    @staticmethod
    def cancelled(published, reason="计划调整：并入第二批", cancelled_from="published"):
        batch = published.payload
        cancelled = BatchCancelled(
            batch_id=batch.batch_id, batch_code=batch.batch_code, plan_id=batch.plan_id,
            reason=reason, cancelled_from=cancelled_from, cancelled_at=datetime.now(UTC),
        )  # fmt: skip
        return Outgoing(cancelled, subject=str(batch.batch_id), actor="system:planning")


@pytest.fixture
def directory_events() -> DirectoryEvents:
    return DirectoryEvents()


@pytest.fixture
def batch_events() -> BatchEvents:
    return BatchEvents()
