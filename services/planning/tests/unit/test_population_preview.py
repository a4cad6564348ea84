"""A preview shows each risk-class stratum and what the draw would take from it: the ceiling
of ratio × population (R12), unclassified subjects drawn as class B (R11), ratios written as
the reduced fractions of the draw specification (Appendix B.4)."""

import pytest

from shuangsui.drawspec.model import Ratio
from shuangsui.planning.domain.population import (
    RatioNotValid,
    parse_ratio,
    preview_strata,
    strata_of,
)


@pytest.mark.parametrize(
    ("written", "reduced"),
    [("3%", "3/100"), ("2.5%", "1/40"), ("20%", "1/5"), ("100%", "1/1"), ("0%", "0/1"),
     ("25/1000", "1/40"), (" 1/20 ", "1/20")],
)  # fmt: skip
def test_a_ratio_is_written_as_the_reduced_fraction_the_draw_commits_to(written, reduced):
    assert str(parse_ratio(written)) == reduced


@pytest.mark.parametrize("written", ["150%", "3/2", "1/0", "five percent", "-3%", "", "3e2%"])
def test_a_share_outside_0_to_100_percent_or_unreadable_is_refused(written):
    with pytest.raises(RatioNotValid):
        parse_ratio(written)


def test_unclassified_subjects_are_drawn_in_class_b():
    counts = {"A": 10, "B": 100, "C": 5, "unclassified": 7}

    assert strata_of(counts) == {"A": 10, "B": 107, "C": 5, "D": 0}


def test_the_expected_sample_is_the_ceiling_of_ratio_times_population():
    counts = {"A": 8, "B": 21, "C": 4, "D": 0}
    ratios = {"A": Ratio("1", "5"), "B": Ratio("1", "10"), "C": Ratio("3", "5")}

    taken = {s.stratum: s.expected_sample for s in preview_strata(counts, ratios)}

    # As DRAW_SPEC's worked example: ceil(8/5) = 2, ceil(21/10) = 3, ceil(12/5) = 3.
    assert taken == {"A": 2, "B": 3, "C": 3, "D": None}


def test_a_ratio_of_all_takes_the_whole_stratum_and_an_empty_stratum_gives_nothing():
    counts = {"A": 0, "D": 9}
    ratios = {"A": Ratio("1", "2"), "D": Ratio("1", "1")}

    taken = {s.stratum: s.expected_sample for s in preview_strata(counts, ratios)}

    assert taken["A"] == 0
    assert taken["D"] == 9
