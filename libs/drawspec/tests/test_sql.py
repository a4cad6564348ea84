"""Appendix A SQL builder, Python side only (a PostgreSQL test is wired separately)."""

from __future__ import annotations

import re

import pytest

from shuangsui.drawspec.model import Ratio, StratumRule, Subject
from shuangsui.drawspec.phase_a import TicketHasher, select_stratum
from shuangsui.drawspec.sql import (
    INLINE_WEIGHTS,
    manifest_hash,
    quote_table,
    read_selection,
    stratum_selection,
)

SEED = bytes(range(32))
RATIO = StratumRule("高风险", Ratio("3", "100"))
COUNT = StratumRule("A", 7)


def test_pyformat_statement_binds_every_value() -> None:
    st = stratum_selection(SEED, RATIO)
    assert set(re.findall(r"%\((\w+)\)s", st.text)) == {"seed", "stratum", "a", "b"}
    assert st.params == {"seed": SEED, "stratum": "高风险", "a": "3", "b": "100"}
    assert "{" not in st.text
    assert "高风险" not in st.text, "values never enter the SQL text"


def test_named_statement_uses_colon_placeholders_only_for_parameters() -> None:
    st = stratum_selection(SEED, COUNT, paramstyle="named")
    assert set(re.findall(r"(?<!:):(\w+)", st.text)) == {"seed", "stratum", "k"}
    assert st.params == {"seed": SEED, "stratum": "A", "k": 7}


def test_numeric_statement_numbers_parameters_in_order_of_use() -> None:
    st = stratum_selection(SEED, RATIO, table="staging.manifest", paramstyle="numeric")
    numbers = [int(n) for n in re.findall(r"\$(\d+)", st.text)]
    assert sorted(set(numbers)) == list(range(1, len(st.params) + 1))
    assert st.params == ("3", "100", "高风险", SEED)
    assert 'FROM "staging"."manifest" AS m' in st.text


def test_statement_follows_the_ticket_layout_and_order_of_section_7() -> None:
    text = stratum_selection(SEED, COUNT).text
    assert "convert_to('IDS-1/ticket', 'UTF8') || decode('00', 'hex')" in text
    assert "int4send(32) || CAST(%(seed)s AS bytea)" in text
    assert "int4send(4) || int4send(j)" in text
    assert "generate_series(0, m.weight - 1)" in text
    assert "ORDER BY k.key, convert_to(k.subject_id, 'UTF8')" in text
    assert "LIMIT (SELECT sample_size + 1 FROM size)" in text


def test_light_weights_are_keyed_inline_and_heavy_ones_by_subquery() -> None:
    text = stratum_selection(SEED, COUNT).text
    assert "LEAST(sha256(" in text
    assert "int4send(4) || int4send(0))" in text
    for j in range(1, INLINE_WEIGHTS):
        assert f"CASE WHEN m.weight > {j} THEN sha256(" in text
        assert f"int4send(4) || int4send({j}))" in text
    assert f"CASE WHEN m.weight > {INLINE_WEIGHTS} " not in text
    assert f"m.weight <= {INLINE_WEIGHTS}" in text
    assert f"m.weight > {INLINE_WEIGHTS}" in text
    assert text.count('ORDER BY 2, m.subject_id COLLATE "C"') == 2


def test_a_known_population_binds_the_sample_size_and_skips_the_count() -> None:
    st = stratum_selection(SEED, RATIO, population=1001)
    assert "count(*)" not in st.text
    assert st.params == {
        "seed": SEED,
        "stratum": "高风险",
        "population": 1001,
        "sample_size": 31,
        "limit": 32,
    }
    assert st.text.count("LIMIT CAST(%(limit)s AS bigint)") == 3
    with pytest.raises(ValueError):
        stratum_selection(SEED, RATIO, population=-1)


def test_ratio_size_uses_exact_numeric_ceiling() -> None:
    text = stratum_selection(SEED, RATIO).text
    assert "div(count(*) * CAST(%(a)s AS numeric) + CAST(%(b)s AS numeric) - 1" in text
    assert "LEAST(count(*), CAST(%(k)s AS bigint))" in stratum_selection(SEED, COUNT).text


def test_manifest_hash_statement_hashes_the_four_fields_in_id_byte_order() -> None:
    text = manifest_hash(table="manifest").text
    fields = re.findall(r"convert_to\(([\w() ]+?), 'UTF8'\)\)\) \|\|", text)
    assert fields == ["subject_id", "stratum", "unit", "CAST(weight AS text)"]
    assert "ORDER BY convert_to(subject_id, 'UTF8')" in text
    assert text.startswith("SELECT encode(sha256(convert_to('IDS-1/manifest', 'UTF8')")


@pytest.mark.parametrize("bad", ["", "x; DROP TABLE y", "a.b.c", '"quoted"', "1abc", "a-b"])
def test_table_names_are_validated_before_entering_sql(bad: str) -> None:
    with pytest.raises(ValueError):
        quote_table(bad)


def test_seed_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        stratum_selection(SEED[:31], COUNT)


def _rows_from_python(rule: StratumRule, members: list[Subject]) -> list[tuple[str, str, int, int]]:
    """What the statement returns, computed independently of phase_a's selection code."""
    tickets = TicketHasher(SEED)
    keyed = sorted(
        (tickets.key(s.subject_id, s.weight), s.subject_id.encode(), s.subject_id) for s in members
    )
    n = select_stratum(SEED, rule, members).sample_size
    return [(sid, key.hex(), len(members), n) for key, _, sid in keyed[: n + 1]]


@pytest.mark.parametrize(
    ("size", "rule"), [(9, RATIO), (12, COUNT), (7, COUNT), (3, StratumRule("Z", 0))]
)
def test_rows_read_back_as_the_python_selection(size: int, rule: StratumRule) -> None:
    members = [Subject(f"S-{i}", rule.stratum, weight=1 + i % 4) for i in range(size)]
    rows = _rows_from_python(rule, members)
    assert read_selection(rule.stratum, rows) == select_stratum(SEED, rule, members)


def test_no_rows_is_an_empty_stratum() -> None:
    empty = read_selection("X", [])
    assert (empty.population, empty.sample_size, empty.cutoff_key, empty.next_key) == (
        0,
        0,
        None,
        None,
    )


def test_truncated_rows_are_refused() -> None:
    rows = _rows_from_python(COUNT, [Subject(f"S-{i}", "A") for i in range(12)])
    with pytest.raises(ValueError):
        read_selection("A", rows[:-1])
