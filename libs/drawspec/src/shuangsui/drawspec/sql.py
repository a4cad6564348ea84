"""SQL text for computing IDS-1 keys inside PostgreSQL (DRAW_SPEC Appendix A, informative).

Pure string building: no database driver is imported. Each function returns a `Statement`
(SQL text plus parameters) in the placeholder style of the caller's driver:

- ``"pyformat"``: ``%(seed)s`` with a dict (psycopg 3, the default),
- ``"named"``: ``:seed`` with a dict (SQLAlchemy ``text()``),
- ``"numeric"``: ``$1`` with a tuple (asyncpg).

Requirements on the staging table (Appendix A): ``subject_id text NOT NULL``,
``stratum text NOT NULL``, ``unit text NOT NULL DEFAULT ''``, ``weight int NOT NULL DEFAULT 1``,
database encoding UTF8, a deterministic collation on ``stratum`` (equality is then byte
equality). A NULL silently corrupts the manifest hash, hence the NOT NULL constraints.

`stratum_selection` is one statement per stratum. It returns at most ``n_s + 1`` rows
``(subject_id, key_hex, population, sample_size)`` in selection order: the first
``sample_size`` rows are the selection, the last selected row's key is ``cutoff_key`` and an
extra row, when present, gives ``next_key``. No rows means an empty stratum. `read_selection`
turns those rows into the same `StratumSelection` as the Python phase A, so the operator can
compare both; the published result must still come from an independent verifier.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .model import Ratio, StratumRule
from .phase_a import StratumSelection, sample_size

ParamStyle = Literal["pyformat", "named", "numeric"]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

# UTF-8 bytes of a text column and its u32be length prefix (int4send is big-endian, and
# every length here is far below 2^31). decode('00','hex') avoids relying on
# standard_conforming_strings for a '\x00' literal.
_LP = "int4send(octet_length(convert_to({col}, 'UTF8'))) || convert_to({col}, 'UTF8')"
_PREFIX = "convert_to('IDS-1/{tag}', 'UTF8') || decode('00', 'hex')"


@dataclass(frozen=True, slots=True)
class Statement:
    """SQL text and its parameters (a dict, or a tuple for the numeric style)."""

    text: str
    params: dict[str, object] | tuple[object, ...]


def quote_table(name: str) -> str:
    """Quote `table` or `schema.table`; anything else is refused (the name enters the SQL)."""
    parts = name.split(".")
    if len(parts) > 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise ValueError(f"not a plain table name: {name!r}")
    return ".".join(f'"{p}"' for p in parts)


def manifest_hash(*, table: str = "manifest", paramstyle: ParamStyle = "pyformat") -> Statement:
    """One row, one column: `manifest_sha256` of the staged table, in hex (§3, §2.6)."""
    entry = " || ".join(
        [
            _LP.format(col="subject_id"),
            _LP.format(col="stratum"),
            _LP.format(col="unit"),
            _LP.format(col="CAST(weight AS text)"),
        ]
    )
    text = (
        f"SELECT encode(sha256({_PREFIX.format(tag='manifest')} || coalesce(string_agg(\n"
        f"    {entry},\n"
        "    decode('', 'hex') ORDER BY convert_to(subject_id, 'UTF8')),\n"
        "  decode('', 'hex'))), 'hex')\n"
        f"FROM {quote_table(table)}"
    )
    return _render(text, {}, paramstyle)


# Weights up to this bound are keyed by one inline LEAST(...) over their tickets, so the scan
# has no per-row subquery and PostgreSQL can run it in parallel workers; heavier entries go
# through a per-row subquery in a second branch of their own (a correlated subquery keeps
# the scan that evaluates it in the leader, which only those rare rows then pay for).
INLINE_WEIGHTS = 16


def stratum_selection(
    seed: bytes,
    rule: StratumRule,
    *,
    table: str = "manifest",
    paramstyle: ParamStyle = "pyformat",
    population: int | None = None,
) -> Statement:
    """Select one stratum in the database: ticket keys (§7.2), `n_s` (§7.1), order (§7.3).

    Without `population`, `n_s` is computed in SQL from the stratum's row count:
    `LEAST(N, k)` for a count, and `LEAST(N, div(N*a + b - 1, b))` in `numeric` for a ratio
    (exact for up to 131072 digits, PostgreSQL's numeric limit; ratios are passed as text so
    no driver rounds them). A caller that already knows the stratum's row count `N` passes it
    as `population`: `n_s` is then computed here by `phase_a.sample_size` (exact integers) and
    the statement skips its counting scan. A wrong `population` is the caller's error;
    `read_selection` refuses a row count that does not fit it.

    Keys: a weight-1 entry has exactly one ticket (`j = 0`); an entry of weight
    `2..INLINE_WEIGHTS` takes `LEAST` over tickets `j < weight` (`LEAST` ignores the NULLs of
    the unused `CASE` arms and compares `bytea` unsigned byte-wise, prefix first, as §7.2
    requires); heavier entries take the minimum of their `generate_series` tickets. Each
    branch keeps its own first `n_s + 1` by `(key, subject_id bytes)`, which contain the
    stratum's first `n_s + 1`; the final ORDER BY merges them. Ties on the id are broken by
    `COLLATE "C"` in the branches (memcmp of the UTF-8 bytes, a proper prefix first) and by
    `convert_to(subject_id, 'UTF8')` in the final order: both are §2.2 byte order.
    """
    if len(seed) != 32:
        raise ValueError("the seed is 32 raw bytes")
    params: dict[str, object] = {"seed": seed, "stratum": rule.stratum}
    table_sql = quote_table(table)
    if population is not None:
        if population < 0:
            raise ValueError("population is a row count")
        n = sample_size(population, rule.rule)
        params |= {"population": population, "sample_size": n, "limit": n + 1}
        size_cte = ""
        columns = "CAST({population} AS bigint), CAST({sample_size} AS bigint)"
        limit = "CAST({limit} AS bigint)"
        size_join = ""
    else:
        if isinstance(rule.rule, Ratio):
            params |= {"a": rule.rule.numerator, "b": rule.rule.denominator}
            size = (
                "LEAST(count(*), div(count(*) * CAST({a} AS numeric) + CAST({b} AS numeric) - 1, "
                "CAST({b} AS numeric)))"
            )
        else:
            params["k"] = rule.rule
            size = "LEAST(count(*), CAST({k} AS bigint))"
        # The only interpolated name is the validated, quoted table.
        size_cte = (
            "WITH size AS (\n"  # noqa: S608
            f"  SELECT count(*) AS population, CAST({size} AS bigint) AS sample_size\n"
            f"  FROM {table_sql} WHERE stratum = {{stratum}}\n"
            ")\n"
        )
        columns = "z.population, z.sample_size"
        limit = "(SELECT sample_size + 1 FROM size)"
        size_join = " CROSS JOIN size AS z"
    # The constant part of every ticket (tag, seed) is computed once, as an InitPlan.
    prefix = (
        f"(SELECT {_PREFIX.format(tag='ticket')}\n"
        "                    || int4send(32) || CAST({seed} AS bytea))"
    )

    def ticket(index: str) -> str:
        return (
            f"sha256({prefix}\n"
            f"                 || {_LP.format(col='m.subject_id')}\n"
            f"                 || int4send(4) || int4send({index}))"
        )

    inline_key = ",\n       ".join(
        [ticket("0")]
        + [f"CASE WHEN m.weight > {j} THEN {ticket(str(j))} END" for j in range(1, INLINE_WEIGHTS)]
    )
    # The only interpolated name is the validated, quoted table; values are bound parameters.
    text = f"""{size_cte}SELECT k.subject_id, encode(k.key, 'hex') AS key_hex, {columns}
FROM (
  (SELECT m.subject_id,
          LEAST({inline_key}) AS key
   FROM {table_sql} AS m
   WHERE m.stratum = {{stratum}} AND m.weight <= {INLINE_WEIGHTS}
   ORDER BY 2, m.subject_id COLLATE "C"
   LIMIT {limit})
  UNION ALL
  (SELECT m.subject_id,
          (SELECT h FROM (
             SELECT {ticket("j")} AS h
             FROM generate_series(0, m.weight - 1) AS j) AS t
           ORDER BY h LIMIT 1) AS key
   FROM {table_sql} AS m
   WHERE m.stratum = {{stratum}} AND m.weight > {INLINE_WEIGHTS}
   ORDER BY 2, m.subject_id COLLATE "C"
   LIMIT {limit})
) AS k{size_join}
ORDER BY k.key, convert_to(k.subject_id, 'UTF8')
LIMIT {limit}"""  # noqa: S608
    return _render(text, params, paramstyle)


def read_selection(stratum: str, rows: Sequence[tuple[str, str, int, int]]) -> StratumSelection:
    """Interpret the rows of `stratum_selection` as phase A's outcome for that stratum."""
    if not rows:
        return StratumSelection(stratum, 0, 0, (), None, None)
    population, n = int(rows[0][2]), int(rows[0][3])
    if len(rows) != min(n + 1, population):
        raise ValueError(f"expected {min(n + 1, population)} rows, got {len(rows)}")
    return StratumSelection(
        stratum=stratum,
        population=population,
        sample_size=n,
        selected=tuple(row[0] for row in rows[:n]),
        cutoff_key=rows[n - 1][1] if n > 0 else None,
        next_key=rows[n][1] if n < population else None,
    )


def _render(template: str, params: dict[str, object], style: ParamStyle) -> Statement:
    if style == "numeric":
        order: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match[1] not in order:
                order.append(match[1])
            return f"${order.index(match[1]) + 1}"

        return Statement(_PLACEHOLDER.sub(number, template), tuple(params[n] for n in order))
    marker = "%({})s" if style == "pyformat" else ":{}"
    return Statement(_PLACEHOLDER.sub(lambda m: marker.format(m[1]), template), dict(params))
