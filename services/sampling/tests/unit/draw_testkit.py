"""Plain rows and batches for the draw domain's unit tests (no database, no broker)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from shuangsui.contracts.events.planning_batches import _PUBLISHED_EXAMPLE, BatchPublished

VECTORS = Path(__file__).resolve().parents[4] / "libs" / "drawspec" / "tests" / "vectors"
SHARED_VECTORS = Path("/work/shared/design/draw-vectors")


def vector(name: str) -> dict[str, Any]:
    """A public IDS-1 test vector (the copy in libs/drawspec; the shared one when present)."""
    path = SHARED_VECTORS / f"{name}.json"
    if not path.exists():
        path = VECTORS / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Row:
    uscc: str
    unit_code: str | None
    risk_classes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Officer:
    inspector_id: str
    station_code: str | None
    qualifications: tuple[str, ...]
    cert_valid_until: date


@dataclass(frozen=True)
class Declared:
    inspector_id: str
    subject_uscc: str
    withdrawn: bool = False


def batch(**changes: Any) -> BatchPublished:
    """planning's published example with `changes` applied (a single-department batch unless
    told otherwise)."""
    data = json.loads(json.dumps(_PUBLISHED_EXAMPLE))
    data.update(joint_kind="none", participants=[])
    data.update(changes)
    return BatchPublished.model_validate(data)
