"""Events published by the registry context (抽查事项清单, 检查对象名录库, 执法检查人员名录库)."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from shuangsui.contracts.events.base import EventPayload

__all__ = ["ProbeSent"]


class ProbeSent(EventPayload):
    """A pipeline probe (链路探测) sent by an operator through the registry.

    It carries no business data. Operators send one to check the event path end to
    end (registry outbox → NATS JetStream → planning consumer) and watch for it on the
    far side, matching it by ``probe_id``.
    """

    event_type: ClassVar[str] = "registry.probe.sent.v1"

    probe_id: UUID = Field(
        description="Identifier to recognise this probe on the far side (探测编号).",
    )
    note: str = Field(
        default="",
        max_length=200,
        description="Free text from the operator, e.g. why the probe was sent (备注).",
    )
    sent_at: AwareDatetime = Field(
        description="When the operator sent the probe, with a UTC offset (发送时间).",
    )
