"""Event payload contracts: one module per context, one class per event type and version.

``all_event_models()`` is the contract registry: every :class:`EventPayload` subclass
defined in a module of this package. Each has a committed JSON schema in
``libs/contracts/schemas/<event_type>.json`` (see ``shuangsui.contracts.schemas``).
"""

from __future__ import annotations

import importlib
import pkgutil

from shuangsui.contracts.events.base import (
    EVENT_TYPE_PATTERN,
    EventPayload,
    EventType,
    declared_models,
    parse_event_type,
)
from shuangsui.contracts.events.registry import ProbeSent

__all__ = [
    "EVENT_TYPE_PATTERN",
    "EventPayload",
    "EventType",
    "ProbeSent",
    "UnknownEventType",
    "all_event_models",
    "model_for",
    "parse_event_type",
]


class UnknownEventType(KeyError):
    """No payload contract is registered for this event type."""


def _import_context_modules() -> None:
    # A module nobody imported yet would otherwise hide its events from the registry
    # and from the schema check.
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_") and module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")


def all_event_models() -> tuple[type[EventPayload], ...]:
    """Every payload contract of the platform, sorted by event type."""
    _import_context_modules()
    prefix = __name__ + "."
    return tuple(
        model
        for event_type, model in sorted(declared_models().items())
        if model.__module__.startswith(prefix)
    )


def model_for(event_type: str) -> type[EventPayload]:
    for model in all_event_models():
        if model.event_type == event_type:
            return model
    raise UnknownEventType(event_type)
