"""Event payload base class and the contract registry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar
from uuid import uuid4

import pytest
from pydantic import AwareDatetime, BaseModel, ValidationError

from shuangsui.contracts.events import (
    EventPayload,
    ProbeSent,
    UnknownEventType,
    all_event_models,
    model_for,
    parse_event_type,
)


def test_probe_round_trips_through_json() -> None:
    probe = ProbeSent(probe_id=uuid4(), note="nightly check", sent_at=datetime.now(UTC))
    assert ProbeSent.model_validate_json(probe.model_dump_json()) == probe


def test_probe_note_defaults_to_empty_and_is_capped_at_200() -> None:
    sent_at = datetime(2025, 10, 9, 8, 0, tzinfo=UTC)
    assert ProbeSent(probe_id=uuid4(), sent_at=sent_at).note == ""
    ProbeSent(probe_id=uuid4(), note="x" * 200, sent_at=sent_at)
    with pytest.raises(ValidationError):
        ProbeSent(probe_id=uuid4(), note="x" * 201, sent_at=sent_at)


def test_probe_refuses_a_naive_sent_at() -> None:
    with pytest.raises(ValidationError) as info:
        ProbeSent(probe_id=uuid4(), sent_at=datetime(2025, 10, 9, 8, 0))
    assert info.value.errors()[0]["loc"] == ("sent_at",)


def test_payloads_are_immutable_and_closed() -> None:
    probe = ProbeSent(probe_id=uuid4(), sent_at=datetime.now(UTC))
    with pytest.raises(ValidationError):
        probe.note = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        ProbeSent.model_validate(
            {"probe_id": str(uuid4()), "sent_at": "2025-10-09T08:00:00Z", "extra": 1}
        )


def test_registry_holds_the_package_models_by_type() -> None:
    assert ProbeSent in all_event_models()
    assert model_for("registry.probe.sent.v1") is ProbeSent
    with pytest.raises(UnknownEventType):
        model_for("registry.probe.sent.v9")
    types = [m.event_type for m in all_event_models()]
    assert types == sorted(set(types))


def test_each_model_lives_in_a_module_of_its_context() -> None:
    # `registry.py` or `registry_<concept>.py`: a context may split its events by concept.
    for model in all_event_models():
        module = model.__module__.rsplit(".", 1)[1]
        context = parse_event_type(model.event_type).context
        assert module == context or module.startswith(context + "_")


def test_event_type_is_parsed_into_its_parts() -> None:
    parsed = parse_event_type("registry.subject.risk_class_changed.v12")
    assert parsed == ("registry", "subject", "risk_class_changed", 12)


@pytest.mark.parametrize(
    "event_type",
    [
        "registry.probe.sent",
        "registry.probe.sent.v0",
        "registry.probe.sent.v01",
        "registry.probe.sent.V1",
        "Registry.probe.sent.v1",
        "registry.probe.v1",
        "registry.probe.sent.extra.v1",
        "registry.probe-x.sent.v1",
        "evt.p33.registry.probe.sent.v1",
    ],
)
def test_malformed_event_types_are_refused_at_class_creation(event_type: str) -> None:
    with pytest.raises(TypeError, match="context"):
        type(
            "Bad",
            (EventPayload,),
            {"__annotations__": {"event_type": ClassVar[str]}, "event_type": event_type},
        )


def test_a_model_must_declare_its_own_event_type() -> None:
    with pytest.raises(TypeError, match="must declare its own event_type"):

        class NoType(EventPayload):
            x: int

    with pytest.raises(TypeError, match="must declare its own event_type"):

        class Inherited(ProbeSent):
            extra: int = 0


def test_two_models_cannot_claim_one_event_type() -> None:
    with pytest.raises(TypeError, match="already declared"):

        class Impostor(EventPayload):
            event_type: ClassVar[str] = "registry.probe.sent.v1"


def test_naive_datetime_fields_are_refused_at_class_creation() -> None:
    with pytest.raises(TypeError, match="AwareDatetime"):

        class Naive(EventPayload):
            event_type: ClassVar[str] = "testing.naive.happened.v1"
            at: datetime

    class Inner(BaseModel):
        at: datetime | None = None

    with pytest.raises(TypeError, match=r"Inner\.at"):

        class Nested(EventPayload):
            event_type: ClassVar[str] = "testing.nested.happened.v1"
            items: list[Inner]


def test_models_defined_outside_the_package_are_not_contracts() -> None:
    class Local(EventPayload):
        event_type: ClassVar[str] = "testing.local.happened.v1"
        at: AwareDatetime

    assert Local not in all_event_models()
    with pytest.raises(UnknownEventType):
        model_for("testing.local.happened.v1")
