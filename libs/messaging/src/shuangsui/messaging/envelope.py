"""The event envelope: CloudEvents 1.0 attributes plus `province`, `actor`, `traceparent`.

Subjects, streams and consumer names follow ARCHITECTURE.md §3.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from shuangsui.contracts.events import EventPayload

PayloadModel = type[EventPayload]
_TYPE = re.compile(
    r"^(?P<context>[a-z_]+)\.(?P<aggregate>[a-z_]+)\.(?P<event>[a-z_]+)\.v(?P<v>\d+)$"
)


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    specversion: str = "1.0"
    id: uuid.UUID = Field(description="Event id; also the JetStream Nats-Msg-Id")
    type: str = Field(
        description="<context>.<aggregate>.<event>.v<N>, e.g. sampling.draw.completed.v1"
    )
    source: str = Field(description="/<province>/<service>, e.g. /p33/sampling")
    subject: str = Field(description="The aggregate's id (not the NATS subject)")
    time: datetime
    datacontenttype: str = "application/json"
    province: str = Field(description="p + 2-digit province code, or national")
    actor: str = Field(description="The principal's sub, or system:<service>")
    traceparent: str | None = None
    data: dict[str, Any]

    @property
    def context(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def nats_subject(self) -> str:
        return nats_subject(self.province, self.type)

    def payload(self, model: PayloadModel) -> EventPayload:
        return model.model_validate(self.data)


def nats_subject(province_token: str, event_type: str) -> str:
    if not _TYPE.match(event_type):
        raise ValueError(f"not an event type: {event_type!r}")
    return f"evt.{province_token}.{event_type}"


def stream_name(context: str) -> str:
    return f"EVT_{context.upper()}"


def stream_subjects(province_token: str, context: str) -> list[str]:
    return [f"evt.{province_token}.{context}.>"]


def consumer_name(consumer_service: str, purpose: str) -> str:
    return f"{consumer_service}-{purpose}"


@dataclass(frozen=True)
class PreparedPayload:
    """A payload a bulk use case wrote as JSON itself, from parts it had already validated, to
    spare a model per row. Its use case's tests hold it to the payload model's contract."""

    event_type: str
    json: bytes

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(self.json)
        return data


@dataclass(frozen=True)
class Outgoing:
    """An event a use case records in its unit of work; the outbox turns it into an envelope."""

    payload: EventPayload | PreparedPayload
    subject: str
    actor: str

    def envelope(self, province_token: str, service: str, traceparent: str | None) -> Envelope:
        fields = envelope_dict(
            self,
            uuid.uuid4(),
            datetime.now(UTC),
            province_token,
            f"/{province_token}/{service}",
            traceparent,
        )
        return Envelope.model_validate(fields)


def envelope_dict(
    event: Outgoing,
    event_id: uuid.UUID,
    time: datetime,
    province_token: str,
    source: str,
    traceparent: str | None,
) -> dict[str, Any]:
    """`Envelope(...).model_dump(mode="json")` without building the model: the same keys and
    values (a test holds them equal), for bulk use cases that record an event per row."""
    attributes = _attributes(event, json_time(time), province_token, source, traceparent)
    return {**attributes, "id": str(event_id), "data": _data(event.payload)}


def envelope_json(
    event: Outgoing,
    event_id: uuid.UUID,
    time: datetime,
    province_token: str,
    source: str,
    traceparent: str | None,
) -> str:
    """`envelope_dict(...)` as JSON text, for the outbox's COPY path: the payload is serialised
    by pydantic straight to JSON (no intermediate dict), the rest by orjson. Parsed back it
    equals `envelope_dict(...)` (a test holds them equal)."""
    return envelope_bytes(
        event, event_id, json_time(time), province_token, source, traceparent
    ).decode()


def envelope_bytes(
    event: Outgoing,
    event_id: uuid.UUID,
    time_text: str,
    province_token: str,
    source: str,
    traceparent: str | None,
) -> bytes:
    """`envelope_json` as UTF-8 bytes, with the time already written (the events of one commit
    share it, so a bulk use case writes it once)."""
    payload = event.payload
    data = (
        payload.json
        if isinstance(payload, PreparedPayload)
        else payload.__pydantic_serializer__.to_json(payload)
    )
    attributes = _attributes(event, time_text, province_token, source, traceparent)
    attributes["id"] = event_id
    attributes["data"] = orjson.Fragment(data)
    return orjson.dumps(attributes)


def _attributes(
    event: Outgoing, time_text: str, province_token: str, source: str, traceparent: str | None
) -> dict[str, Any]:
    """The envelope around the data, in the order the model declares it."""
    return {
        "specversion": "1.0",
        "id": None,
        "type": event.payload.event_type,
        "source": source,
        "subject": event.subject,
        "time": time_text,
        "datacontenttype": "application/json",
        "province": province_token,
        "actor": event.actor,
        "traceparent": traceparent,
    }


def _data(payload: EventPayload | PreparedPayload) -> dict[str, Any]:
    if isinstance(payload, PreparedPayload):
        return payload.as_dict()
    return payload.model_dump(mode="json")


def json_time(time: datetime) -> str:
    # Pydantic writes a UTC offset as "Z", any other offset as isoformat does.
    text = time.isoformat()
    return text[:-6] + "Z" if time.utcoffset() == timedelta(0) else text
