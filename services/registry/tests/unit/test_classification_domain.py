"""Tag rules, item scopes and population-count arithmetic: pure rules, no I/O."""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shuangsui.registry.domain.classification import Classifier, ItemScope
from shuangsui.registry.domain.population import (
    ALL,
    Placement,
    by_risk_class,
    count_changes,
    nonzero,
)
from shuangsui.registry.domain.subjects import SubjectType
from shuangsui.registry.domain.tags import (
    Condition,
    TagDimension,
    TagInput,
    TagRule,
    TagRules,
    parse_tag,
    rule_from_json,
    rule_problems,
    rule_to_json,
    tags_by_dimension,
)

RULES = TagRules(
    version=3,
    rules=(
        TagRule(TagDimension.business_format, "餐饮服务", Condition(industry_code_prefixes=("H62",))),
        TagRule(TagDimension.business_format, "食品销售", Condition(licence_types=("食品经营许可证",))),
        TagRule(TagDimension.category, "食品", Condition(scope_keywords=("食品", "预包装"))),
        TagRule(TagDimension.carrier, "网络", Condition(has_online_shop=True)),
        TagRule(TagDimension.carrier, "实体", Condition(has_online_shop=False)),
        TagRule(
            TagDimension.scale, "小微",
            Condition(subject_types=(SubjectType.enterprise,), capital_wan_max=Decimal(100)),
        ),
        TagRule(TagDimension.scale, "大型", Condition(capital_wan_min=Decimal(5000))),
    ),
)  # fmt: skip


def subject(**fields: object) -> TagInput:
    values: dict[str, object] = {
        "subject_type": "enterprise", "industry_code": "F5123", "licence_types": frozenset(),
        "business_scope": None, "has_online_shop": False, "capital_wan": None,
        "employee_band": None, **fields,
    }  # fmt: skip
    return TagInput(**values)  # type: ignore[arg-type]


def test_every_rule_that_holds_adds_its_tag_and_tags_are_sorted():
    tags = RULES.tags_of(
        subject(
            industry_code="H6210",
            licence_types=frozenset({"食品经营许可证"}),
            business_scope="预包装食品销售",
            has_online_shop=True,
            capital_wan=Decimal("50"),
        )
    )
    assert tags == (
        "carrier:网络",
        "category:食品",
        "format:食品销售",
        "format:餐饮服务",
        "scale:小微",
    )


def test_capital_bounds_are_inclusive_below_exclusive_above_and_need_a_capital():
    assert "scale:小微" not in RULES.tags_of(subject(capital_wan=Decimal(100)))
    assert "scale:小微" in RULES.tags_of(subject(capital_wan=Decimal("99.99")))
    assert "scale:大型" in RULES.tags_of(subject(capital_wan=Decimal(5000)))
    assert not {"scale:小微", "scale:大型"} & set(RULES.tags_of(subject(capital_wan=None)))
    assert "scale:小微" not in RULES.tags_of(
        subject(subject_type="individual", capital_wan=Decimal(1))
    )


def test_rules_that_cannot_be_saved_are_named_by_index_and_field():
    problems = rule_problems(
        [
            TagRule(TagDimension.carrier, "网络", Condition()),
            TagRule(TagDimension.scale, " 大 ", Condition(capital_wan_min=Decimal(9), capital_wan_max=Decimal(1))),
            TagRule(TagDimension.category, "食品", Condition(industry_code_prefixes=("",))),
        ]
    )  # fmt: skip
    assert {(p.index, p.field) for p in problems} == {
        (0, "when"), (1, "value"), (1, "when.capital_wan_max"), (2, "when.industry_code_prefixes"),
    }  # fmt: skip
    assert rule_problems(RULES.rules) == []


def test_rules_survive_their_stored_form():
    for rule in RULES.rules:
        assert rule_from_json(rule_to_json(rule)) == rule


def test_tag_filters_name_a_dimension():
    assert parse_tag("format:餐饮服务") == "format:餐饮服务"
    assert parse_tag("colour:红") is None
    assert parse_tag("format:") is None
    assert parse_tag("餐饮服务") is None
    assert tags_by_dimension(["carrier:网络", "format:餐饮服务"]) == {
        "format": ["餐饮服务"], "category": [], "carrier": ["网络"], "scale": [],
    }  # fmt: skip


def test_an_item_needs_its_type_and_one_tag_of_each_dimension_it_names():
    item = ItemScope(
        uuid.uuid4(), "X-1", frozenset({"enterprise"}),
        frozenset({"format:餐饮服务", "format:食品销售", "carrier:网络"}),
    )  # fmt: skip
    assert item.covers("enterprise", frozenset({"format:食品销售", "carrier:网络"}))
    assert not item.covers("enterprise", frozenset({"format:食品销售", "carrier:实体"}))
    assert not item.covers("individual", frozenset({"format:餐饮服务", "carrier:网络"}))
    untagged = ItemScope(uuid.uuid4(), "X-2", frozenset({"individual"}))
    assert untagged.covers("individual", frozenset())
    assert ItemScope.from_snapshot(item.snapshot()) == item


def test_the_classifier_numbers_items_and_maps_numbers_back():
    food, any_enterprise = uuid.uuid4(), uuid.uuid4()
    classifier = Classifier(
        version=5,
        rules=RULES,
        items=(
            ItemScope(food, "F", frozenset({"enterprise"}), frozenset({"format:餐饮服务"})),
            ItemScope(any_enterprise, "E", frozenset({"enterprise"})),
        ),
        item_keys={food: 7, any_enterprise: 2},
    )
    verdict = classifier.classify(subject(industry_code="H6210"))
    assert verdict.item_keys == (2, 7)
    assert classifier.item_ids(verdict.item_keys) == [any_enterprise, food]
    assert classifier.classify(subject()).item_keys == (2,)


def test_a_subject_counts_once_per_item_plus_once_per_class_it_holds():
    p = Placement(True, "330106", ("format:餐饮服务",), (1, 2), {"general": "B", "food": "C"})
    assert len(p.keys()) == 6
    assert Placement(False, "330106", (), (1,), {"general": "A"}).keys() == []


def test_unclassified_is_the_total_less_the_classes_held_in_the_domain():
    rows = [(ALL, ALL, 10), ("general", "A", 3), ("general", "D", 1), ("food", "B", 4)]
    assert by_risk_class(rows, "general") == {"A": 3, "B": 0, "C": 0, "D": 1, "unclassified": 6}
    assert by_risk_class(rows, "food") == {"A": 0, "B": 4, "C": 0, "D": 0, "unclassified": 6}


placements = st.builds(
    Placement,
    st.booleans(),
    st.sampled_from(["330106", "330881", "330802"]),
    st.sampled_from([(), ("carrier:网络",), ("carrier:实体", "format:餐饮服务")]),
    st.lists(st.integers(1, 4), unique=True, max_size=3).map(lambda keys: tuple(sorted(keys))),
    st.dictionaries(st.sampled_from(["general", "food"]), st.sampled_from("ABCD"), max_size=2),
)


@given(st.lists(st.one_of(st.none(), placements), min_size=1, max_size=8))
def test_a_history_of_moves_adds_up_to_the_final_placement(history):
    counts: Counter = Counter()
    for before, after in zip([None, *history], history, strict=False):
        count_changes(before, after, counts)
    final = Counter(history[-1].keys()) if history[-1] else Counter()
    assert dict(nonzero(counts)) == dict(final)
