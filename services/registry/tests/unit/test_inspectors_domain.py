"""Inspector directory rules: row parsing, import planning, justice-sync merge, conflicts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID, uuid4

import pytest

from shuangsui.contracts.batches import ChangeKind
from shuangsui.registry.domain.inspectors import (
    ConflictAlreadyDeclared,
    ConflictSource,
    DeclaredConflict,
    Inspector,
    InspectorRecord,
    InspectorStatus,
    Jurisdiction,
    KnownUnits,
    declare_conflict,
    plan_import,
    with_status,
    withdraw_conflict,
)
from shuangsui.registry.domain.inspectors_import import parse_sheet
from shuangsui.registry.domain.inspectors_sync import (
    FieldConflict,
    merge_justice,
    plan_justice_sync,
)
from shuangsui.registry.domain.sheets import BadHeader, Sheet

HEADER = ["name", "unit_code", "region_code", "cert_no", "cert_valid_until", "status"]
ZHEJIANG = Jurisdiction("33")
NO_ORGS_LOADED = KnownUnits()  # unit codes are checked in test_unit_codes_domain.py


def known(code: str) -> bool:
    return code in {"330106", "330100", "440100"}


def record(**changes: object) -> InspectorRecord:
    base = InspectorRecord(
        name="王芳", unit_code="330106001", region_code="330106", cert_no="33010012345",
        cert_valid_until=date(2027, 6, 30), qualifications=("food_safety",),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def sheet(*rows: list[str], header: list[str] = HEADER) -> Sheet:
    return Sheet(header=header, rows=list(rows), lines=list(range(2, len(rows) + 2)))


def test_a_valid_row_becomes_a_record_with_sorted_tags() -> None:
    rows, errors = parse_sheet(
        sheet(
            ["王芳", "330106001", "330106", "33010012345", "2027-06-30", "", "pricing;food_safety"],
            header=[*HEADER, "qualifications"],
        ),
        known,
    )
    assert errors == []
    assert rows == [(2, record(qualifications=("food_safety", "pricing")))]


def test_chinese_headings_are_understood() -> None:
    header = ["姓名", "单位编码", "行政区划代码", "执法证号", "执法证有效期至", "专业领域"]
    rows, errors = parse_sheet(
        sheet(["王芳", "330106001", "330106", "a1234", "2027/06/30", '["food"]'], header=header),
        known,
    )
    assert errors == []
    assert rows[0][1].cert_no == "A1234"
    assert rows[0][1].specialties == ("food",)


def test_every_bad_field_of_a_row_is_reported_with_its_line() -> None:
    _, errors = parse_sheet(
        sheet(["", "330106001", "999999", "33010012345", "2027-13-01", "retired"]), known
    )
    assert {(e.line, e.field) for e in errors} == {
        (2, "name"),
        (2, "region_code"),
        (2, "cert_valid_until"),
        (2, "status"),
    }


def test_a_repeated_certificate_rejects_the_later_row() -> None:
    row = ["王芳", "330106001", "330106", "33010012345", "2027-06-30", "active"]
    rows, errors = parse_sheet(sheet(row, row), known)
    assert [line for line, _ in rows] == [2]
    assert [(e.line, e.field) for e in errors] == [(3, "cert_no")]
    assert "line 2" in errors[0].reason


def test_a_header_without_required_columns_names_each_missing_column() -> None:
    with pytest.raises(BadHeader) as info:
        parse_sheet(sheet(["x"], header=["name", "remarks"]), known)
    missing = {field for field, _ in info.value.errors}
    assert missing == {"unit_code", "region_code", "cert_no", "cert_valid_until"}


def test_import_creates_updates_and_leaves_unchanged_by_certificate() -> None:
    stored = Inspector(uuid4(), record(), version=3)
    other = Inspector(uuid4(), record(cert_no="C2222"), version=1)
    rows = [
        (2, record()),
        (3, record(cert_no="C2222", position="科长")),
        (4, record(cert_no="C3333")),
    ]
    changes, errors = plan_import(
        rows,
        {"33010012345": stored, "C2222": other},
        ZHEJIANG,
        NO_ORGS_LOADED,
        new_id=lambda: UUID(int=7),
    )
    assert errors == []
    assert [c.kind for c in changes] == [
        ChangeKind.unchanged,
        ChangeKind.updated,
        ChangeKind.created,
    ]
    assert changes[1].inspector.version == 2
    assert changes[1].inspector.inspector_id == other.inspector_id
    assert changes[2].inspector.inspector_id == UUID(int=7)


def test_import_keeps_the_justice_link_when_the_sheet_has_none() -> None:
    stored = Inspector(uuid4(), record(justice_db_ref="SF-1"))
    changes, _ = plan_import([(2, record())], {"33010012345": stored}, ZHEJIANG, NO_ORGS_LOADED)
    assert changes[0].kind is ChangeKind.unchanged


def test_import_refuses_rows_outside_the_writers_region_or_department() -> None:
    rows = [(2, record(region_code="440100")), (3, record(department_type="ecology"))]
    _, errors = plan_import(rows, {}, Jurisdiction("33", "market_supervision"), NO_ORGS_LOADED)
    assert [(e.line, e.field) for e in errors] == [(2, "region_code"), (3, "department_type")]


def test_sync_fills_empty_fields_and_reports_differences_without_overwriting() -> None:
    stored = record(position=None, qualifications=("food_safety", "pricing"))
    incoming = record(
        name="王 芳", position="科员", cert_valid_until=date(2029, 6, 30),
        qualifications=("food_safety", "special_equipment"), justice_db_ref="SF-1",
    )  # fmt: skip
    merged, conflicts = merge_justice(stored, incoming)
    assert merged.position == "科员"
    assert merged.justice_db_ref == "SF-1"
    assert merged.name == "王芳"
    assert merged.cert_valid_until == date(2027, 6, 30)
    assert merged.qualifications == ("food_safety", "pricing", "special_equipment")
    assert {c.field for c in conflicts} == {"name", "cert_valid_until", "qualifications"}
    assert FieldConflict("cert_valid_until", "2027-06-30", "2029-06-30") in conflicts


def test_sync_never_compares_status_or_specialties() -> None:
    stored = record(status=InspectorStatus.on_leave, specialties=("food",))
    merged, conflicts = merge_justice(stored, record())
    assert (merged, conflicts) == (stored, ())


def test_sync_matches_by_reference_then_certificate_and_creates_the_unknown() -> None:
    linked = Inspector(uuid4(), record(justice_db_ref="SF-1"))
    unlinked = Inspector(uuid4(), record(cert_no="C2222"))
    records = [
        (1, record(justice_db_ref="SF-1", cert_no="NEW-CERT")),
        (2, record(cert_no="C2222", justice_db_ref="SF-2")),
        (3, record(cert_no="C3333", justice_db_ref="SF-3", status=InspectorStatus.left)),
    ]
    outcomes, errors = plan_justice_sync(
        records, {"SF-1": linked}, {"C2222": unlinked}, ZHEJIANG, NO_ORGS_LOADED
    )
    assert errors == []
    first, second, third = outcomes
    assert first.change.kind is ChangeKind.unchanged
    assert [c.field for c in first.conflicts] == ["cert_no"]
    assert second.change.kind is ChangeKind.updated
    assert second.change.inspector.record.justice_db_ref == "SF-2"
    assert third.change.kind is ChangeKind.created
    assert third.change.inspector.record.status is InspectorStatus.active


def test_a_second_live_declaration_for_one_subject_is_refused() -> None:
    officer = Inspector(uuid4(), record())
    conflict = DeclaredConflict(
        uuid4(), "91350100M000100Y43", date(2020, 1, 1), ConflictSource.inspector
    )
    declared = declare_conflict(officer, conflict)
    assert declared.version == 2
    with pytest.raises(ConflictAlreadyDeclared):
        declare_conflict(declared, replace(conflict, conflict_id=uuid4()))
    withdrawn, _ = withdraw_conflict(declared, conflict.conflict_id)
    again = declare_conflict(withdrawn, replace(conflict, conflict_id=uuid4()))
    assert again.active_conflict_with("91350100M000100Y43") is not None


def test_setting_the_same_status_changes_nothing() -> None:
    officer = Inspector(uuid4(), record())
    assert with_status(officer, InspectorStatus.active) is None
    changed = with_status(officer, InspectorStatus.suspended)
    assert changed is not None
    assert changed.version == 2
