"""The outbox's COPY path writes, as JSON text, exactly the envelopes the dict path builds."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import orjson
import pytest

from shuangsui.contracts.events.registry_subjects import SubjectUpserted
from shuangsui.kernel.observability import current_traceparent
from shuangsui.messaging.envelope import (
    Envelope,
    Outgoing,
    PreparedPayload,
    envelope_dict,
    envelope_json,
)
from shuangsui.messaging.outbox import outbox_records
from shuangsui.messaging.testing import probe

SOURCE = "/p33/registry"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad-01"


def upserted(name: str = "杭州测试贸易有限公司") -> Outgoing:
    payload = SubjectUpserted.model_validate(
        {
            "subject_id": uuid.uuid4(),
            "uscc": "91330106MA2AXXXX0X",
            "name": name,
            "subject_type": "enterprise",
            "status": "active",
            "region_code": "330106",
            "unit_code": None,
            "industry_code": "F5123",
            "registered_address": '浙江省杭州市"测试"路\\1号\n',
            "business_address": None,
            "registered_on": date(2015, 6, 1),
            "tags": {"format": ["餐饮服务"], "category": []},
            "applicable_item_ids": [uuid.uuid4()],
            "classification": 2,
            "version": 3,
            "source": "zj-aic",
            "source_updated_at": datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=8))),
        }
    )
    return Outgoing(payload, subject=str(payload.subject_id), actor="zj-aic")


@pytest.mark.parametrize(
    "time",
    [
        datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 0, 0, 500, tzinfo=timezone(timedelta(hours=8))),
    ],
)
@pytest.mark.parametrize("traceparent", [None, TRACEPARENT])
@pytest.mark.parametrize(
    "event",
    [upserted(), upserted("😀 \ud7ff \u2028"), probe("note")],
    ids=["upserted", "odd", "probe"],
)
def test_envelope_json_parses_to_the_envelope_dict(
    event: Outgoing, time: datetime, traceparent: str | None
) -> None:
    event_id = uuid.uuid4()
    text = envelope_json(event, event_id, time, "p33", SOURCE, traceparent)
    assert orjson.loads(text) == envelope_dict(event, event_id, time, "p33", SOURCE, traceparent)
    assert Envelope.model_validate_json(text).payload(type(event.payload)) == event.payload


def test_copy_records_carry_envelopes_consumers_can_parse() -> None:
    events = [upserted(), probe("a"), upserted()]
    token = current_traceparent.set(TRACEPARENT)
    try:
        records = outbox_records(events, "p33", "registry")
    finally:
        current_traceparent.reset(token)
    assert len({event_id for event_id, *_ in records}) == 3
    for (event_id, nats_subject, event_type, text), event in zip(records, events, strict=True):
        assert event_id.version == 4
        envelope = Envelope.model_validate_json(text)
        assert (envelope.id, envelope.nats_subject, envelope.type) == (
            event_id,
            nats_subject,
            event_type,
        )
        assert event_type == event.payload.event_type
        assert (envelope.source, envelope.province, envelope.actor) == (SOURCE, "p33", event.actor)
        assert envelope.traceparent == TRACEPARENT
        assert envelope.payload(type(event.payload)) == event.payload


def test_an_envelope_recorded_as_such_keeps_its_id_and_content() -> None:
    built = upserted().envelope("p33", "registry", None)
    [(event_id, nats_subject, event_type, text)] = outbox_records([built], "p33", "registry")
    assert (event_id, nats_subject, event_type) == (built.id, built.nats_subject, built.type)
    assert Envelope.model_validate_json(text) == built


def test_a_prepared_payload_travels_as_written():
    model = upserted().payload
    prepared = PreparedPayload(model.event_type, model.model_dump_json().encode())
    event = Outgoing(prepared, subject="s-1", actor="zj-aic")
    event_id, at = uuid.uuid4(), datetime(2025, 6, 1, tzinfo=UTC)
    as_dict = envelope_dict(event, event_id, at, "p33", SOURCE, None)
    assert as_dict["data"] == model.model_dump(mode="json")
    assert orjson.loads(envelope_json(event, event_id, at, "p33", SOURCE, None)) == as_dict
    [record] = outbox_records([event], "p33", "registry")
    assert orjson.loads(record[3])["data"] == as_dict["data"]


def test_an_event_the_broker_would_refuse_is_refused_before_it_is_stored():
    from shuangsui.messaging.outbox import MAX_EVENT_BYTES, EventTooLarge, outbox_rows

    # Chinese text: three bytes a character, so the limit is on bytes, not characters.
    text = "检" * (MAX_EVENT_BYTES // 3 + 1)
    huge = PreparedPayload("registry.subject.upserted.v1", orjson.dumps({"name": text}))
    event = Outgoing(huge, subject="s-1", actor="zj-aic")
    with pytest.raises(EventTooLarge):
        outbox_records([event], "p33", "registry")
    with pytest.raises(EventTooLarge):
        outbox_rows([event], "p33", "registry")
    small = PreparedPayload("registry.subject.upserted.v1", orjson.dumps({"name": "检"}))
    assert outbox_records([Outgoing(small, subject="s-1", actor="zj-aic")], "p33", "registry")
