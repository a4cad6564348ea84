"""Bulk push of subjects as NDJSON over HTTP — validation, tagging under the demo province's
rules, the item index and its counts, history, outbox events, everything —
beside a raw psycopg text-format COPY of the same rows into a bare table, and beside the write
floor (bench/write_floor.py: the rows the push keeps, precomputed, COPYed into the registry's own
tables), in the same run.

`BENCH_PUSH_ROWS=100000 python -m bench --only registry_push` sets the size (while iterating on
the push path: a million rows take minutes on two cores). `BENCH_PUSH_WORKERS=2` adds a figure
for two uvicorn workers taking two requests at a time (how a province would use a second core).

Then the credit risk classification system pushes one class for each of those subjects (every row a
change, so every row records its events: `registry.subject.risk_class_changed.v1` and `.v2`),
beside a COPY of the same class rows into a bare table."""

from __future__ import annotations

import io
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
from stdnum.cn import uscc as stdnum_uscc

from bench.results import Figure
from bench.stack import console, registry_api, throwaway_stack
from bench.write_floor import floor_rate
from shuangsui.devstack.demo import INDUSTRIES
from shuangsui.devstack.demo_catalogue import load_catalogue
from shuangsui.devstack.stack import Stack

REQUEST_ROWS = 100_000
COUNTIES = ["330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112"]


def rows(count: int, first: int = 0) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(first, first + count):
        body = f"91{COUNTIES[i % len(COUNTIES)]}MA{i:07d}"
        out.append(
            {
                "uscc": body + stdnum_uscc.calc_check_digit(body),
                "name": f"杭州测试{i}贸易有限公司",
                "subject_type": "enterprise",
                "region_code": COUNTIES[i % len(COUNTIES)],
                "registered_address": f"浙江省杭州市测试路{i % 997}号",
                "legal_representative": "张三",
                "industry_code": INDUSTRIES[i % len(INDUSTRIES)][0],
                "licences": _licences(i),
                "online_shops": [f"https://shop.example.cn/{i}"] if i % 7 == 0 else [],
                "registered_capital_wan": str(10 + i % 3000),
                "unit_code": f"{COUNTIES[i % len(COUNTIES)]}-01",
                "registered_on": "2015-06-01",
                "source": "bench",
                "source_updated_at": "2025-01-01T00:00:00+08:00",
            }
        )
    return out


def _licences(i: int) -> list[dict[str, str]]:
    kind = INDUSTRIES[i % len(INDUSTRIES)][2]
    return [{"type": kind, "number": f"SC{i:014d}", "valid_until": "2028-01-01"}] if kind else []


def run(quick: bool) -> list[Figure]:
    count = int(os.environ.get("BENCH_PUSH_ROWS") or (50_000 if quick else 1_000_000))
    with throwaway_stack("bench-registry-") as stack:
        data = rows(count)
        copy_rate = _copy_rate(stack, data)
        floor = floor_rate(stack.database_url("registry"), data)
        classes = class_rows(data)
        class_copy_rate = _copy_rate(stack, classes, CLASS_TABLE)
        with registry_api(stack) as url:
            push_rate = _push_rate(stack, url, data)
            class_rate = _push_rate(stack, url, classes, path="/api/v1/registry/risk-classes:bulk")
        workers = int(os.environ.get("BENCH_PUSH_WORKERS") or 1)
        if workers > 1:
            # Other subjects (the first ones stay stored): a larger directory, as it would be.
            with registry_api(stack, workers=workers) as url:
                parallel_rate = _push_rate(stack, url, rows(count, first=count), workers)
    name = f"registry: bulk push {count:,} subjects (HTTP, NDJSON)"
    extra = []
    if workers > 1:
        extra.append(
            Figure(
                f"{name}, {workers} workers, {workers} requests at a time",
                parallel_rate,
                "rows/s",
                "psycopg text COPY",
                copy_rate,
                higher_is_better=True,
            )
        )
    return [
        Figure(name, push_rate, "rows/s", "psycopg text COPY", copy_rate, higher_is_better=True),
        Figure(
            name,
            push_rate,
            "rows/s",
            "write floor: the same rows precomputed, COPY into subjects + history + outbox",
            floor,
            higher_is_better=True,
        ),
        Figure(
            "write floor (no validation, tags or Python per row)",
            floor,
            "rows/s",
            "psycopg text COPY",
            copy_rate,
            higher_is_better=True,
        ),
        Figure(
            f"registry: risk-class push {count:,} subjects (HTTP, NDJSON, v1 + v2 events)",
            class_rate,
            "rows/s",
            "psycopg text COPY",
            class_copy_rate,
            higher_is_better=True,
        ),
        *extra,
    ]


# Bare tables for the COPY baselines: name, columns with their types, primary key.
SUBJECT_TABLE = (
    "bare_subjects",
    {"uscc": "text", "name": "text", "subject_type": "text", "region_code": "text",
     "registered_address": "text", "legal_representative": "text", "industry_code": "text",
     "unit_code": "text", "registered_on": "date", "source": "text"},
    "uscc",
)  # fmt: skip
CLASS_TABLE = (
    "bare_classes",
    {"uscc": "text", "domain": "text", "risk_class": "text", "source": "text",
     "as_of": "timestamptz"},
    "uscc, domain",
)  # fmt: skip


def class_rows(subjects: list[dict[str, object]]) -> list[dict[str, object]]:
    """A class in the general domain for every subject, A to D in turn."""
    return [
        {
            "uscc": s["uscc"],
            "domain": "general",
            "risk_class": "ABCD"[i % 4],
            "source": "bench-credit",
            "as_of": "2025-01-01T00:00:00+08:00",
        }
        for i, s in enumerate(subjects)
    ]


def _copy_rate(
    stack: Stack,
    data: list[dict[str, object]],
    table: tuple[str, dict[str, str], str] = SUBJECT_TABLE,
) -> float:
    """Rows/s of a text COPY of `data` into a bare table, made for it and dropped after."""
    name, types, key = table
    columns = list(types)
    text = io.StringIO()
    for row in data:
        text.write("\t".join(str(row[c]) for c in columns) + "\n")
    payload = text.getvalue()
    with psycopg.connect(stack.database_url("registry"), autocommit=True) as conn:
        definition = ", ".join(f"{c} {t}" for c, t in types.items())
        conn.execute(f"CREATE TABLE {name} ({definition}, PRIMARY KEY ({key}))")
        console.print(f"baseline: COPY of {len(data):,} rows into {name} …")
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            copy.write(payload)
        elapsed = time.perf_counter() - started
        conn.execute(f"DROP TABLE {name}")
    return len(data) / elapsed


def _push_rate(
    stack: Stack,
    url: str,
    data: list[dict[str, object]],
    at_once: int = 1,
    path: str = "/api/v1/registry/subjects:bulk",
) -> float:
    scope = "registry:risk-classes:push" if "risk-classes" in path else "registry:subjects:push"
    token = stack.issuer.token_for(roles=["integrator"], region="330000", scopes=[scope])
    bodies = [
        "".join(
            json.dumps(r, ensure_ascii=False) + "\n" for r in data[i : i + REQUEST_ROWS]
        ).encode()
        for i in range(0, len(data), REQUEST_ROWS)
    ]
    with httpx.Client(base_url=url, timeout=600) as client:
        if path.endswith("subjects:bulk"):
            # Tagging and the item index are part of what is measured: the demo province's
            # rules and item list are in force, as on a real platform.
            load_catalogue(
                client,
                stack.issuer.token_for(roles=["national_admin"], region="100000"),
                stack.issuer.token_for(roles=["provincial_admin"], region="330000"),
            )
        console.print(
            f"pushing {len(data):,} rows in {len(bodies)} request(s), {at_once} at a time …"
        )
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=at_once) as pool:
            list(pool.map(lambda body: _push(url, path, token, body), bodies))
        return len(data) / (time.perf_counter() - started)


def _push(url: str, path: str, token: str, body: bytes) -> None:
    with httpx.Client(base_url=url, timeout=600) as client:
        answer = client.post(
            path,
            content=body,
            headers={"Authorization": f"Bearer {token}", "content-type": "application/x-ndjson"},
        )
    answer.raise_for_status()
    assert answer.json()["created"] == body.count(b"\n"), answer.text[:300]
