"""The outbox's fast envelope path writes exactly what the Envelope model would."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import orjson
import pytest

from shuangsui.contracts.events.registry_subjects import SubjectUpserted
from shuangsui.kernel.observability import current_traceparent
from shuangsui.messaging.envelope import Envelope, Outgoing, envelope_dict
from shuangsui.messaging.outbox import _envelope_json, outbox_rows
from shuangsui.messaging.testing import probe

SOURCE = "/p33/registry"


def upserted() -> Outgoing:
    payload = SubjectUpserted(
        subject_id=uuid.uuid4(),
        uscc="91330106MA2AXXXX0X",
        name="杭州测试贸易有限公司",
        subject_type="enterprise",
        status="active",
        region_code="330106",
        unit_code="330106-01",
        industry_code="F5123",
        registered_address="浙江省杭州市测试路1号",
        business_address=None,
        registered_on=date(2015, 6, 1),
        tags={},
        applicable_item_ids=[],
        classification=1,
        version=3,
        source="zj-aic",
        source_updated_at=datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=8))),
    )
    return Outgoing(payload, subject=str(payload.subject_id), actor="zj-aic")


def model_path(event: Outgoing, event_id: uuid.UUID, time: datetime, tp: str | None) -> Envelope:
    return Envelope(
        id=event_id,
        type=event.payload.event_type,
        source=SOURCE,
        subject=event.subject,
        time=time,
        province="p33",
        actor=event.actor,
        traceparent=tp,
        data=event.payload.model_dump(mode="json"),
    )


@pytest.mark.parametrize(
    "time",
    [
        datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC),  # no microseconds: pydantic drops them too
        datetime(2026, 3, 1, 8, 0, 0, 500, tzinfo=timezone(timedelta(hours=8))),
    ],
)
@pytest.mark.parametrize("traceparent", [None, "00-0af7651916cd43dd8448eb211c80319c-b7ad-01"])
@pytest.mark.parametrize("event", [upserted(), probe("note")], ids=["upserted", "probe"])
def test_envelope_dict_equals_the_model_dump(
    event: Outgoing, time: datetime, traceparent: str | None
) -> None:
    event_id = uuid.uuid4()
    fast = envelope_dict(event, event_id, time, "p33", SOURCE, traceparent)
    model = model_path(event, event_id, time, traceparent)
    assert fast == model.model_dump(mode="json")
    assert list(fast) == list(model.model_dump(mode="json"))  # same key order, too
    assert Envelope.model_validate_json(_envelope_json(fast)) == model


def test_outbox_rows_carry_envelopes_consumers_can_parse() -> None:
    token = current_traceparent.set("00-0af7651916cd43dd8448eb211c80319c-b7ad-01")
    try:
        events = [upserted(), probe("a"), upserted()]
        rows = outbox_rows(events, "p33", "registry")
    finally:
        current_traceparent.reset(token)
    assert len({r["id"] for r in rows}) == 3
    for row, event in zip(rows, events, strict=True):
        envelope = Envelope.model_validate_json(_envelope_json(row["envelope"]))
        assert envelope.id == row["id"]
        assert envelope.nats_subject == row["nats_subject"]
        assert envelope.type == row["event_type"] == event.payload.event_type
        assert (envelope.source, envelope.province, envelope.actor) == (SOURCE, "p33", event.actor)
        assert envelope.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad-01"
        assert envelope.payload(type(event.payload)) == event.payload


def test_an_envelope_recorded_as_such_is_written_as_its_model_dump() -> None:
    envelope = model_path(upserted(), uuid.uuid4(), datetime.now(UTC), None)
    (row,) = outbox_rows([envelope], "p33", "registry")
    assert row["envelope"] == envelope.model_dump(mode="json")
    assert (row["id"], row["nats_subject"]) == (envelope.id, envelope.nats_subject)


def test_envelope_json_falls_back_for_what_orjson_refuses() -> None:
    envelope = {"data": {"big": 2**70, "name": "杭州"}}
    with pytest.raises(TypeError):
        orjson.dumps(envelope)
    assert json.loads(_envelope_json(envelope)) == envelope
