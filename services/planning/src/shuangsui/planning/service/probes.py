"""Pipeline probes arriving from the registry, and reading them back."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import insert, select

from shuangsui.contracts.events.registry import ProbeSent
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.problems import NOT_FOUND, Problem
from shuangsui.messaging.envelope import Envelope
from shuangsui.planning.adapters.tables import received_probes


async def record_probe(event: Envelope, uow: UnitOfWork) -> None:
    probe = event.payload(ProbeSent)
    assert isinstance(probe, ProbeSent)
    async with uow:
        await uow.session.execute(
            insert(received_probes).values(
                probe_id=probe.probe_id,
                event_id=event.id,
                note=probe.note,
                province=event.province,
                sent_at=probe.sent_at,
            )
        )
        await uow.commit()


async def received_probe(uow: UnitOfWork, probe_id: UUID) -> dict[str, Any]:
    async with uow:
        row = (
            await uow.session.execute(
                select(received_probes).where(received_probes.c.probe_id == probe_id)
            )
        ).one_or_none()
    if row is None:
        raise Problem(NOT_FOUND, "this probe has not arrived (yet)")
    return dict(row._mapping)
