"""A batch's preview: the registry questions its scope needs, and what the draw would take from
the answers — exact for one item, a range for several (their subjects may overlap), the
unclassified counted where the draw puts them, R12's ceiling and a count capped at its stratum."""

from dataclasses import replace
from datetime import date
from uuid import UUID

import pytest

from shuangsui.drawspec.model import Ratio
from shuangsui.planning.api.batches_preview import BatchPreviewOut
from shuangsui.planning.domain.batch_preview import (
    QUERY_CAP,
    Counted,
    CountQuery,
    PreviewTooBroad,
    combine,
    count_queries,
)
from shuangsui.planning.domain.batches import (
    BatchDraft,
    DrawMode,
    ExclusionReason,
    ExclusionRule,
    Method,
    Scope,
    SelectionMode,
)

FOOD = UUID("00000000-0000-4000-8000-000000000f01")
LABEL = UUID("00000000-0000-4000-8000-000000000f02")

DRAFT = BatchDraft(
    name="2026年第一批餐饮服务单位双随机抽查",
    item_ids=(FOOD,),
    scope=Scope(region_codes=("330106", "330108")),
    quantity={"A": "3%", "B": "10%", "C": "30%", "D": 20},
    window_start=date(2026, 4, 1),
    window_end=date(2026, 6, 30),
    methods=(Method.on_site,),
    selection_mode=SelectionMode.bureau_wide,
)


def directed(**scope: object) -> BatchDraft:
    return replace(DRAFT, draw_mode=DrawMode.directed, scope=replace(DRAFT.scope, **scope))


def answer(query, method="index", classification=3, reclassifying=False, **by_class):
    counts = {"A": 0, "B": 0, "C": 0, "D": 0, "unclassified": 0, **by_class}
    return Counted(query, counts, method, classification, reclassifying)


def answers(draft, counts, **options):
    """The registry's answers to `draft`'s questions: `counts[i]` for the i-th question."""
    return [answer(q, **options, **c) for q, c in zip(count_queries(draft), counts, strict=True)]


def stratum(preview, name):
    [found] = [s for s in preview.strata if s.stratum == name]
    return found


# ---- the questions --------------------------------------------------------------------------


def test_an_undirected_batch_asks_once_per_item_and_region():
    draft = replace(DRAFT, item_ids=(FOOD, LABEL))

    asked = count_queries(draft)

    assert asked == (
        CountQuery(FOOD, "330106", None, None, (), "general"),
        CountQuery(FOOD, "330108", None, None, (), "general"),
        CountQuery(LABEL, "330106", None, None, (), "general"),
        CountQuery(LABEL, "330108", None, None, (), "general"),
    )


def test_a_directed_batch_asks_per_subject_type_and_industry_with_its_tags():
    draft = directed(
        subject_types=("enterprise", "individual"), industry_codes=("H62", "F52"),
        tag_filters=("format:餐饮服务", "carrier:网络"),
    )  # fmt: skip
    draft = replace(draft, risk_domain="food", scope=replace(draft.scope, region_codes=("330106",)))

    asked = count_queries(draft)

    assert [(q.subject_type, q.industry_code) for q in asked] == [
        ("enterprise", "H62"), ("enterprise", "F52"), ("individual", "H62"), ("individual", "F52"),
    ]  # fmt: skip
    assert {(q.tags, q.domain) for q in asked} == {(("format:餐饮服务", "carrier:网络"), "food")}


def test_a_region_or_industry_inside_another_named_is_not_counted_twice():
    draft = directed(region_codes=("330106", "330100", "330281"), industry_codes=("H6210", "H62"))

    asked = count_queries(draft)

    assert [(q.region_code, q.industry_code) for q in asked] == [
        ("330100", "H62"),
        ("330281", "H62"),
    ], "330106 lies in 330100, H6210 under H62: both are counted with the wider code"


def test_a_scope_needing_more_counts_than_the_cap_is_refused_naming_the_product():
    regions = tuple(f"3301{n:02d}" for n in (2, 5, 6, 8, 9, 10, 11, 12))
    draft = directed(
        region_codes=regions, subject_types=("enterprise", "individual"),
        industry_codes=("H62", "F52"),
    )  # fmt: skip
    draft = replace(draft, item_ids=(FOOD, LABEL, UUID(int=3)))

    with pytest.raises(PreviewTooBroad) as refused:
        count_queries(draft)

    assert refused.value.product == 3 * 8 * 2 * 2 > QUERY_CAP
    assert "3 items × 8 regions × 2 subject types × 2 industries = 96" in str(refused.value)
    assert len(count_queries(draft, cap=96)) == 96, "at the cap it is asked"


# ---- one item: exact -------------------------------------------------------------------------


def test_one_item_sums_its_regions_and_takes_the_ceiling_of_each_stratum():
    counted = answers(DRAFT, [{"A": 40, "B": 55, "C": 7, "D": 1}, {"A": 27, "B": 46, "C": 3}])

    preview = combine(DRAFT, counted)

    assert preview.exact
    assert [(s.stratum, s.population_min, s.population_max) for s in preview.strata] == [
        ("A", 67, 67), ("B", 101, 101), ("C", 10, 10), ("D", 1, 1),
    ]  # fmt: skip
    # ceil(3% × 67) = 3, ceil(10% × 101) = 11, ceil(30% × 10) = 3; a count of 20 of 1 is 1.
    assert [s.expected_sample_max for s in preview.strata] == [3, 11, 3, 1]
    assert [s.expected_sample_min for s in preview.strata] == [3, 11, 3, 1]
    assert stratum(preview, "A").rule == Ratio("3", "100")
    assert stratum(preview, "D").rule == 20
    assert (preview.population_min, preview.population_max) == (179, 179)
    assert (preview.expected_sample_min, preview.expected_sample_max) == (18, 18)


def test_the_ceiling_is_taken_of_the_whole_stratum_not_of_each_region():
    counted = answers(DRAFT, [{"A": 1}, {"A": 1}])

    preview = combine(DRAFT, counted)

    assert stratum(preview, "A").expected_sample_max == 1, "ceil(3% × 2), not 1 + 1"


def test_a_count_is_capped_at_its_stratum():
    draft = replace(DRAFT, quantity={"A": 5, "B": 5, "C": 5, "D": 0})
    counted = answers(draft, [{"A": 2, "B": 9, "D": 4}, {"C": 5}])

    preview = combine(draft, counted)

    assert [s.expected_sample_max for s in preview.strata] == [2, 5, 5, 0]


def test_the_unclassified_are_counted_in_class_b_by_default():
    counted = answers(DRAFT, [{"B": 10, "unclassified": 5}, {"unclassified": 1}])

    preview = combine(DRAFT, counted)

    assert stratum(preview, "B").population_max == 16
    assert preview.unclassified_drawn_as == "B"


def test_the_unclassified_go_to_the_class_the_province_draws_them_as():
    counted = answers(DRAFT, [{"B": 10, "unclassified": 5}, {}])

    preview = combine(DRAFT, counted, unclassified_drawn_as="C")

    assert (stratum(preview, "B").population_max, stratum(preview, "C").population_max) == (10, 5)


def test_only_drawn_strata_are_previewed_and_unclassified_left_undrawn_are_said():
    draft = directed(risk_classes=("C", "D"))
    draft = replace(draft, quantity={"C": "50%", "D": "100%"})
    counted = answers(draft, [{"A": 9, "B": 9, "C": 3, "D": 1, "unclassified": 4}, {}])

    preview = combine(draft, counted)

    assert [s.stratum for s in preview.strata] == ["C", "D"]
    assert (preview.population_max, preview.expected_sample_max) == (4, 3)
    assert any("4 unclassified subjects are drawn as class B" in w for w in preview.warnings)


def test_unclassified_left_undrawn_by_several_items_are_said_as_a_range():
    draft = directed(risk_classes=("A",), region_codes=("330106",))
    draft = replace(draft, item_ids=(FOOD, LABEL), quantity={"A": "50%"})
    counted = answers(draft, [{"unclassified": 1}, {"unclassified": 2}])

    preview = combine(draft, counted)

    assert any(w.startswith("2–3 unclassified subjects") for w in preview.warnings)


# ---- several items: bounded -------------------------------------------------------------------


def test_several_items_give_each_stratum_between_the_largest_item_and_the_sum():
    draft = replace(DRAFT, item_ids=(FOOD, LABEL), scope=Scope(region_codes=("330106",)))
    counted = answers(draft, [{"A": 30, "B": 100}, {"A": 50, "B": 20, "unclassified": 10}])

    preview = combine(draft, counted)

    assert not preview.exact
    a, b = stratum(preview, "A"), stratum(preview, "B")
    assert (a.population_min, a.population_max) == (50, 80)
    assert (b.population_min, b.population_max) == (100, 130)
    # ceil(3% × 50) = 2 … ceil(3% × 80) = 3; ceil(10% × 100) = 10 … ceil(10% × 130) = 13.
    assert (a.expected_sample_min, a.expected_sample_max) == (2, 3)
    assert (b.expected_sample_min, b.expected_sample_max) == (10, 13)
    assert (preview.population_min, preview.population_max) == (150, 210)
    assert any("several items" in w for w in preview.warnings)


# ---- how the registry counted -----------------------------------------------------------------


def test_the_method_is_index_only_when_every_count_was():
    indexed = combine(DRAFT, answers(DRAFT, [{"A": 1}, {"A": 1}]))
    counted = answers(DRAFT, [{"A": 1}, {"A": 1}])
    mixed = combine(DRAFT, [counted[0], replace(counted[1], method="scan")])

    assert indexed.method == "index"
    assert mixed.method == "scan"
    assert [c.method for c in mixed.counts] == ["index", "scan"]


def test_counts_of_two_classifications_are_flagged_as_straddling_one():
    counted = answers(DRAFT, [{"A": 1}, {"A": 1}])
    straddling = [counted[0], replace(counted[1], classification=4, reclassifying=True)]

    preview = combine(DRAFT, straddling)

    assert preview.classifications == (3, 4)
    assert preview.classification == 4
    assert preview.reclassifying
    assert any("straddle a re-classification" in w for w in preview.warnings)


def test_one_classification_and_no_reclassification_warns_of_nothing():
    preview = combine(DRAFT, answers(DRAFT, [{"A": 1}, {"B": 2}]))

    assert (preview.classifications, preview.reclassifying, preview.warnings) == ((3,), False, ())


def test_an_exclusion_policy_is_said_to_be_applied_later():
    draft = replace(DRAFT, exclusion_policy=(ExclusionRule(ExclusionReason.DEREGISTERED),))

    preview = combine(draft, answers(draft, [{"A": 1}, {}]))

    assert any("exclusion policy" in w for w in preview.warnings)


def test_drawing_the_unclassified_as_no_class_is_refused():
    with pytest.raises(ValueError, match="A–D"):
        combine(DRAFT, answers(DRAFT, [{}, {}]), unclassified_drawn_as="unclassified")


# ---- the answer's shape -------------------------------------------------------------------------


def test_the_answer_gives_single_numbers_only_when_exact():
    exact = BatchPreviewOut.of(combine(DRAFT, answers(DRAFT, [{"A": 40}, {"D": 3}])))
    several = replace(DRAFT, item_ids=(FOOD, LABEL), scope=Scope(region_codes=("330106",)))
    bounded = BatchPreviewOut.of(combine(several, answers(several, [{"A": 40}, {"A": 10}])))

    assert (exact.population, exact.expected_sample) == (43, 2 + 3)
    assert [(s.stratum, s.ratio, s.count) for s in exact.strata][::3] == [
        ("A", "3/100", None), ("D", None, 20),
    ]  # fmt: skip
    assert (bounded.population, bounded.expected_sample) == (None, None)
    assert (bounded.population_min, bounded.population_max) == (40, 50)
    assert bounded.strata[0].population is None


def test_the_documented_example_is_a_valid_answer():
    [example] = BatchPreviewOut.model_config["json_schema_extra"]["examples"]

    answer = BatchPreviewOut.model_validate(example)

    assert answer.expected_sample == sum(s.expected_sample for s in answer.strata)
    assert answer.population == sum(c.total for c in answer.counts)
