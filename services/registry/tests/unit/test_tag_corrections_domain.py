"""Tag corrections (标签纠正): what a correction does to the rules' tags, how the classifier
applies it, which proposals are refused and how a correction's state moves. No I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shuangsui.registry.domain.classification import Classifier, ItemScope
from shuangsui.registry.domain.tag_corrections import (
    Correction,
    CorrectionStatus,
    Decision,
    NotProposed,
    TagCorrection,
    pointless,
    proposal_problems,
)
from shuangsui.registry.domain.tags import Condition, TagDimension, TagInput, TagRule, TagRules

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
RESTAURANTS = uuid.uuid4()
FOOD_SHOPS = uuid.uuid4()
RULES = TagRules(
    version=2,
    rules=(
        TagRule(TagDimension.business_format, "食品销售", Condition(industry_code_prefixes=("F52",))),
        TagRule(TagDimension.carrier, "实体", Condition(has_online_shop=False)),
    ),
)  # fmt: skip
CLASSIFIER = Classifier(
    version=5,
    rules=RULES,
    items=(
        ItemScope(RESTAURANTS, "R", frozenset({"enterprise"}), frozenset({"format:餐饮服务"})),
        ItemScope(FOOD_SHOPS, "F", frozenset({"enterprise"}), frozenset({"format:食品销售"})),
    ),
    item_keys={RESTAURANTS: 1, FOOD_SHOPS: 2},
)
CORRECTED = "91330106000000001X"
SERVES_MEALS = Correction(add=frozenset({"format:餐饮服务"}), remove=frozenset({"format:食品销售"}))


def shop(uscc: str = CORRECTED) -> TagInput:
    return TagInput(
        subject_type="enterprise", industry_code="F5221", licence_types=frozenset(),
        business_scope=None, has_online_shop=False, capital_wan=None, employee_band=None,
        uscc=uscc,
    )  # fmt: skip


def proposal(**fields: object) -> TagCorrection:
    values: dict[str, object] = {
        "correction_id": uuid.uuid4(), "uscc": CORRECTED, "status": CorrectionStatus.proposed,
        "add": ("format:餐饮服务",), "remove": ("format:食品销售",), "reason": "现场核查",
        "proposed_by": "station-1", "proposed_at": NOW, **fields,
    }  # fmt: skip
    return TagCorrection(**values)  # type: ignore[arg-type]


def test_a_correction_removes_then_adds_to_the_rules_tags():
    rule_tags = ("carrier:实体", "format:食品销售")
    assert SERVES_MEALS.applied_to(rule_tags) == ("carrier:实体", "format:餐饮服务")
    assert Correction().applied_to(rule_tags) == rule_tags
    assert Correction(add=frozenset({"carrier:实体"})).applied_to(()) == ("carrier:实体",), (
        "a tag the rules did not give is added"
    )


def test_the_classifier_applies_the_correction_in_force_and_items_follow():
    classifier = CLASSIFIER.correcting(CORRECTED, SERVES_MEALS)
    corrected = classifier.classify(shop())
    assert corrected.tags == ("carrier:实体", "format:餐饮服务")
    assert corrected.item_keys == (1,), "the restaurant item now, no longer the food-shop one"

    neighbour = classifier.classify(shop("91330106000000002X"))
    assert neighbour.tags == ("carrier:实体", "format:食品销售"), "only the corrected subject"
    assert neighbour.item_keys == (2,)


def test_a_correction_applies_under_new_rules_too():
    newer = Classifier(
        version=6,
        rules=TagRules(3, (*RULES.rules, TagRule(TagDimension.scale, "小微", Condition(subject_types=())))),
        items=CLASSIFIER.items,
        item_keys=CLASSIFIER.item_keys,
        corrections={CORRECTED: SERVES_MEALS},
    )  # fmt: skip
    assert "format:食品销售" not in newer.classify(shop()).tags
    assert "format:餐饮服务" in newer.classify(shop()).tags


def test_correcting_replaces_or_lifts_without_touching_the_original():
    other = Correction(add=frozenset({"carrier:网络"}))
    with_one = CLASSIFIER.correcting(CORRECTED, SERVES_MEALS)
    replaced = with_one.correcting(CORRECTED, other)
    assert replaced.corrections == {CORRECTED: other}
    assert with_one.corrections == {CORRECTED: SERVES_MEALS}, "classifiers are values"
    lifted = with_one.correcting(CORRECTED, None)
    assert lifted.classify(shop()) == CLASSIFIER.classify(shop())


def test_refreshed_takes_what_is_in_force_now_for_the_named_subjects_only():
    elsewhere = "91330106000000002X"
    held = CLASSIFIER.correcting(CORRECTED, SERVES_MEALS).correcting(elsewhere, SERVES_MEALS)
    assert held.refreshed([CORRECTED], {CORRECTED: SERVES_MEALS}) is held, "nothing new: same"
    lifted = held.refreshed([CORRECTED], {})
    assert lifted.corrections == {elsewhere: SERVES_MEALS}, "lifted meanwhile; others kept"
    approved = CLASSIFIER.refreshed([CORRECTED, elsewhere], {CORRECTED: SERVES_MEALS})
    assert approved.corrections == {CORRECTED: SERVES_MEALS}
    assert approved.classify(shop()).tags != CLASSIFIER.classify(shop()).tags


def test_tag_input_carries_the_uscc_of_what_it_reads():
    class Stored:
        uscc = CORRECTED
        subject_type = "enterprise"
        industry_code = "F5221"
        licences = ({"type": "食品经营许可证"},)
        business_scope = None
        online_shops = ()
        registered_capital_wan = None
        employee_band = None

    read = TagInput.of(Stored())
    assert read.uscc == CORRECTED
    assert CLASSIFIER.correcting(CORRECTED, SERVES_MEALS).classify(read).item_keys == (1,)


def test_proposals_name_every_bad_tag_by_field():
    problems = proposal_problems(
        ["colour:红", "format:餐饮服务", "format", "format:餐饮服务", "scale: 大"],
        ["format:餐饮服务", "category:a:b"],
        " ",
    )
    fields = {p.field for p in problems}
    assert fields == {
        "add[0]", "add[2]", "add[3]", "add[4]", "remove[0]", "remove[1]", "reason",
    }  # fmt: skip


def test_a_sound_proposal_has_no_problems():
    assert proposal_problems(["format:餐饮服务"], ["format:食品销售"], "现场核查") == []
    assert proposal_problems([], [], "恢复规则标签") == []


def test_too_many_tags_and_a_long_reason_are_refused():
    many = [f"format:业态{n}" for n in range(21)]
    fields = {p.field for p in proposal_problems(many, [], "x" * 501)}
    assert fields == {"add", "reason"}


def test_an_empty_correction_only_lifts_one_in_force():
    assert pointless([], [], None)
    in_force = proposal(status=CorrectionStatus.approved, in_force=True)
    assert not pointless([], [], in_force)
    assert not pointless(["format:餐饮服务"], [], None)


@pytest.mark.parametrize(
    ("decision", "status", "in_force"),
    [
        (Decision.approve, CorrectionStatus.approved, True),
        (Decision.reject, CorrectionStatus.rejected, False),
        (Decision.withdraw, CorrectionStatus.withdrawn, False),
    ],
)
def test_a_proposed_correction_moves_once(decision, status, in_force):
    decided = proposal().decided(decision, "reviewer-1", NOW, "ok")
    assert (decided.status, decided.in_force) == (status, in_force)
    assert (decided.decided_by, decided.decided_at, decided.decision_note) == (
        "reviewer-1", NOW, "ok",
    )  # fmt: skip
    for again in Decision:
        with pytest.raises(NotProposed):
            decided.decided(again, "reviewer-2", NOW, "")


def test_an_approved_lifting_correction_leaves_none_in_force():
    lifting = proposal(add=(), remove=())
    assert lifting.lifts
    assert not lifting.decided(Decision.approve, "reviewer-1", NOW, "").in_force
