"""§6–§7: seed, sample sizes, ticket keys, selection order and the result hash."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from shuangsui.drawspec.encoding import StreamHash, tagged_hash, u32be
from shuangsui.drawspec.model import Ratio, StratumRule, Subject
from shuangsui.drawspec.phase_a import (
    StratumSelection,
    TicketHasher,
    result_hash,
    sample_size,
    select_stratum,
)
from shuangsui.drawspec.seed import draw_seed

TV1_SEED = bytes.fromhex("0a8f91c6f9c49908c43b3e58f26024d1e5047045e2665f5f652aff5d50275675")


def test_seed_of_tv1_matches_section_12() -> None:
    c = bytes.fromhex("1084b6814c51782b4ab7c660aa7b75615085543efe2287fe97f778e66d3fe3e9")
    r = bytes.fromhex("5f3be94dddf83cdc2cfed1a2cb2e6947d42602031a3007e0145158b51208bd82")
    assert draw_seed(c, r) == TV1_SEED


@pytest.mark.parametrize(
    ("population", "a", "b"),
    [
        (8, 1, 5),
        (7, 3, 10),
        (4, 3, 5),
        (10, 3, 10),
        (11, 3, 10),
        (0, 1, 1),
        (5, 0, 7),
        (5, 7, 7),
        (1, 1, 1_000_000),
        (999_999, 1, 1_000_000),
        (1_000_000, 1, 1_000_000),
        (1_000_001, 1, 1_000_000),
        (3, 2**80 + 1, 2**81),
        (2**60, 2**70 - 1, 2**70),
    ],
)
def test_ratio_sample_size_is_the_exact_ceiling(population: int, a: int, b: int) -> None:
    expected = min(population, math.ceil(Fraction(population * a, b)))
    assert sample_size(population, Ratio(str(a), str(b))) == expected


@pytest.mark.parametrize(
    ("a", "b", "population", "n"),
    [
        ("9" * 5000, "1" + "0" * 5000, 123, 123),  # 1 - 10^-5000 rounds up to everyone
        ("1" + "0" * 4999, "1" + "0" * 5000, 123, 13),  # exactly 1/10
        ("1", "1" + "0" * 5000, 1, 1),  # any positive share of one subject is one subject
    ],
)
def test_ratios_beyond_cpython_digit_limit_are_exact(
    a: str, b: str, population: int, n: int
) -> None:
    assert sample_size(population, Ratio(a, b)) == n


@pytest.mark.parametrize(("population", "k", "n"), [(5, 9, 5), (5, 0, 0), (5, 5, 5), (0, 3, 0)])
def test_count_sample_size_is_capped_by_population(population: int, k: int, n: int) -> None:
    assert sample_size(population, k) == n


def test_ticket_key_is_the_minimum_of_the_weight_tickets() -> None:
    tickets = [tagged_hash("ticket", TV1_SEED, b"H-10", u32be(j)) for j in range(37)]
    assert TicketHasher(TV1_SEED).key("H-10", 37) == min(tickets)
    assert TicketHasher(TV1_SEED).key("H-10", 1) == tickets[0]


def test_tv1_stratum_a_keys_match_section_12() -> None:
    keys = {f"A-0{i}": TicketHasher(TV1_SEED).key(f"A-0{i}", 1).hex()[:4] for i in range(1, 9)}
    assert keys == {
        "A-06": "2193",
        "A-02": "5771",
        "A-03": "6249",
        "A-05": "9dfc",
        "A-08": "b795",
        "A-07": "e476",
        "A-04": "e5cf",
        "A-01": "e72d",
    }


def _stratum(n: int, rule: Ratio | int) -> StratumSelection:
    members = [Subject(f"S-{i:02d}", "X") for i in range(n)]
    return select_stratum(TV1_SEED, StratumRule("X", rule), members)


def test_selection_is_the_head_of_the_key_order() -> None:
    chosen = _stratum(12, Ratio("1", "3"))
    keys = {f"S-{i:02d}": TicketHasher(TV1_SEED).key(f"S-{i:02d}", 1) for i in range(12)}
    ranking = sorted(keys, key=lambda s: (keys[s], s.encode()))
    assert chosen.selected == tuple(ranking[:4])
    assert chosen.cutoff_key == keys[ranking[3]].hex()
    assert chosen.next_key == keys[ranking[4]].hex()


def test_full_and_empty_samples_have_null_keys_at_the_edges() -> None:
    everyone = _stratum(5, 5)
    assert everyone.next_key is None
    assert everyone.cutoff_key is not None
    nobody = _stratum(5, 0)
    assert nobody.cutoff_key is None
    assert nobody.next_key is not None
    assert nobody.selected == ()


def test_result_hash_counts_make_the_sequence_parseable() -> None:
    a = StratumSelection("A", 3, 2, ("x", "y"), None, None)
    empty = StratumSelection("B", 0, 0, (), None, None)
    h = StreamHash("result")
    h.add_text("A", "2", "x", "y", "B", "0")
    assert result_hash([a, empty]) == h.digest()
    moved = StratumSelection("A", 3, 1, ("x",), None, None)
    b = StratumSelection("B", 1, 1, ("y",), None, None)
    assert result_hash([moved, b]) != result_hash([a, empty])
