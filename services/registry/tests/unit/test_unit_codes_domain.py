"""Officers' units against the org directory: a province that has loaded orgs is checked."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

from shuangsui.contracts.batches import ChangeKind
from shuangsui.registry.domain.inspectors import (
    Inspector,
    InspectorRecord,
    Jurisdiction,
    KnownUnits,
    plan_import,
)
from shuangsui.registry.domain.inspectors_sync import plan_justice_sync

ZHEJIANG = Jurisdiction("33")
ZHEJIANG_ORGS = KnownUnits({"33": frozenset({"330106-AMR", "330106-01"})})


def record(**changes: object) -> InspectorRecord:
    base = InspectorRecord(
        name="王芳", unit_code="330106-AMR", region_code="330106", cert_no="33010012345",
        cert_valid_until=date(2027, 6, 30), station_code="330106-01",
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_units_of_the_provinces_directory_are_accepted() -> None:
    assert ZHEJIANG_ORGS.refusals(record()) == []
    assert ZHEJIANG_ORGS.refusals(record(station_code=None)) == []


def test_an_unknown_unit_and_station_are_each_refused_naming_the_field() -> None:
    refusals = ZHEJIANG_ORGS.refusals(record(unit_code="330102-AMR", station_code="330102-09"))
    assert refusals == [
        ("unit_code", "unknown unit 330102-AMR: not in the organisation directory · 单位不在机构名录中"),
        ("station_code", "unknown unit 330102-09: not in the organisation directory · 单位不在机构名录中"),
    ]  # fmt: skip


def test_another_provinces_org_is_no_unit_of_this_province() -> None:
    both = KnownUnits({"33": frozenset({"330106-AMR"}), "32": frozenset({"320102-AMR"})})
    refusals = both.refusals(record(unit_code="320102-AMR", station_code=None))
    assert [field for field, _ in refusals] == ["unit_code"]


def test_a_province_without_any_org_loaded_is_not_checked() -> None:
    only_zhejiang = KnownUnits({"33": frozenset({"330106-AMR"})})
    tibet = record(region_code="540102", unit_code="540102-AMR", station_code="540102-01")
    assert only_zhejiang.refusals(tibet) == []


def test_an_import_row_naming_an_unknown_unit_is_rejected_and_the_others_planned() -> None:
    rows = [(2, record()), (3, record(cert_no="C2222", station_code="330102-09"))]
    changes, errors = plan_import(rows, {}, ZHEJIANG, ZHEJIANG_ORGS)
    assert [c.line for c in changes] == [2]
    assert [(e.line, e.field) for e in errors] == [(3, "station_code")]
    assert "330102-09" in errors[0].reason


def test_an_import_row_is_rejected_even_when_the_stored_officer_names_the_same_unit() -> None:
    # Loaded before the province's orgs: the office corrects it on its next import.
    stored = Inspector(uuid4(), record(unit_code="330106001"))
    _, errors = plan_import([(2, record(unit_code="330106001"))], {"33010012345": stored},
                            ZHEJIANG, ZHEJIANG_ORGS)  # fmt: skip
    assert [(e.line, e.field) for e in errors] == [(2, "unit_code")]


def test_a_row_outside_the_jurisdiction_is_refused_for_its_region_not_its_unit() -> None:
    rows = [(2, record(region_code="440106", unit_code="nowhere"))]
    _, errors = plan_import(rows, {}, ZHEJIANG, ZHEJIANG_ORGS)
    assert [e.field for e in errors] == ["region_code"]


def test_the_sync_reports_an_unknown_unit_and_neither_creates_nor_merges() -> None:
    stored = Inspector(uuid4(), record(position=None, justice_db_ref="SF-1"))
    records = [
        (1, record(justice_db_ref="SF-1", position="科员", unit_code="330199-AMR")),
        (2, record(cert_no="C2222", justice_db_ref="SF-2", station_code="330106-99")),
        (3, record(cert_no="C3333", justice_db_ref="SF-3")),
    ]
    outcomes, errors = plan_justice_sync(records, {"SF-1": stored}, {}, ZHEJIANG, ZHEJIANG_ORGS)
    assert [(e.line, e.field) for e in errors] == [(1, "unit_code"), (2, "station_code")]
    assert [(o.change.line, o.change.kind) for o in outcomes] == [(3, ChangeKind.created)]
