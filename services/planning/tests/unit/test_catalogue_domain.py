"""The catalogue rules planning validates with: the list version in force for a plan, an org's
superior and its jurisdiction."""

import uuid
from datetime import date

import pytest

from shuangsui.drawspec.model import Ratio
from shuangsui.planning.domain.catalogue import (
    CatalogueOrg,
    ListVersion,
    is_in_force,
    list_in_force,
    ratio_of_share,
    superior_of,
    version_in_force,
    within_jurisdiction,
)

ZJ = "330000"


def version(level, province, number, effective_from):
    return ListVersion(uuid.uuid4(), level, province, number, effective_from)


NATIONAL_1 = version("national", None, 1, date(2025, 1, 1))
NATIONAL_2 = version("national", None, 2, date(2026, 1, 1))
ZJ_1 = version("provincial", ZJ, 1, date(2025, 3, 1))
ZJ_2 = version("provincial", ZJ, 2, date(2026, 7, 1))
GD_1 = version("provincial", "440000", 1, date(2024, 1, 1))
ALL = [ZJ_2, NATIONAL_1, GD_1, ZJ_1, NATIONAL_2]


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2025, 2, 28), NATIONAL_1),  # the province's first version has not taken effect
        (date(2025, 3, 1), ZJ_1),  # in force from its effective day
        (date(2026, 6, 30), ZJ_1),  # until the next version's effective day
        (date(2026, 7, 1), ZJ_2),
    ],
)
def test_a_provincial_plan_uses_its_provinces_list_in_force_on_the_day(on, expected):
    for level in ("provincial", "city", "county"):
        assert list_in_force(ALL, ZJ, level, on) == expected


def test_a_national_plan_uses_the_national_list_whatever_the_province():
    assert list_in_force(ALL, ZJ, "national", date(2026, 8, 1)) == NATIONAL_2
    assert list_in_force(ALL, None, "provincial", date(2025, 6, 1)) == NATIONAL_1


def test_another_provinces_list_never_applies():
    assert list_in_force(ALL, "320000", "provincial", date(2024, 6, 1)) is None
    assert list_in_force(ALL, "320000", "provincial", date(2025, 6, 1)) == NATIONAL_1


def test_before_any_version_took_effect_nothing_is_in_force():
    assert list_in_force(ALL, ZJ, "county", date(2024, 12, 31)) is None


def test_on_equal_dates_the_higher_version_wins_in_any_order():
    a = version("provincial", ZJ, 3, date(2027, 1, 1))
    b = version("provincial", ZJ, 4, date(2027, 1, 1))
    assert version_in_force([a, b], date(2027, 1, 1)) == b
    assert version_in_force([b, a], date(2027, 1, 1)) == b


def test_a_withdrawn_item_is_not_in_force():
    assert is_in_force("active")
    assert not is_in_force("withdrawn")


@pytest.mark.parametrize(
    ("share", "ratio"),
    [
        (0.03, Ratio("3", "100")),
        (0.05, Ratio("1", "20")),
        (0.1, Ratio("1", "10")),
        (1.0, Ratio("1", "1")),
    ],
)
def test_an_items_min_ratio_is_the_reduced_fraction_of_the_decimal_it_was_written_as(share, ratio):
    assert ratio_of_share(share) == ratio


def org(level, region, parent=None, code=None):
    return CatalogueOrg(
        org_id=uuid.uuid4(), code=code or f"{region}-{level}", name=f"{region} {level}",
        level=level, region_code=region, parent_org_id=parent.org_id if parent else None,
        parent_code=parent.code if parent else None, department_type="market_supervision",
        is_hq=level != "station", status="active", version=1,
    )  # fmt: skip


PROVINCE = org("provincial", "330000")
CITY = org("city", "330100", PROVINCE)
COUNTY = org("county", "330106", CITY)
STATION = org("station", "330106", COUNTY, code="330106-01")
KNOWN = {o.org_id: o for o in (PROVINCE, CITY, COUNTY, STATION)}


def test_the_superior_is_the_parent_and_a_stations_is_its_bureau():
    assert superior_of(STATION, KNOWN) == COUNTY
    assert superior_of(COUNTY, KNOWN) == CITY
    assert superior_of(CITY, KNOWN) == PROVINCE
    assert superior_of(PROVINCE, KNOWN) is None


def test_a_parent_not_yet_announced_is_no_superior():
    assert superior_of(COUNTY, {CITY.org_id: CITY, COUNTY.org_id: COUNTY}) == CITY
    assert superior_of(COUNTY, {COUNTY.org_id: COUNTY}) is None


@pytest.mark.parametrize(
    ("who", "region", "inside"),
    [
        (PROVINCE, "330106", True),
        (PROVINCE, "330000", True),
        (PROVINCE, "440106", False),
        (CITY, "330106", True),
        (CITY, "330100", True),
        (CITY, "330206", False),
        (CITY, "330000", False),  # a city does not cover its province
        (COUNTY, "330106", True),
        (COUNTY, "330108", False),
        (STATION, "330106", True),  # a station acts within its county
        (STATION, "330105", False),
        (org("national", "110000"), "440106", True),  # the national seat is in Beijing
        (PROVINCE, "339999", False),  # no such division
    ],
)
def test_jurisdiction_covers_the_regions_under_the_orgs_own(who, region, inside):
    assert within_jurisdiction(who, region) is inside


@pytest.mark.parametrize("region", ["330000", "33", "330106", "330100"])
def test_a_province_may_be_named_by_its_digits_or_any_region_inside_it(region):
    assert list_in_force(ALL, region, "county", date(2025, 6, 1)) == ZJ_1
