"""Risk-ratio policies (R11): validating a policy, finding the one that applies, and checking a
batch's ratios, counts and frequency against it, all in exact fractions."""

import uuid
from dataclasses import replace

import pytest

from shuangsui.drawspec.model import Ratio
from shuangsui.planning.domain.policies import (
    PLATFORM_DEFAULT_CLASSES,
    BreachRule,
    ClassRule,
    Holder,
    Policy,
    PolicyKey,
    Source,
    check_batch_quantities,
    check_batch_ratios,
    check_frequency,
    platform_default,
    read_class_rule,
    resolve,
    validate_policy,
)

YEAR = 2026
ORG = uuid.UUID("00000000-0000-0000-0000-00000000a001")
ITEM = uuid.UUID("00000000-0000-0000-0000-00000000b001")
OTHER_ITEM = uuid.UUID("00000000-0000-0000-0000-00000000b002")


def r(text: str) -> Ratio:
    a, b = text.split("/")
    return Ratio(a, b)


def rule(low: str, high: str, frequency: int = 1) -> ClassRule:
    return ClassRule(r(low), r(high), frequency)


def policy(**classes: ClassRule) -> Policy:
    return Policy(
        PolicyKey(Holder.province, YEAR, province="33"), {**PLATFORM_DEFAULT_CLASSES, **classes}
    )


DEFAULT = platform_default(YEAR)


# --- the platform default --------------------------------------------------------------------


def test_the_platform_default_is_the_one_of_domain_q3_and_is_itself_valid():
    shown = {
        c: (str(x.min_ratio), str(x.max_ratio), x.frequency_per_year)
        for c, x in DEFAULT.classes.items()
    }

    assert shown == {
        "A": ("0/1", "1/20", 1),
        "B": ("1/20", "1/5", 1),
        "C": ("1/5", "3/5", 2),
        "D": ("3/5", "1/1", 2),
    }
    assert DEFAULT.unclassified_treatment == "B"
    assert validate_policy(DEFAULT) == []


# --- validating a policy ---------------------------------------------------------------------


def rules_broken(p: Policy) -> list[tuple[str, str | None, str]]:
    return [(v.rule, v.risk_class, v.field) for v in validate_policy(p)]


def test_a_class_whose_minimum_exceeds_its_maximum_is_refused_naming_it():
    assert rules_broken(policy(C=rule("1/2", "2/5", 2))) == [
        ("min_above_max", "C", "classes.C.min_ratio"),
    ]


def test_a_ratio_above_one_is_out_of_range():
    assert ("ratio_out_of_range", "D", "classes.D.max_ratio") in rules_broken(
        policy(D=rule("3/5", "3/2", 2))
    )


def test_a_riskier_class_with_a_lower_minimum_than_a_safer_one_is_refused():
    assert rules_broken(policy(A=rule("1/50", "1/20", 1), B=rule("1/100", "1/5", 1))) == [
        ("riskier_class_min_below_safer", "B", "classes.B.min_ratio"),
    ]


def test_a_riskier_class_with_a_lower_maximum_than_a_safer_one_is_refused():
    assert rules_broken(policy(A=rule("0/1", "1/4", 1))) == [
        ("riskier_class_max_below_safer", "B", "classes.B.max_ratio"),
    ]


def test_equal_neighbouring_ranges_are_allowed():
    flat = {c: rule("3/100", "3/100", 1) for c in "ABCD"}

    assert validate_policy(policy(**flat)) == []


def test_a_riskier_class_sampled_less_often_than_a_safer_one_is_refused():
    assert rules_broken(policy(D=rule("3/5", "1/1", 1))) == [
        ("riskier_class_less_frequent", "D", "classes.D.frequency_per_year"),
    ]


def test_a_negative_frequency_is_out_of_range():
    assert ("frequency_out_of_range", "A", "classes.A.frequency_per_year") in rules_broken(
        policy(A=rule("0/1", "1/20", -1))
    )


def test_every_class_must_be_given_and_no_other():
    classes = {c: x for c, x in PLATFORM_DEFAULT_CLASSES.items() if c != "C"}
    classes["E"] = rule("0/1", "1/1")

    broken = rules_broken(Policy(PolicyKey(Holder.province, YEAR, province="33"), classes))

    assert broken == [
        ("class_missing", "C", "classes.C"),
        ("class_unknown", "E", "classes.E"),
    ]


def test_the_unclassified_are_drawn_as_one_of_the_classes():
    odd = replace(DEFAULT, unclassified_treatment="excluded")

    assert rules_broken(odd) == [
        ("unclassified_treatment_not_a_class", None, "unclassified_treatment")
    ]


def test_the_national_default_names_no_item():
    national_item = replace(DEFAULT, key=PolicyKey(Holder.national, YEAR, item_id=ITEM))

    assert rules_broken(national_item) == [("national_item_policy", None, "item_id")]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [("2.5%", "1/5", ("1/40", "1/5")), ("25/1000", "20%", ("1/40", "1/5"))],
)
def test_a_class_rule_reads_percentages_and_fractions_as_reduced_fractions(low, high, expected):
    found, errors = read_class_rule("B", low, high, 1)

    assert errors == []
    assert found is not None
    assert (str(found.min_ratio), str(found.max_ratio)) == expected


def test_a_class_rule_that_is_no_ratio_names_its_field():
    found, errors = read_class_rule("C", "lots", "120%", 2)

    assert found is None
    assert [(e.rule, e.field) for e in errors] == [
        ("ratio_not_valid", "classes.C.min_ratio"),
        ("ratio_not_valid", "classes.C.max_ratio"),
    ]


# --- which policy applies --------------------------------------------------------------------


def held(holder: Holder, **key: object) -> Policy:
    full = {"effective_year": YEAR, **key}
    return Policy(PolicyKey(holder, **full), PLATFORM_DEFAULT_CLASSES)  # type: ignore[arg-type]


NATIONAL = held(Holder.national)
PROVINCE = held(Holder.province, province="33")
ORG_OWN = held(Holder.org, province="33", org_id=ORG)
PROVINCE_ITEM = held(Holder.province, province="33", item_id=ITEM)
ORG_ITEM = held(Holder.org, province="33", org_id=ORG, item_id=ITEM)
ALL = [NATIONAL, PROVINCE, ORG_OWN, PROVINCE_ITEM, ORG_ITEM]


def source_for(candidates, org_id=ORG, item_id=ITEM, year=YEAR, province="33"):
    found, source = resolve(candidates, province=province, org_id=org_id, year=year,
                            item_id=item_id)  # fmt: skip
    return found, source


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (ALL, Source.org_item),
        ([NATIONAL, PROVINCE, ORG_OWN, PROVINCE_ITEM], Source.province_item),
        ([NATIONAL, PROVINCE, ORG_OWN], Source.org),
        ([NATIONAL, PROVINCE], Source.province),
        ([NATIONAL], Source.national),
        ([], Source.platform_default),
    ],
)
def test_the_most_specific_policy_applies(present, expected):
    found, source = source_for(present)

    assert source is expected
    if present:
        assert found in present


def test_policies_of_another_item_org_province_or_year_do_not_apply():
    others = [
        held(Holder.org, province="33", org_id=uuid.uuid4(), item_id=ITEM),
        held(Holder.province, province="33", item_id=OTHER_ITEM),
        held(Holder.province, province="44"),
        held(Holder.province, province="33", effective_year=YEAR - 1),
    ]

    found, source = source_for(others)

    assert source is Source.platform_default
    assert found.classes == PLATFORM_DEFAULT_CLASSES


def test_a_batch_without_an_org_or_item_gets_the_province_policy():
    assert source_for(ALL, org_id=None, item_id=None)[1] is Source.province


# --- a batch's ratios against its policy -----------------------------------------------------


def breaches_of(found):
    return [(b.rule, b.risk_class, b.actual, b.limit) for b in found]


def test_ratios_inside_the_default_ranges_break_nothing():
    ratios = {"A": r("3/100"), "B": r("1/10"), "C": r("3/10"), "D": r("3/5")}

    assert check_batch_ratios(DEFAULT, ratios, {}) == []


def test_a_ratio_below_the_class_minimum_is_a_breach_naming_class_and_numbers():
    found = check_batch_ratios(DEFAULT, {"C": r("3/20")}, {})

    assert breaches_of(found) == [(BreachRule.ratio_below_policy_min, "C", "3/20", "1/5")]


def test_a_ratio_above_the_class_maximum_is_a_breach():
    found = check_batch_ratios(DEFAULT, {"A": r("3/50")}, {})

    assert breaches_of(found) == [(BreachRule.ratio_above_policy_max, "A", "3/50", "1/20")]


def test_the_shared_end_points_of_neighbouring_ranges_belong_to_both():
    assert check_batch_ratios(DEFAULT, {"A": r("1/20"), "B": r("1/20")}, {}) == []


def test_a_riskier_class_at_a_lower_ratio_than_a_safer_one_is_a_breach_naming_both():
    wide = policy(**{c: rule("0/1", "1/1", 2) for c in "ABCD"})

    found = check_batch_ratios(wide, {"A": r("1/10"), "B": r("1/5"), "C": r("3/20")}, {})

    assert breaches_of(found) == [(BreachRule.riskier_class_sampled_less, "C", "3/20", "1/5")]
    assert found[0].safer_class == "B"


def test_an_item_floor_applies_to_every_class_sampled():
    found = check_batch_ratios(DEFAULT, {"A": r("1/50"), "B": r("1/20")}, {ITEM: r("3/100")})

    assert breaches_of(found) == [(BreachRule.below_item_floor, "A", "1/50", "3/100")]
    assert found[0].item_id == ITEM


def test_an_item_floor_met_exactly_is_no_breach():
    assert check_batch_ratios(DEFAULT, {"A": r("3/100")}, {ITEM: r("3/100")}) == []


def test_every_breach_of_a_batch_is_reported_at_once():
    found = check_batch_ratios(DEFAULT, {"A": r("1/100"), "D": r("1/2")}, {ITEM: r("3/100")})

    assert {b.rule for b in found} == {
        BreachRule.below_item_floor,
        BreachRule.ratio_below_policy_min,
    }


# --- counts, once the strata are known -------------------------------------------------------


def test_a_count_is_judged_by_the_draws_ceiling_of_the_policy_ratios():
    # C: 20%–60% of 41 subjects is ceil(8.2) = 9 to ceil(24.6) = 25.
    assert check_batch_quantities(DEFAULT, {"C": 9}, {"C": 41}, {}) == []
    assert check_batch_quantities(DEFAULT, {"C": 25}, {"C": 41}, {}) == []

    too_few = check_batch_quantities(DEFAULT, {"C": 8}, {"C": 41}, {})
    too_many = check_batch_quantities(DEFAULT, {"C": 26}, {"C": 41}, {})

    assert breaches_of(too_few) == [(BreachRule.count_below_policy_min, "C", "8", "9")]
    assert breaches_of(too_many) == [(BreachRule.count_above_policy_max, "C", "26", "25")]
    assert too_few[0].population == 41


def test_a_count_below_the_item_floor_of_its_stratum_is_a_breach():
    # 3% of 200 is 6.
    found = check_batch_quantities(DEFAULT, {"A": 5}, {"A": 200}, {ITEM: r("3/100")})

    assert breaches_of(found) == [(BreachRule.count_below_item_floor, "A", "5", "6")]


def test_a_count_larger_than_its_stratum_takes_the_whole_stratum():
    assert check_batch_quantities(DEFAULT, {"D": 500}, {"D": 10}, {}) == []


def test_a_count_on_an_empty_stratum_breaks_nothing():
    assert check_batch_quantities(DEFAULT, {"D": 1}, {}, {ITEM: r("3/100")}) == []


def test_counts_and_ratios_mixed_compare_their_shares_across_classes():
    wide = policy(**{c: rule("0/1", "1/1", 2) for c in "ABCD"})

    found = check_batch_quantities(wide, {"B": r("1/10"), "C": 4}, {"B": 100, "C": 50}, {})

    assert breaches_of(found) == [(BreachRule.riskier_class_sampled_less, "C", "4/50", "1/10")]


def test_ratios_given_with_the_strata_are_judged_as_ratios():
    found = check_batch_quantities(DEFAULT, {"B": r("1/40")}, {"B": 1000}, {})

    assert breaches_of(found) == [(BreachRule.ratio_below_policy_min, "B", "1/40", "1/20")]


# --- frequency -------------------------------------------------------------------------------


def test_a_batch_within_the_class_frequency_is_allowed():
    assert check_frequency(DEFAULT, "C", batches_already_this_year=1) is None


def test_one_batch_more_than_the_class_frequency_is_a_breach():
    found = check_frequency(DEFAULT, "A", batches_already_this_year=1)

    assert found is not None
    assert (found.rule, found.risk_class, found.actual, found.limit) == (
        BreachRule.frequency_exceeded, "A", "2", "1",
    )  # fmt: skip


def test_a_class_with_frequency_zero_is_not_sampled_at_all():
    never = policy(A=rule("0/1", "0/1", 0))

    assert check_frequency(never, "A", batches_already_this_year=0) is not None


def test_a_breach_says_in_words_which_class_and_numbers_it_concerns():
    [ratio] = check_batch_ratios(DEFAULT, {"C": r("3/20")}, {})
    [count] = check_batch_quantities(DEFAULT, {"C": 8}, {"C": 41}, {})

    assert ratio.detail == "class C: ratio 3/20 is below the policy's minimum 1/5"
    assert count.detail == "class C: 8 of 41 is below the policy's minimum 1/5, which takes 9"
