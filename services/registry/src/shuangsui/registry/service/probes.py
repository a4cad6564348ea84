"""Pipeline probes (链路探测): operators check that events flow from the registry onwards."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shuangsui.contracts.events.registry import ProbeSent
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.envelope import Outgoing


async def send_probe(uow: UnitOfWork, note: str, by: Principal) -> ProbeSent:
    """Record a probe event; the relay publishes it, planning records its arrival."""
    probe = ProbeSent(probe_id=uuid.uuid4(), note=note, sent_at=datetime.now(UTC))
    async with uow:
        uow.record(Outgoing(probe, subject=str(probe.probe_id), actor=by.sub))
        await uow.commit()
    return probe
