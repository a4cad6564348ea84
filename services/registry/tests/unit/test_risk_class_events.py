"""The risk-class push writes its two events per change as JSON itself: held here to the
contracts of both versions (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from asyncpg.pgproto.pgproto import UUID as PgUUID

from shuangsui.contracts.events.registry_subjects import RiskClassChanged, RiskClassChangedV2
from shuangsui.messaging.envelope import Outgoing
from shuangsui.messaging.outbox import outbox_records
from shuangsui.registry.adapters.risk_classes import KnownSubject
from shuangsui.registry.domain.population import Placement
from shuangsui.registry.domain.risk_classes import ClassChange, Classification, RiskClass
from shuangsui.registry.domain.subjects import ChangeKind
from shuangsui.registry.service.risk_classes import risk_class_events

EAST_EIGHT = timezone(timedelta(hours=8))
USCC = "91330106MA2CFTE04A"


def change(previous: RiskClass | None, as_of: datetime) -> ClassChange:
    kind = ChangeKind.created if previous is None else ChangeKind.updated
    classification = Classification(USCC, "food", RiskClass.D, "zj-credit", as_of)
    return ClassChange(kind, classification, 3, previous)


def subject(unit_code: str | None) -> KnownSubject:
    # asyncpg's own UUID type, as the adapter hands it back.
    return KnownSubject(
        PgUUID(str(uuid.uuid4())), unit_code, Placement(True, "330106", ("format:餐饮服务",), (7,))
    )


@pytest.mark.parametrize(
    ("previous", "as_of", "unit_code"),
    [
        (None, datetime(2025, 2, 1, tzinfo=EAST_EIGHT), "330106-XH01"),
        (RiskClass.B, datetime(2025, 2, 1, 8, 30, 0, 123456, tzinfo=UTC), None),
    ],
)
def test_both_versions_are_the_payloads_their_models_would_write(
    previous: RiskClass | None, as_of: datetime, unit_code: str | None
) -> None:
    known = subject(unit_code)
    v1, v2 = risk_class_events(change(previous, as_of), known)
    expected = RiskClassChanged(
        subject_id=uuid.UUID(str(known.subject_id)),
        uscc=USCC,
        domain="food",
        old_class=previous.value if previous else None,
        new_class="D",
        source="zj-credit",
        as_of=as_of,
    )
    assert (v1.event_type, v2.event_type) == (
        "registry.subject.risk_class_changed.v1",
        "registry.subject.risk_class_changed.v2",
    )
    assert RiskClassChanged.model_validate_json(v1.json) == expected
    assert orjson.loads(v1.json) == orjson.loads(expected.model_dump_json())
    routed = RiskClassChangedV2.model_validate_json(v2.json)
    assert routed == RiskClassChangedV2(**expected.model_dump(), region_code="330106",
                                        unit_code=unit_code)  # fmt: skip
    assert orjson.loads(v2.json) == orjson.loads(routed.model_dump_json())


def test_the_outbox_records_both_with_the_subject_as_their_aggregate() -> None:
    known = subject("330106-XH01")
    events = [
        Outgoing(payload, subject=str(known.subject_id), actor="zj-credit")
        for payload in risk_class_events(
            change(None, datetime(2025, 2, 1, tzinfo=EAST_EIGHT)), known
        )
    ]
    records = outbox_records(events, "p33", "registry")
    assert [r[1] for r in records] == [
        "evt.p33.registry.subject.risk_class_changed.v1",
        "evt.p33.registry.subject.risk_class_changed.v2",
    ]
    envelopes = [orjson.loads(r[3]) for r in records]
    assert {e["subject"] for e in envelopes} == {str(known.subject_id)}
    assert envelopes[1]["data"]["unit_code"] == "330106-XH01"
