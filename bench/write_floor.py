"""The least any bulk push must cost: the rows it keeps, already computed, COPYed into the
registry's own tables (the subject row with its indexes, one history version, one outbox event)
in one transaction. No parsing, no validation, no tags, no Python per row while it is timed.

The bulk-push figure is read against this floor as well as against a bare COPY: the distance
from the bare COPY to the floor is the price of what the issue requires the push to keep, the
distance from the floor to the push is ours to win."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import psycopg

from bench.stack import console

_TAGS = "{format:零售,category:食品}"
_ITEM_KEYS = "{1,4,7}"


def floor_rate(database_url: str, data: list[dict[str, object]]) -> float:
    now = datetime.now(UTC).isoformat()
    subjects, history, outbox = [], [], []
    for row in data:
        subject_id = str(uuid.uuid4())
        subjects.append(_line(_subject_values(row, subject_id, now)))
        history.append(_line([row["uscc"], 1, now, "bench", row["source_updated_at"], "bench",
                              json.dumps(row, ensure_ascii=False, sort_keys=True)]))  # fmt: skip
        outbox.append(_line([uuid.uuid4(), "province.33.registry.subject.upserted.v1",
                             "registry.subject.upserted.v1", _envelope(row, subject_id, now)]))  # fmt: skip
    console.print(f"floor: COPY of {len(data):,} precomputed subject, history and outbox rows …")
    with psycopg.connect(database_url) as conn:
        started = time.perf_counter()
        _copy(conn, "COPY subjects FROM STDIN", subjects)
        _copy(conn, "COPY subject_history FROM STDIN", history)
        _copy(conn, "COPY outbox (id, nats_subject, event_type, envelope) FROM STDIN", outbox)
        conn.commit()
        elapsed = time.perf_counter() - started
        # Leave the tables as the push will find them: empty.
        conn.execute("TRUNCATE subjects, subject_history, outbox")
        conn.commit()
    return len(data) / elapsed


def _subject_values(row: dict[str, object], subject_id: str, now: str) -> list[object]:
    """One `subjects` row in the table's column order (migrations 0002 and 0007)."""
    return [
        row["uscc"], subject_id, row["name"], row["subject_type"], "active", row["region_code"],
        row["registered_address"], None, row["legal_representative"], row["industry_code"], None,
        json.dumps(row["licences"], ensure_ascii=False), json.dumps(row["online_shops"]),
        row["registered_capital_wan"], None, row["unit_code"], row["registered_on"], None, "{}",
        row["source"], row["source_updated_at"], "0" * 64, 1, now, _TAGS, _ITEM_KEYS, 1,
    ]  # fmt: skip


def _envelope(row: dict[str, object], subject_id: str, now: str) -> str:
    """About the size and shape of a `registry.subject.upserted.v1` envelope."""
    data = {key: row[key] for key in ("uscc", "name", "subject_type", "region_code", "unit_code",
                                      "industry_code", "registered_address", "registered_on",
                                      "source", "source_updated_at")}  # fmt: skip
    data |= {"subject_id": subject_id, "status": "active", "business_address": None,
             "tags": {"format": ["零售"], "category": ["食品"]},
             "applicable_item_ids": [str(uuid.uuid4()) for _ in range(3)],
             "classification": 1, "version": 1}  # fmt: skip
    envelope = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/33/registry",
                "type": "registry.subject.upserted.v1", "time": now, "province": "33",
                "subject": subject_id, "actor": "bench", "datacontenttype": "application/json",
                "data": data}  # fmt: skip
    return json.dumps(envelope, ensure_ascii=False)


def _line(values: Iterable[object]) -> str:
    return "\t".join(_text(v) for v in values) + "\n"


def _text(value: object) -> str:
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _copy(conn: psycopg.Connection, statement: str, lines: list[str]) -> None:
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for block in _blocks(lines):
            copy.write(block)


def _blocks(lines: list[str], size: int = 5000) -> Iterator[str]:
    for start in range(0, len(lines), size):
        yield "".join(lines[start : start + size])
