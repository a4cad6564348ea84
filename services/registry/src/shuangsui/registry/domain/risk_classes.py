"""Credit risk classes (信用风险分类) pushed by the classification system (seed §(十); R2).

A subject has one class per domain: `general`, or a field such as `food`. Classes change only
forward in the classifier's own time (`as_of`): an older classification is stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from shuangsui.contracts.batches import ChangeKind, RowError
from shuangsui.registry.domain.rows import RowReader

_DOMAIN = re.compile(r"^[a-z][a-z_]{0,39}$")


class RiskClass(StrEnum):
    """A lowest risk … D highest (分类 A/B/C/D)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


@dataclass(frozen=True)
class Classification:
    uscc: str
    domain: str
    risk_class: RiskClass
    source: str
    as_of: datetime

    @property
    def key(self) -> str:
        return f"{self.uscc}/{self.domain}"


@dataclass(frozen=True)
class StoredClass:
    risk_class: RiskClass
    as_of: datetime


@dataclass(frozen=True)
class ClassChange:
    kind: ChangeKind
    classification: Classification
    line: int
    previous: RiskClass | None

    @property
    def applies(self) -> bool:
        return self.kind.applies


def read_classification(
    raw: Mapping[str, Any], line: int, now: datetime
) -> Classification | list[RowError]:
    reader = RowReader(raw, line)
    uscc = reader.uscc()
    risk_class = reader.choice("risk_class", RiskClass, None)
    if risk_class is None and not any(e.field == "risk_class" for e in reader.errors):
        reader.fail("risk_class", "required: A, B, C or D")
    domain = reader.text("domain") or "general"
    if not _DOMAIN.match(domain):
        reader.fail("domain", "`general` or a field name such as `food` (lower-case letters, _)")
    classification = Classification(
        uscc=uscc or "",
        domain=domain,
        risk_class=risk_class or RiskClass.B,
        source=reader.text("source", required=True) or "",
        as_of=reader.instant("as_of", now),
    )
    return reader.errors if reader.errors else classification


def plan_classifications(
    items: Iterable[tuple[int, Classification]], stored: Mapping[str, StoredClass]
) -> list[ClassChange]:
    changes = []
    for line, item in items:
        current = stored.get(item.key)
        if current is None:
            kind, previous = ChangeKind.created, None
        elif item.as_of < current.as_of:
            kind, previous = ChangeKind.stale, current.risk_class
        elif item.risk_class == current.risk_class:
            kind, previous = ChangeKind.unchanged, current.risk_class
        else:
            kind, previous = ChangeKind.updated, current.risk_class
        changes.append(ClassChange(kind, item, line, previous))
    return changes
