"""Reading pushed subject rows and planning what a push changes (no I/O)."""

from datetime import UTC, datetime, timedelta

import pytest
from stdnum.cn import uscc as stdnum_uscc

from shuangsui.contracts.batches import ChangeKind, RowError
from shuangsui.registry.domain.subjects import (
    DuplicateGuard,
    Stored,
    Subject,
    SubjectType,
    plan_changes,
    read_row,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def valid_uscc(n: int = 1) -> str:
    body = f"91330106{n:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


def row(**fields):
    base = {
        "uscc": valid_uscc(),
        "name": "杭州西溪食品有限公司",
        "region_code": "330106",
        "source": "zj-aic",
        "source_updated_at": "2025-03-01T08:00:00+08:00",
    }
    return {**base, **fields}


def fields_refused(result) -> list[str]:
    assert isinstance(result, list), f"expected refusal, got {result!r}"
    return [error.field for error in result]


def test_a_minimal_row_becomes_an_active_enterprise():
    subject = read_row(row(), 1, NOW, "33")
    assert isinstance(subject, Subject)
    assert subject.subject_type is SubjectType.enterprise
    assert subject.status.value == "active"
    assert subject.source_updated_at == datetime(2025, 3, 1, 0, 0, tzinfo=UTC)


def test_a_row_without_uscc_is_refused():
    assert fields_refused(read_row(row(uscc=None), 1, NOW, "33")) == ["uscc"]


def test_a_wrong_check_character_is_refused_with_the_reason():
    good = valid_uscc()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    result = read_row(row(uscc=bad), 7, NOW, "33")
    assert fields_refused(result) == ["uscc"]
    assert result[0].line == 7
    assert "check" in result[0].reason


def test_every_bad_field_of_a_row_is_reported_at_once():
    result = read_row(
        row(subject_type="company", status="dormant", region_code="999999", registered_on="2025-13-01"),
        3, NOW, "33",
    )  # fmt: skip
    assert sorted(fields_refused(result)) == [
        "region_code",
        "registered_on",
        "status",
        "subject_type",
    ]


def test_a_region_outside_the_callers_scope_is_refused():
    result = read_row(row(region_code="440106"), 1, NOW, "33")
    assert fields_refused(result) == ["region_code"]
    assert "outside your region" in result[0].reason


def test_a_city_system_may_push_only_its_city():
    assert isinstance(read_row(row(region_code="330106"), 1, NOW, "3301"), Subject)
    assert fields_refused(read_row(row(region_code="330206"), 1, NOW, "3301")) == ["region_code"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("source_updated_at", (NOW + timedelta(hours=1)).isoformat()),
        ("registered_on", (NOW + timedelta(days=2)).date().isoformat()),
    ],
)
def test_dates_in_the_future_are_refused(name, value):
    assert fields_refused(read_row(row(**{name: value}), 1, NOW, "33")) == [name]


def test_a_little_clock_skew_is_tolerated():
    skewed = (NOW + timedelta(minutes=2)).isoformat()
    assert isinstance(read_row(row(source_updated_at=skewed), 1, NOW, "33"), Subject)


def test_a_naive_timestamp_is_refused_because_its_instant_is_unknown():
    assert fields_refused(read_row(row(source_updated_at="2025-03-01T08:00:00"), 1, NOW, "33")) == [
        "source_updated_at"
    ]


def test_unknown_keys_are_kept_in_extra():
    subject = read_row(row(tax_office="杭州西湖区税务局", extra={"grade": "A"}), 1, NOW, "33")
    assert isinstance(subject, Subject)
    assert subject.extra == {"grade": "A", "tax_office": "杭州西湖区税务局"}


def test_licences_must_name_their_type():
    result = read_row(row(licences=[{"number": "SC1"}]), 1, NOW, "33")
    assert fields_refused(result) == ["licences[0].type"]


@pytest.mark.parametrize(
    "number",
    ["33010600000001", "3301060000000012", "33010600000000A", "３３０１０６０００００００１２"],
)
def test_a_legacy_registration_number_has_15_digits(number):
    assert fields_refused(read_row(row(registration_no=number), 1, NOW, "33")) == [
        "registration_no"
    ]
    kept = read_row(row(registration_no=" 330106000000012 "), 1, NOW, "33")
    assert isinstance(kept, Subject)
    assert kept.registration_no == "330106000000012"


def test_capital_must_be_a_non_negative_decimal():
    assert fields_refused(read_row(row(registered_capital_wan="-5"), 1, NOW, "33")) == [
        "registered_capital_wan"
    ]
    assert fields_refused(read_row(row(registered_capital_wan="lots"), 1, NOW, "33")) == [
        "registered_capital_wan"
    ]


def subject(**fields) -> Subject:
    result = read_row(row(**fields), 1, NOW, "33")
    assert isinstance(result, Subject)
    return result


def test_a_new_subject_is_created_at_version_1():
    [change] = plan_changes([(1, subject())], {})
    assert (change.kind, change.version) == (ChangeKind.created, 1)


def test_same_content_is_unchanged_and_not_rewritten():
    s = subject()
    stored = {s.uscc: Stored(s.source_updated_at, s.content_hash, 4)}
    [change] = plan_changes([(1, subject(source_updated_at="2025-04-01T00:00:00Z"))], stored)
    assert (change.kind, change.version, change.applies) == (ChangeKind.unchanged, 4, False)


def test_new_content_is_the_next_version():
    s = subject()
    stored = {s.uscc: Stored(s.source_updated_at, s.content_hash, 4)}
    [change] = plan_changes(
        [(1, subject(name="新名称", source_updated_at="2025-04-01T00:00:00Z"))], stored
    )
    assert (change.kind, change.version) == (ChangeKind.updated, 5)


def test_a_change_older_than_stored_is_stale_and_not_applied():
    s = subject(source_updated_at="2025-04-01T00:00:00Z")
    stored = {s.uscc: Stored(s.source_updated_at, s.content_hash, 2)}
    [change] = plan_changes(
        [(1, subject(name="旧名称", source_updated_at="2025-03-01T00:00:00Z"))], stored
    )
    assert change.kind is ChangeKind.stale
    assert not change.applies


def test_a_uscc_twice_in_one_batch_refuses_the_later_rows():
    first, again = subject(), subject(name="other")
    guard = DuplicateGuard()
    second = subject(uscc=valid_uscc(2))
    verdicts = [
        guard.check(1, first.uscc, first.uscc),
        guard.check(2, second.uscc, second.uscc),
        guard.check(5, again.uscc, again.uscc),
    ]
    assert verdicts == [None, None, RowError(5, "uscc", "duplicate of line 1", first.uscc)]


def test_content_hash_is_taken_over_the_canonical_json():
    import hashlib
    import json

    subject = read_row(
        row(registered_capital_wan="12.50", registered_on="2015-06-01", extra={"备注": "x"}),
        1,
        NOW,
        "33",
    )
    assert isinstance(subject, Subject)
    canonical = json.dumps(
        subject.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert subject.content_json == canonical
    assert subject.content_hash == hashlib.sha256(canonical.encode()).hexdigest()
