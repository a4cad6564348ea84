"""HTTP: send a pipeline probe (链路探测)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shuangsui.kernel.auth import Principal, Role, require
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.idempotency import IdempotencyKey, idempotency_key
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.service.probes import send_probe

router = APIRouter(prefix="/api/v1/registry", tags=["probes · 链路探测"])


class ProbeIn(BaseModel):
    note: str = Field(
        default="",
        max_length=200,
        description="Why the probe is sent · 备注",
        examples=["after NATS upgrade"],
    )


class ProbeOut(BaseModel):
    probe_id: UUID = Field(description="Look for this id on the far side · 探测编号")
    note: str = Field(description="备注")
    sent_at: datetime = Field(description="发送时间")


@router.post(
    "/probes",
    operation_id="registry_probes_send",
    status_code=202,
    response_model=ProbeOut,
    summary="Send a pipeline probe · 发送链路探测",
    description="Records a `registry.probe.sent.v1` event in the outbox. The relay publishes it and "
    "the planning service records its arrival: `GET /api/v1/planning/probes/{probe_id}` then "
    "answers 200. Send `Idempotency-Key` to make a retry harmless.",
)
async def send(
    body: ProbeIn,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(Role.provincial_admin, Role.department_admin)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_probes_send")),
) -> JSONResponse:
    async def run() -> ProbeOut:
        probe = await send_probe(uow, body.note, by)
        return ProbeOut(probe_id=probe.probe_id, note=probe.note, sent_at=probe.sent_at)

    return await idempotency.run(uow, by, body, run, status_code=202)
