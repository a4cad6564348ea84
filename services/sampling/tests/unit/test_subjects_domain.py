"""The subjects read model's rules without a database: reading an export's lines, and how far
behind the registry a model is."""

from datetime import UTC, datetime, timedelta

import pytest

from shuangsui.sampling.domain.subjects import (
    Consumption,
    ExportBroken,
    ExportReading,
    ReadModelState,
    current_to,
    lag_of,
)

HEADER = {"type": "header", "format": "shuangsui.registry.export.v1", "snapshot": "5:9:7",
          "taken_at": "2026-01-01T00:00:00Z", "covers": ["registry.subject."]}  # fmt: skip
SUBJECT = {"type": "registry.subject.upserted.v1", "data": {}, "risk_classes": {}}
OFFICER = {"type": "registry.inspector.upserted.v1", "data": {}, "conflicts": None}
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def read(*lines):
    reading = ExportReading()
    subjects = [s for s in map(reading.read, lines) if s is not None]
    return reading, subjects


def test_a_complete_export_yields_its_subjects_and_its_header():
    trailer = {"type": "trailer", "subjects": 2, "inspectors": 1, "complete": True}
    reading, subjects = read(HEADER, SUBJECT, OFFICER, SUBJECT, trailer)
    assert subjects == [SUBJECT, SUBJECT], "officers are left to their own read model"
    assert reading.finish() == HEADER


def test_an_export_without_its_trailer_is_refused():
    reading, _ = read(HEADER, SUBJECT)
    with pytest.raises(ExportBroken, match="trailer"):
        reading.finish()


def test_an_export_whose_trailer_counts_other_subjects_is_refused():
    reading, _ = read(HEADER, SUBJECT, {"type": "trailer", "subjects": 2, "complete": True})
    with pytest.raises(ExportBroken, match="counts 2"):
        reading.finish()


def test_an_export_must_open_with_a_header_of_the_known_format():
    with pytest.raises(ExportBroken):
        read(SUBJECT)
    with pytest.raises(ExportBroken):
        read({**HEADER, "format": "shuangsui.registry.export.v2"})


def test_a_caught_up_consumer_is_current_to_the_check():
    assert current_to(Consumption(NOW, 0, None), NOW - timedelta(hours=1)) == NOW


def test_a_consumer_behind_is_current_to_its_oldest_unapplied_event():
    oldest = NOW - timedelta(seconds=90)
    assert current_to(Consumption(NOW, 12, oldest), None) == oldest


def test_a_consumer_behind_since_an_unknown_time_does_not_move():
    before = NOW - timedelta(minutes=5)
    assert current_to(Consumption(NOW, 12, None), before) == before


def test_events_replayed_from_before_the_export_do_not_set_the_model_back():
    taken_at = NOW - timedelta(seconds=10)
    replayed = Consumption(NOW, 40, taken_at - timedelta(minutes=2))
    assert current_to(replayed, taken_at, loaded_to=taken_at) == taken_at


def state(**fields):
    base = {"model": "subjects", "loaded_at": NOW - timedelta(days=1), "loaded_rows": 10,
            "snapshot_taken_at": NOW - timedelta(days=1), "current_to": NOW,
            "pending": 0, "checked_at": NOW}  # fmt: skip
    return ReadModelState(**{**base, **fields})


def test_a_model_never_loaded_has_no_lag_and_may_not_be_drawn_from():
    lag = lag_of(None, "subjects", NOW, 300)
    assert (lag.loaded, lag.seconds, lag.within_bound) == (False, None, False)


def test_the_lag_is_the_time_since_the_model_was_current():
    lag = lag_of(state(current_to=NOW - timedelta(seconds=301)), "subjects", NOW, 300)
    assert lag.seconds == 301
    assert not lag.within_bound
    assert lag_of(state(current_to=NOW - timedelta(seconds=30)), "subjects", NOW, 300).within_bound


def test_an_export_that_does_not_answer_for_subject_events_is_refused():
    with pytest.raises(ExportBroken, match="subject events"):
        read({**HEADER, "covers": ["registry.inspector."]})
