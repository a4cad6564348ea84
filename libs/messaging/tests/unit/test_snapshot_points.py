"""A snapshot point says which transactions an export's snapshot holds, as PostgreSQL's
`pg_visible_in_snapshot` does (checked against PostgreSQL itself in
integration/test_snapshot_skips.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shuangsui.messaging.snapshots import NotASnapshot, SnapshotPoint, txid_of

TAKEN = datetime(2026, 11, 25, 6, 5, 31, tzinfo=UTC)


def point(text: str = "100:105:101,103", covers: tuple[str, ...] = ()) -> SnapshotPoint:
    return SnapshotPoint.parse(text, TAKEN, covers)


def test_transactions_before_xmin_are_covered_and_from_xmax_on_are_not():
    p = point()
    assert [p.covers(t) for t in (1, 99, 100, 102, 104)] == [True] * 5
    assert [p.covers(t) for t in (105, 106, 10**12)] == [False] * 3


def test_transactions_in_progress_when_the_snapshot_was_taken_are_not_covered():
    p = point()
    assert not p.covers(101)
    assert not p.covers(103)


def test_an_event_without_a_txid_was_written_before_any_export():
    assert point().covers(None)


def test_only_the_kinds_of_event_the_export_holds_are_skipped():
    p = point(covers=("registry.subject.", "registry.inspector."))
    assert p.skips("registry.subject.upserted.v1", 102)
    assert p.skips("registry.inspector.conflict_declared.v1", None)
    assert not p.skips("registry.subject.upserted.v1", 103), "in progress: applied"
    assert not p.skips("registry.item.upserted.v2", 50), "items are not in the export"
    assert not point().skips("registry.subject.upserted.v1", 50), "an export of nothing"


def test_from_an_export_header():
    header = {
        "type": "header", "snapshot": "748:752:749", "taken_at": "2026-11-25T06:05:31.054540Z",
        "covers": ["registry.subject."],
    }  # fmt: skip
    p = SnapshotPoint.from_header(header)
    assert (p.xmin, p.xmax, p.xip) == (748, 752, frozenset({749}))
    assert p.taken_at == datetime(2026, 11, 25, 6, 5, 31, 54540, tzinfo=UTC)
    assert p.event_types == ("registry.subject.",)
    assert str(p) == "748:752:749", "written back as PostgreSQL writes it"


def test_the_stream_is_read_from_a_margin_before_the_snapshot():
    assert point().replay_from() == TAKEN - timedelta(minutes=2)
    assert point().replay_from(timedelta(seconds=5)) == TAKEN - timedelta(seconds=5)


@pytest.mark.parametrize(
    "text", ["", "100", "100:105", "a:b:", "105:100:", "100:105:99", "100:105:105", "0:0:"]
)
def test_what_is_not_a_snapshot_is_refused(text):
    with pytest.raises(NotASnapshot):
        point(text)


def test_a_time_without_its_offset_is_refused():
    with pytest.raises(NotASnapshot):
        SnapshotPoint.parse("100:100:", "2026-11-25T06:05:31")


def test_the_txid_a_relay_published():
    assert txid_of({"Nats-Msg-Id": "x", "Shuangsui-Txid": "4711"}) == 4711
    assert txid_of({"Nats-Msg-Id": "x"}) is None
    assert txid_of(None) is None
