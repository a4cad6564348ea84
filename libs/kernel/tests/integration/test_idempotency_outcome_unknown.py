"""A retry whose first attempt was applied but whose answer was lost in a crash (its key row has
no stored response and is older than the in-flight window) learns that, and nothing is applied
again: 409 idempotency-outcome-unknown."""

import pytest
from pydantic import BaseModel
from sqlalchemy import func, insert, text

from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.idempotency import (
    IdempotencyKey,
    idempotency_keys,
    metadata,
    request_fingerprint,
)
from shuangsui.kernel.problems import IDEMPOTENCY_OUTCOME_UNKNOWN, Problem

OPERATION = "registry_subjects_bulk_upsert"
KEY = "push-2025-03-01-0001"
BODY = {"items": [{"uscc": "91330106MA2KXXXX0X", "name": "西湖茶叶有限公司"}]}
CALLER = Principal(sub="integrator-zj-amr", roles=frozenset({"integrator"}), region_code="330000")


class PushReport(BaseModel):
    accepted: int


@pytest.fixture
async def crashed_earlier(database):
    """The key row of an applied request whose answer was never stored, two minutes ago."""
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(
            insert(idempotency_keys).values(
                principal=CALLER.sub,
                operation=OPERATION,
                key=KEY,
                request_hash=request_fingerprint(BODY),
                created_at=func.now() - text("interval '2 minutes'"),
            )
        )
    return database


async def test_retry_after_a_lost_answer_is_409_outcome_unknown(crashed_earlier):
    async def push() -> PushReport:
        return PushReport(accepted=1)

    with pytest.raises(Problem) as refused:
        await IdempotencyKey(KEY, OPERATION, crashed_earlier).run(
            UnitOfWork(crashed_earlier), CALLER, BODY, push
        )

    assert refused.value.kind == IDEMPOTENCY_OUTCOME_UNKNOWN
    assert refused.value.kind.status == 409


async def test_retry_after_a_lost_answer_does_not_apply_the_request_again(crashed_earlier):
    applied: list[str] = []

    async def push() -> PushReport:
        applied.append("push")
        return PushReport(accepted=1)

    with pytest.raises(Problem):
        await IdempotencyKey(KEY, OPERATION, crashed_earlier).run(
            UnitOfWork(crashed_earlier), CALLER, BODY, push
        )

    assert applied == []
