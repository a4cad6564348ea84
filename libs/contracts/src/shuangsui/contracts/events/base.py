"""The base of every event payload contract (the ``data`` of an event envelope)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict

__all__ = [
    "EVENT_TYPE_PATTERN",
    "EventPayload",
    "EventType",
    "declared_models",
    "parse_event_type",
]

EVENT_TYPE_PATTERN = re.compile(
    r"^(?P<context>[a-z][a-z0-9_]*)\.(?P<aggregate>[a-z][a-z0-9_]*)"
    r"\.(?P<event>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)$"
)

# Every EventPayload subclass ever created, by event type, to refuse a second claim on
# one type. The contract registry (events.all_event_models) is the subset defined in
# this package.
_DECLARED: dict[str, type[EventPayload]] = {}


def declared_models() -> dict[str, type[EventPayload]]:
    """Every subclass created in this process, including ones outside the package."""
    return dict(_DECLARED)


class EventType(NamedTuple):
    context: str
    aggregate: str
    event: str
    version: int


def parse_event_type(event_type: str) -> EventType:
    """Split ``<context>.<aggregate>.<event>.v<N>``; raises ``ValueError`` otherwise."""
    match = EVENT_TYPE_PATTERN.match(event_type)
    if match is None:
        raise ValueError(
            f"event type {event_type!r} is not <context>.<aggregate>.<event>.v<N> "
            "(lower-case snake_case parts, N >= 1), e.g. 'registry.probe.sent.v1'"
        )
    return EventType(match["context"], match["aggregate"], match["event"], int(match["version"]))


class EventPayload(BaseModel):
    """An event's payload: a fact in the past tense, immutable, versioned by its type.

    Subclasses set ``event_type`` (``registry.probe.sent.v1``). A released payload's
    schema never changes; a change is a new class with the next version. Set
    ``released = False`` while a new payload is still being shaped and no one consumes it.
    Timestamps are ``pydantic.AwareDatetime``: a naive one is refused at class creation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    released: ClassVar[bool] = True

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # Inheriting the parent's type would make two models claim one schema.
        event_type = cls.__dict__.get("event_type")
        if not isinstance(event_type, str):
            raise TypeError(f"{cls.__qualname__} must declare its own event_type: ClassVar[str]")
        try:
            parse_event_type(event_type)
        except ValueError as exc:
            raise TypeError(f"{cls.__qualname__}: {exc}") from None
        naive = _naive_datetime_fields(cls, set())
        if naive:
            raise TypeError(
                f"{cls.__qualname__}: {', '.join(naive)} must be pydantic.AwareDatetime, "
                "not datetime (event times are instants, stored in UTC)"
            )
        other = _DECLARED.get(event_type)
        if other is not None and not _same_definition(other, cls):
            raise TypeError(
                f"{cls.__qualname__}: event type {event_type!r} is already declared by "
                f"{other.__module__}.{other.__qualname__}"
            )
        _DECLARED[event_type] = cls


def _same_definition(a: type, b: type) -> bool:
    # A module reloaded in the same process re-creates its classes; that is not a clash.
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def _naive_datetime_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
    seen.add(model)
    found = []
    for name, field in model.model_fields.items():
        stack: list[Any] = [field.annotation]
        while stack:
            tp = stack.pop()
            if tp is datetime:
                found.append(f"{model.__qualname__}.{name}")
            elif isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in seen:
                found.extend(_naive_datetime_fields(tp, seen))
            else:
                stack.extend(get_args(tp))
    return found
