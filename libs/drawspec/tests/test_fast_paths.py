"""The fast paths of phase A give exactly the reference results (§7.2, §7.3).

`first_ranked` / `select_entries` (the large-stratum Python path) against `ranked` /
`select_stratum`, on generated strata with weights 1..1000, non-ASCII and prefix ids.
"""

from __future__ import annotations

import hashlib
import random

import pytest

from shuangsui.drawspec.model import Ratio, StratumRule, Subject
from shuangsui.drawspec.phase_a import first_ranked, ranked, select_entries, select_stratum

SUFFIXES = ("", "-分店", "\U0001f600", "\uff21", "é", "e\u0301", "\t\\", "\n", "X")


def generated_stratum(rng: random.Random, size: int, max_weight: int) -> list[Subject]:
    subjects = {}
    while len(subjects) < size:
        subject_id = f"{rng.randrange(10**6)}{rng.choice(SUFFIXES)}"
        weight = 1 if rng.random() < 0.4 else rng.randint(1, max_weight)
        subjects[subject_id] = Subject(subject_id, "S", weight=weight)
    return list(subjects.values())


@pytest.mark.parametrize("case", range(12))
def test_first_ranked_is_a_prefix_of_the_reference_ranking(case: int) -> None:
    rng = random.Random(case)
    seed = hashlib.sha256(f"fast path {case}".encode()).digest()
    members = generated_stratum(rng, rng.randint(0, 400), (1, 2, 17, 50, 1000)[case % 5])
    expected = ranked(seed, members)
    entries = [(s.subject_id, s.weight) for s in members]
    for count in (0, 1, len(members) // 3, len(members), len(members) + 1):
        assert first_ranked(seed, entries, count) == expected[:count]


@pytest.mark.parametrize("case", range(12))
def test_select_entries_equals_select_stratum(case: int) -> None:
    rng = random.Random(1000 + case)
    seed = bytes(rng.randrange(256) for _ in range(32))
    members = generated_stratum(rng, rng.randint(0, 300), (1, 10, 50)[case % 3])
    for rule in (
        StratumRule("S", Ratio("3", "100")),
        StratumRule("S", Ratio("1", "3")),
        StratumRule("S", Ratio("1", "1")),
        StratumRule("S", Ratio("0", "1")),
        StratumRule("S", 7),
        StratumRule("S", 10**6),
    ):
        entries = [(s.subject_id, s.weight) for s in members]
        assert select_entries(seed, rule, entries) == select_stratum(seed, rule, members)


def test_weights_outside_the_table_use_the_reference_key() -> None:
    """Weights above 1000 are invalid input, but the fast path still agrees with `ranked`."""
    seed = bytes(32)
    members = [Subject("a", "S", weight=1001), Subject("b", "S", weight=1), Subject("c", "S")]
    entries = [(s.subject_id, s.weight) for s in members]
    assert first_ranked(seed, entries, 3) == ranked(seed, members)
