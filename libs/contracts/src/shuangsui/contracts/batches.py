"""What a row of a bulk input (a push, an import sheet) comes to: the change it makes, or the
errors that refuse it.

Plain values, so that every context's pure domain can produce them; the kernel's bulk report
(`shuangsui.kernel.bulk`) counts them and shapes the answer every bulk write gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChangeKind(StrEnum):
    """What one row does to what is stored."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"  # the same content again: no new version, no event
    stale = "stale"  # older than what is stored (by the source's own time): reported, not applied

    @property
    def applies(self) -> bool:
        return self in (ChangeKind.created, ChangeKind.updated)


@dataclass(frozen=True)
class RowError:
    """One refused field of one row. `line` is the row's line in the file (NDJSON line, CSV
    line or XLSX row, the header being line 1) or its position in a JSON body (from 1); `key`
    is the row's natural key (a USCC, a certificate number, a code) when it could be read."""

    line: int
    field: str
    reason: str
    key: str | None = None
