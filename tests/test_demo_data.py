"""The demo province is deterministic and every row passes the registry's own push rules."""

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from shuangsui.contracts.regions import regions_within
from shuangsui.devstack.demo import DemoProvince, partner_code
from shuangsui.registry.domain.inspectors_import import Sheet
from shuangsui.registry.domain.orgs import parse_sheet, plan_orgs
from shuangsui.registry.domain.risk_classes import Classification, read_classification
from shuangsui.registry.domain.subjects import Subject, read_row

CITY, _ = DemoProvince().planning_city or ("", "")

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_same_seed_gives_the_same_province():
    assert list(DemoProvince(subjects=50).subject_rows()) == list(
        DemoProvince(subjects=50).subject_rows()
    )


def test_every_demo_row_is_a_valid_subject_of_the_province_with_a_unique_uscc():
    rows = list(DemoProvince(subjects=2000).subject_rows())
    subjects = [read_row(row, line, NOW, "33") for line, row in enumerate(rows, start=1)]
    refused = [s for s in subjects if not isinstance(s, Subject)]
    assert refused == []
    assert len({row["uscc"] for row in rows}) == len(rows)


def test_the_mix_of_subject_types_is_realistic():
    rows = list(DemoProvince(subjects=2000).subject_rows())
    share = sum(r["subject_type"] == "individual" for r in rows) / len(rows)
    assert 0.3 < share < 0.5, "about two in five market subjects are individual businesses"


# The default seed; a quarter of the default size keeps the test quick and the shares steady.
PROVINCE = DemoProvince(subjects=5000)


@pytest.fixture(scope="module")
def subjects_and_classes() -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    return list(PROVINCE.subject_rows()), list(PROVINCE.risk_class_rows())


def general_classes(classes: list[dict[str, str]]) -> dict[str, str]:
    return {row["uscc"]: row["risk_class"] for row in classes if row["domain"] == "general"}


def test_the_same_seed_gives_the_same_risk_classes():
    assert list(DemoProvince(subjects=200).risk_class_rows()) == list(
        DemoProvince(subjects=200).risk_class_rows()
    )


def test_another_seed_classifies_differently():
    assert list(DemoProvince(subjects=200).risk_class_rows()) != list(
        DemoProvince(subjects=200, seed=7).risk_class_rows()
    )


def test_every_risk_class_row_is_a_valid_classification_of_a_demo_subject(subjects_and_classes):
    subjects, classes = subjects_and_classes
    read = [read_classification(row, line, NOW) for line, row in enumerate(classes, start=1)]
    assert [r for r in read if not isinstance(r, Classification)] == []
    assert {row["uscc"] for row in classes} <= {s["uscc"] for s in subjects}
    keys = [(row["uscc"], row["domain"]) for row in classes]
    assert len(set(keys)) == len(keys), "one class per subject and domain"


def test_about_one_subject_in_twenty_has_no_general_class(subjects_and_classes):
    subjects, classes = subjects_and_classes
    unclassified = 1 - len(general_classes(classes)) / len(subjects)
    assert 0.03 < unclassified < 0.07


def test_general_classes_are_mostly_a_and_b_with_few_d(subjects_and_classes):
    _, classes = subjects_and_classes
    shares = Counter(general_classes(classes).values())
    total = sum(shares.values())
    assert 0.35 < shares["A"] / total < 0.45
    assert 0.40 < shares["B"] / total < 0.50
    assert 0.08 < shares["C"] / total < 0.14
    assert 0.02 < shares["D"] / total < 0.06


def test_revoked_and_suspended_subjects_are_more_often_c_or_d(subjects_and_classes):
    subjects, classes = subjects_and_classes
    general = general_classes(classes)

    def share_c_or_d(statuses: set[str]) -> float:
        found = [
            general[s["uscc"]] for s in subjects if s["status"] in statuses and s["uscc"] in general
        ]
        return sum(c in "CD" for c in found) / len(found)

    assert share_c_or_d({"revoked", "suspended"}) > 2 * share_c_or_d({"active"})


def test_subjects_with_large_capital_are_more_often_a(subjects_and_classes):
    subjects, classes = subjects_and_classes
    general = general_classes(classes)

    def share_a(large: bool) -> float:
        found = [
            general[s["uscc"]]
            for s in subjects
            if s["uscc"] in general
            and s["registered_capital_wan"] is not None
            and (float(s["registered_capital_wan"]) >= 500) is large
        ]
        return sum(c == "A" for c in found) / len(found)

    assert share_a(large=True) > share_a(large=False) + 0.1


def test_food_licensees_and_only_they_have_a_food_class(subjects_and_classes):
    subjects, classes = subjects_and_classes
    food_licensees = {
        s["uscc"]
        for s in subjects
        if any(licence["type"].startswith("food_") for licence in s["licences"])
    }
    assert food_licensees, "the demo has food businesses"
    assert {row["uscc"] for row in classes if row["domain"] == "food"} == food_licensees


def demo_orgs() -> tuple[list, list]:
    """The demo's org sheet as the registry reads and plans it, into an empty directory."""
    rows = list(DemoProvince().org_rows())
    sheet = Sheet(
        header=list(rows[0]), rows=[list(r.values()) for r in rows],
        lines=list(range(2, len(rows) + 2)),
    )  # fmt: skip
    parsed, invalid = parse_sheet(sheet)
    changes, refused = plan_orgs(parsed, {}, "33")
    return changes, invalid + refused


def test_the_demo_orgs_are_the_same_every_time():
    assert list(DemoProvince().org_rows()) == list(DemoProvince(seed=7).org_rows())


def test_every_demo_org_passes_the_registrys_hierarchy_rules():
    changes, errors = demo_orgs()
    assert errors == []
    levels = Counter(c.org.record.level.value for c in changes)
    assert levels["provincial"] == 1
    assert levels["station"] == 5 * levels["county"]


def test_every_unit_and_station_the_demo_names_is_a_demo_org():
    orgs = {row["code"]: row for row in DemoProvince().org_rows()}
    demo = DemoProvince(subjects=500, inspectors=200)
    for subject in demo.subject_rows():
        assert orgs[subject["unit_code"]]["level"] == "station"
    for officer in demo.inspector_rows():
        unit = orgs[officer["unit_code"]]
        # An officer serves in their unit's department: pools are drawn per department (R20).
        assert officer["department_type"] == unit["department_type"], officer["unit_code"]
        if unit["department_type"] != "market_supervision":  # the joint batch's partner (R20)
            assert unit["code"] == partner_code(CITY)
            continue
        assert unit["level"] == "county" or unit["code"] == f"{CITY}-AMR", unit["code"]
        if officer["station_code"]:
            assert orgs[officer["station_code"]]["parent_code"] == officer["unit_code"]


def test_every_county_of_the_demo_city_and_its_partner_can_field_a_qualified_team():
    """The demo plan draws per county (B.10) and per department (B.11, the city bureau's head
    office and its partner): each pool holds at least the largest demo team (3) of officers who
    may lead its food and equipment batches."""
    officers = list(DemoProvince(subjects=10, inspectors=0).inspector_rows())
    units = [f"{r.code}-AMR" for r in regions_within(CITY) if r.name != "市辖区"]
    for unit in [*units, f"{CITY}-AMR", partner_code(CITY)]:
        staff = [o for o in officers if o["unit_code"] == unit]
        for qualification in ("food_safety", "special_equipment"):
            able = [o for o in staff if qualification in o["qualifications"].split(";")]
            assert len(able) >= 3, (unit, qualification)
        assert all(o["cert_valid_until"] > f"{datetime.now(UTC).year}-12-31" for o in staff)


def test_demo_orgs_carry_chinese_names_of_their_regions():
    orgs = {row["code"]: row["name"] for row in DemoProvince().org_rows()}
    assert orgs["330000-AMR"] == "浙江省市场监督管理局"
    assert orgs["330106-AMR"] == "杭州市西湖区市场监督管理局"
    assert orgs["330106-01"] == "西湖区市场监督管理局第一市场监管所"
