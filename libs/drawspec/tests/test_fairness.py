"""Fairness: selection frequencies follow the strata ratios and the weights (§15.1), and the
workload cap spreads team seats evenly (§8.4).

Seeds are fixed (SHA-256 of a counter), so every statistic is the same on every run: these
tests are deterministic, never flaky. Each asserts p > 0.001 against the exact law and also
checks that the same data would reject a wrong law, so the test can fail.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from itertools import permutations

from shuangsui.drawspec.model import Inspector, Ratio, StratumRule, Subject, TeamRule
from shuangsui.drawspec.phase_a import select_subjects
from shuangsui.drawspec.phase_b import assign_teams

ALPHA = 0.001


def chi2_sf(statistic: float, df: int) -> float:
    """Survival function of the chi-square law for integer degrees of freedom (exact series)."""
    half = statistic / 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, df // 2):
            term *= half / i
            total += term
        return math.exp(-half) * total
    total = math.erfc(math.sqrt(half))
    for i in range(1, (df + 1) // 2):
        total += math.exp(-half + (i - 0.5) * math.log(half) - math.lgamma(i + 0.5))
    return total


def chi2_p(observed: dict[object, int], expected: dict[object, float]) -> float:
    statistic = sum((observed.get(k, 0) - e) ** 2 / e for k, e in expected.items())
    return chi2_sf(statistic, len(expected) - 1)


def _seed(i: int) -> bytes:
    return hashlib.sha256(f"fairness-{i}".encode()).digest()


def test_chi2_helper_matches_known_quantiles() -> None:
    # Textbook 0.999 quantiles: df 5 → 20.515, df 9 → 27.877, df 29 → 58.301.
    assert abs(chi2_sf(20.515, 5) - 0.001) < 2e-5
    assert abs(chi2_sf(27.877, 9) - 0.001) < 2e-5
    assert abs(chi2_sf(58.301, 29) - 0.001) < 2e-5
    assert abs(chi2_sf(7.11, 5) - 0.21) < 0.01  # §15.1's reported first-pick statistic


def test_selection_frequencies_match_the_strata_ratios() -> None:
    strata = [StratumRule("A", Ratio("3", "10")), StratumRule("B", 2)]
    manifest = [Subject(f"A-{i}", "A") for i in range(10)] + [
        Subject(f"B-{i}", "B") for i in range(8)
    ]
    draws = 3000
    counts: Counter[str] = Counter()
    for i in range(draws):
        a, b = select_subjects(_seed(i), strata, manifest)
        assert (a.sample_size, b.sample_size) == (3, 2)
        counts.update(a.selected + b.selected)
    for prefix, size, share in (("A", 10, 0.3), ("B", 8, 0.25)):
        observed = {f"{prefix}-{k}": counts[f"{prefix}-{k}"] for k in range(size)}
        expected = {s: draws * share for s in observed}
        assert chi2_p(observed, expected) > ALPHA, observed  # type: ignore[arg-type]
    tilted = {f"A-{k}": draws * (0.2 if k < 5 else 0.4) for k in range(10)}
    observed_a = {f"A-{k}": counts[f"A-{k}"] for k in range(10)}
    assert chi2_p(observed_a, tilted) < ALPHA  # type: ignore[arg-type]


WEIGHTS = {"w1": 1, "w2": 2, "w3": 3, "w5": 5, "w8": 8, "w13": 13}


def _ordered_picks(draws: int) -> list[tuple[str, str]]:
    manifest = [Subject(name, "H", weight=w) for name, w in sorted(WEIGHTS.items())]
    rule = [StratumRule("H", 2)]
    return [select_subjects(_seed(i), rule, manifest)[0].selected for i in range(draws)]  # type: ignore[misc]


def test_weighted_selection_follows_the_exact_probabilities() -> None:
    picks = _ordered_picks(6000)
    total = sum(WEIGHTS.values())
    first = Counter(p[0] for p in picks)
    expected_first = {s: len(picks) * w / total for s, w in WEIGHTS.items()}
    assert chi2_p(first, expected_first) > ALPHA  # type: ignore[arg-type]
    pairs = Counter(picks)
    expected_pairs = {
        (i, j): len(picks) * WEIGHTS[i] / total * WEIGHTS[j] / (total - WEIGHTS[i])
        for i, j in permutations(WEIGHTS, 2)
    }
    assert chi2_p(pairs, expected_pairs) > ALPHA  # type: ignore[arg-type]
    uniform = {s: len(picks) / len(WEIGHTS) for s in WEIGHTS}
    assert chi2_p(first, uniform) < ALPHA  # type: ignore[arg-type]


def _inspectors(n: int) -> list[Inspector]:
    return [Inspector(f"I-{k:02d}", "", ("food",), "2030-01-01") for k in range(n)]


def test_workload_cap_spreads_seats_far_more_evenly_than_rank_alone() -> None:
    team = TeamRule(2, None, "all", "2025-04-15")
    subjects = [Subject(f"S-{k:02d}", "A") for k in range(20)]
    inspectors = _inspectors(10)
    capped_spread, uncapped_spread = [], []
    for i in range(100):
        state = assign_teams(_seed(i), subjects, inspectors, [], team)
        assert state.cap == 4
        relaxed = [a for a in state.assignments if a.cap != state.cap]
        # A load above the cap only ever comes from a visible relaxation (§8.6 step 3).
        assert max(state.loads.values()) <= state.cap + len(relaxed)
        capped_spread.append(max(state.loads.values()) - min(state.loads.values()))
        # Without the cap every subject would take its two top-ranked candidates.
        top = Counter(x for s in subjects for x in state.candidates[s.subject_id][:2])
        loads = [top[i.inspector_id] for i in inspectors]
        uncapped_spread.append(max(loads) - min(loads))
    assert sum(capped_spread) * 3 < sum(uncapped_spread)


def test_workload_cap_bounds_loads_when_seats_do_not_divide() -> None:
    team = TeamRule(3, "food", "all", "2025-04-15")
    subjects = [Subject(f"S-{k:02d}", "A") for k in range(7)]
    inspectors = _inspectors(8)
    for i in range(40):
        state = assign_teams(_seed(i), subjects, inspectors, [], team)
        assert state.cap == 3  # ceil(21 / 8)
        relaxed = sum(a.cap != state.cap for a in state.assignments)
        assert max(state.loads.values()) <= state.cap + relaxed
        assert sum(state.loads.values()) == 21


def test_team_seats_are_spread_uniformly_over_inspectors() -> None:
    team = TeamRule(2, None, "all", "2025-04-15")
    inspectors = _inspectors(6)
    seats: Counter[str] = Counter()
    draws = 3000
    for i in range(draws):
        state = assign_teams(_seed(i), [Subject("S", "A")], inspectors, [], team)
        a = state.assignments[0]
        assert a.lead is not None
        seats.update([a.lead, *a.members])
    expected = {i.inspector_id: draws * 2 / 6 for i in inspectors}
    assert chi2_p(seats, expected) > ALPHA  # type: ignore[arg-type]
