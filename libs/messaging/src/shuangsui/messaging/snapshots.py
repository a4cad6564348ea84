"""Snapshot points: where a read model loaded from an export continues with events (ADR 0012).

An export is read in one PostgreSQL snapshot and names it in its header. Every outbox row
records the transaction that wrote it (`txid`), and the relay publishes it with the event
(`Shuangsui-Txid`). The snapshot holds an event's change exactly when it holds the event's
transaction — PostgreSQL's own visibility rule, `pg_visible_in_snapshot` — so a consumer that
loaded the export skips the events it covers and applies every other one: no gap, no double,
whatever order transactions committed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

TXID_HEADER = "Shuangsui-Txid"
SEQ_HEADER = "Shuangsui-Outbox-Seq"
# Covers the clock difference between the database (which dates the snapshot) and the broker
# (which dates each message): replaying a little more costs only skipped events.
DEFAULT_MARGIN = timedelta(minutes=2)


class NotASnapshot(ValueError):
    """The text is not PostgreSQL's `xmin:xmax:xip,…` form of a snapshot."""


@dataclass(frozen=True)
class SnapshotPoint:
    """A PostgreSQL snapshot (`pg_current_snapshot()`), when it was taken, and the kinds of
    event whose changes the export read in it holds (event type prefixes, e.g.
    `registry.subject.`)."""

    xmin: int
    xmax: int
    xip: frozenset[int]
    taken_at: datetime
    event_types: tuple[str, ...] = ()

    @classmethod
    def parse(
        cls, snapshot: str, taken_at: datetime | str, event_types: tuple[str, ...] = ()
    ) -> SnapshotPoint:
        try:
            xmin_text, xmax_text, xip_text = snapshot.split(":")
            xmin, xmax = int(xmin_text), int(xmax_text)
            xip = frozenset(int(x) for x in xip_text.split(",") if x)
        except ValueError:
            raise NotASnapshot(f"not a snapshot (xmin:xmax:xip,…): {snapshot!r}") from None
        if not 0 < xmin <= xmax or any(not xmin <= x < xmax for x in xip):
            raise NotASnapshot(f"not a consistent snapshot: {snapshot!r}")
        when = datetime.fromisoformat(taken_at) if isinstance(taken_at, str) else taken_at
        if when.tzinfo is None:
            raise NotASnapshot("the snapshot's time must carry its UTC offset")
        return cls(xmin, xmax, xip, when, tuple(event_types))

    @classmethod
    def from_header(cls, header: Mapping[str, Any]) -> SnapshotPoint:
        """From an export's header line: `snapshot`, `taken_at` and `covers`."""
        return cls.parse(header["snapshot"], header["taken_at"], tuple(header.get("covers", ())))

    def covers(self, txid: int | None) -> bool:
        """Whether the snapshot sees what transaction `txid` wrote (it had committed when the
        snapshot was taken). An event without a txid was written before outbox rows recorded
        theirs, so before any export."""
        if txid is None:
            return True
        return txid < self.xmin or (txid < self.xmax and txid not in self.xip)

    def skips(self, event_type: str, txid: int | None) -> bool:
        """Whether a consumer that loaded the export skips this event: the export answers for
        its kind of event and already holds its change."""
        return event_type.startswith(self.event_types) and self.covers(txid)

    def replay_from(self, margin: timedelta = DEFAULT_MARGIN) -> datetime:
        """Where a consumer starts reading the stream: every event the snapshot does not cover
        was published after the snapshot was taken."""
        return self.taken_at - margin

    def __str__(self) -> str:
        return f"{self.xmin}:{self.xmax}:{','.join(str(x) for x in sorted(self.xip))}"


def txid_of(headers: Mapping[str, str] | None) -> int | None:
    """The writing transaction a relay published with a message, if it did."""
    value = (headers or {}).get(TXID_HEADER)
    return int(value) if value else None
