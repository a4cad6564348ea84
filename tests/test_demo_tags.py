"""The demo province under the demo tag rules tags like a real one: in memory, as a push would.

Each demo row is read by the registry's own push reader and tagged by the rules the demo loader
saves (`demo_catalogue.TAG_RULES`), so what the items of the demo list find is what these
tests see.
"""

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from shuangsui.devstack.demo import FOOD_LICENCES, DemoProvince
from shuangsui.devstack.demo_catalogue import ITEMS, TAG_RULES
from shuangsui.registry.domain.subjects import Subject, read_row
from shuangsui.registry.domain.tags import TagInput, rule_problems, rules_from_json

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RULES = rules_from_json(1, TAG_RULES)
FOOD_FORMATS = {"format:食品生产", "format:食品销售", "format:餐饮服务"}

Tagged = list[tuple[dict[str, Any], tuple[str, ...]]]


def tagged(demo: DemoProvince) -> Tagged:
    """Every demo row with the tags the registry would give it on arrival."""
    out = []
    for line, row in enumerate(demo.subject_rows(), start=1):
        subject = read_row(row, line, NOW, demo.province)
        assert isinstance(subject, Subject), subject
        out.append((row, RULES.tags_of(TagInput.of(subject))))
    return out


@pytest.fixture(scope="module")
def province() -> Tagged:
    return tagged(DemoProvince(subjects=3000))


def of_dimension(tags: tuple[str, ...], dimension: str) -> list[str]:
    return [t for t in tags if t.startswith(f"{dimension}:")]


def is_food_licensee(row: dict[str, Any]) -> bool:
    return any(licence["type"] in FOOD_LICENCES for licence in row["licences"])


def test_the_demo_rules_are_a_rule_set_the_registry_accepts():
    assert rule_problems(RULES.rules) == []


def test_every_subject_has_exactly_one_carrier_and_about_one_in_seven_sells_online(province):
    carriers = [of_dimension(tags, "carrier") for _, tags in province]
    assert {len(c) for c in carriers} == {1}, "实体 or 网络, never both, never neither"
    online = sum(c == ["carrier:网络"] for c in carriers) / len(carriers)
    assert 0.10 < online < 0.20


def test_most_subjects_have_a_business_format_and_no_format_dominates(province):
    formats = Counter(t for _, tags in province for t in of_dimension(tags, "format"))
    with_format = sum(bool(of_dimension(tags, "format")) for _, tags in province)
    assert with_format / len(province) > 0.8
    assert len(formats) >= 8, "the demo spans the trades the items name"
    assert max(formats.values()) / len(province) < 0.5, formats.most_common(3)


def test_food_licensees_and_only_they_carry_the_food_category(province):
    food = [(row, tags) for row, tags in province if is_food_licensee(row)]
    assert food, "the demo has food businesses"
    assert all("category:食品" in tags for _, tags in food)
    assert all(FOOD_FORMATS & set(tags) for _, tags in food), "a food licensee has a food trade"
    others = [tags for row, tags in province if not is_food_licensee(row)]
    assert not any("category:食品" in tags for tags in others)


def test_every_subject_has_one_scale_and_individuals_are_individual(province):
    for row, tags in province:
        scales = of_dimension(tags, "scale")
        assert len(scales) == 1, (row["uscc"], scales)
        assert (scales == ["scale:个体"]) is (row["subject_type"] == "individual"), row["uscc"]


def test_every_tag_an_item_of_the_demo_list_asks_for_is_carried_by_some_subject(province):
    carried = {t for _, tags in province for t in tags}
    asked = {tag for item in ITEMS for tag in item["subject_tags"]}
    assert asked <= carried, sorted(asked - carried)


def test_the_same_seed_tags_the_same_and_another_seed_differently():
    assert tagged(DemoProvince(subjects=300)) == tagged(DemoProvince(subjects=300))
    first = [tags for _, tags in tagged(DemoProvince(subjects=300))]
    other = [tags for _, tags in tagged(DemoProvince(subjects=300, seed=7))]
    assert first != other
