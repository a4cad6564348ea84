"""The population export's reads: REPEATABLE READ, READ ONLY transactions that share one
snapshot, and every line built by PostgreSQL as JSON text, streamed out by `COPY`.

PostgreSQL writes each line (`row_to_json(…)::text`) and COPY hands it over as it is: the
bytes a reader gets are the NDJSON lines, which this process never decodes (bench/).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from shuangsui.contracts.events.base import EventPayload
from shuangsui.contracts.events.registry_inspectors import (
    InspectorConflictDeclared,
    InspectorUpserted,
)
from shuangsui.contracts.events.registry_subjects import SubjectUpserted
from shuangsui.kernel.db import Database
from shuangsui.registry.adapters.classification import index_items
from shuangsui.registry.adapters.driver import driver_of
from shuangsui.registry.adapters.inspectors import InspectorFilter, conflicts, inspector_clauses
from shuangsui.registry.adapters.inspectors import inspectors as officers
from shuangsui.registry.adapters.risk_class_tables import risk_classes
from shuangsui.registry.adapters.subjects import subjects
from shuangsui.registry.domain.tags import TagDimension

# CSV with a delimiter and a quote that JSON text never holds raw (it escapes every control
# character), and no line is empty or `\.`: COPY then writes each line verbatim and a newline,
# which is the NDJSON line itself.
_COPY_AS_NDJSON = {"format": "csv", "delimiter": "\x01", "quote": "\x02"}
# What pg_export_snapshot() answers (e.g. 00000003-0000001B-1), checked before it is written
# into a SET TRANSACTION SNAPSHOT, which takes no parameter.
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")

# The transaction's snapshot in PostgreSQL's own text form (xmin:xmax:xip,…), when it was taken,
# and the newest outbox row it sees. `now()` is the transaction's start, which is never later
# than the snapshot (taken by this, the transaction's first query).
_SNAPSHOT = sa.text(
    """
    SELECT pg_current_snapshot()::text AS snapshot, now() AS taken_at,
           last.seq AS last_seq, last.id AS last_event_id
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT seq, id FROM outbox ORDER BY seq DESC LIMIT 1) last ON true
    """
)


_PAGES = sa.text(
    f"SELECT pg_relation_size('{subjects.name}') / current_setting('block_size')::bigint"
)


@dataclass(frozen=True)
class Snapshot:
    snapshot: str  # pg_snapshot text: xmin:xmax:xip1,xip2,…
    taken_at: datetime
    last_seq: int | None
    last_event_id: UUID | None


@dataclass(frozen=True)
class ConflictsShown:
    """Whose declared conflicts an export line carries (null for the others): every officer's,
    those of one partner department's officers, or one officer's own."""

    to_all: bool
    department_type: str | None = None
    officer_id: str | None = None


def _json_object(fields: dict[str, Any]) -> Any:
    """`json_build_object('key', value, …)`; the keys are ours, written into the SQL."""
    pairs: list[Any] = []
    for key, value in fields.items():
        pairs += [sa.literal_column(f"'{key}'"), value]
    return sa.func.json_build_object(*pairs)


def _fields_of(model: type[EventPayload], fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` must name exactly the payload's: a changed contract fails here rather than in a
    consumer (the tests hold the values to it)."""
    if set(fields) != set(model.model_fields):
        raise TypeError(f"an export line must carry the fields of {model.event_type}")
    return fields


def _lines(
    model: type[EventPayload], fields: dict[str, Any], beside: dict[str, Any], *froms: Any
) -> Any:
    """`{"type": <event type>, "data": {<payload>}, <beside>…}`, one per row of `froms` (a
    table and the LATERAL items joined to it that the fields and `beside` refer to), with the
    payload as a LATERAL row of its own: PostgreSQL writes a row whose shape it knows faster
    than it writes `json_build_object` pairs, row after row (bench/registry_export.py).
    The caller adds its WHERE clauses to the select it gets back, then `_as_text`."""
    labelled = (value.label(name) for name, value in _fields_of(model, fields).items())
    payload = sa.select(*labelled).correlate(*froms).lateral("payload")
    source = froms[0]
    for joined in (*froms[1:], payload):
        source = source.join(joined, sa.true())
    kind: Any = sa.literal_column(f"'{model.event_type}'")
    columns = [kind.label("type"), payload.table_valued().label("data")]
    columns += [value.label(name) for name, value in beside.items()]
    return sa.select(*columns).select_from(source)


def _as_text(lines: Any) -> Any:
    row = lines.subquery("line")
    return sa.select(sa.cast(sa.func.row_to_json(row.table_valued()), sa.Text).label("line"))


def _tags_by_dimension() -> Any:
    """A subject's tags grouped as `tags_by_dimension` groups them: every dimension in its
    order, each with its values in the order the subject's array holds them.

    LATERAL and aggregated, so PostgreSQL memoizes it by the tags array: subjects share a few
    hundred verdicts, and a million rows then cost a few hundred groupings."""
    groups = ", ".join(
        f"'{d.value}', coalesce(array_agg(substr(t.tag, {len(d.value) + 2}) ORDER BY t.n) "
        f"FILTER (WHERE t.tag LIKE '{d.value}:%'), '{{}}')"
        for d in TagDimension
    )
    grouped: Any = sa.literal_column(f"json_build_object({groups})").label("tags")
    tags = sa.text(f"unnest({subjects.name}.tags) WITH ORDINALITY t(tag, n)")
    return sa.select(grouped).select_from(tags).lateral("tag_groups")


# Item ids by item number, as one array indexed by the number: an item's id is then an array
# subscript per key instead of an index lookup per key.
_ITEM_IDS = (
    sa.text(
        f"""
        SELECT array_agg(i.item_id ORDER BY n) AS by_key
        FROM generate_series(1, (SELECT coalesce(max(item_key), 0) FROM {index_items.name})) n
        LEFT JOIN {index_items.name} i ON i.item_key = n
        """  # noqa: S608 - the table's name is ours
    )
    .columns(sa.column("by_key"))
    .cte("item_ids")
)


def _item_ids() -> Any:
    """A subject's item ids in the order of its item numbers; memoized by them alike."""
    ids: Any = sa.literal_column(
        "coalesce(array_agg(item_ids.by_key[k.key] ORDER BY k.n) "
        "FILTER (WHERE item_ids.by_key[k.key] IS NOT NULL), '{}')"
    ).label("ids")
    keys = sa.text(f"unnest({subjects.name}.item_keys) WITH ORDINALITY k(key, n)")
    return sa.select(ids).select_from(_ITEM_IDS, keys).lateral("item_ids_of")


def _classes_held(uscc: Any) -> Any:
    """`held_classes` as JSON text rather than jsonb: the line is JSON text, and PostgreSQL
    writes a json value into it as it is, where a jsonb one is printed anew (a tenth of an
    export's time). Keys in the order of the primary key (domain by name)."""
    held = risk_classes.alias("held")
    classes = (
        sa.select(sa.func.json_object_agg(held.c.domain, held.c.risk_class))
        .where(held.c.uscc == uscc)
        .scalar_subquery()
    )
    return sa.func.coalesce(classes, sa.literal_column("'{}'::json"))


def subject_lines_query(clauses: Sequence[Any]) -> Any:
    """Every subject the clauses select, one line each, in no particular order (the table's).

    A line is the subject as `registry.subject.upserted.v1` would carry it now, with its risk
    classes by domain: `{"type": …, "data": {…}, "risk_classes": {"general": "B", …}}`."""
    s = subjects.c
    tags, items = _tags_by_dimension(), _item_ids()
    data = {
        "subject_id": s.subject_id, "uscc": s.uscc, "name": s.name,
        "subject_type": s.subject_type, "status": s.status, "region_code": s.region_code,
        "unit_code": s.unit_code, "industry_code": s.industry_code,
        "registered_address": s.registered_address, "business_address": s.business_address,
        "registered_on": s.registered_on, "tags": tags.c.tags,
        "applicable_item_ids": items.c.ids, "classification": s.classification,
        "version": s.version, "source": s.source, "source_updated_at": s.source_updated_at,
    }  # fmt: skip
    beside = {"risk_classes": _classes_held(s.uscc)}
    lines = _lines(SubjectUpserted, data, beside, subjects, tags, items)
    return _as_text(lines.where(*clauses))


def _conflicts_of(shown: ConflictsShown) -> Any:
    i, c = officers.c, conflicts.c
    fields = {
        "conflict_id": c.conflict_id, "inspector_id": c.inspector_id,
        "subject_uscc": c.subject_uscc, "since": c.since, "source": c.source,
        "withdrawn": c.withdrawn, "inspector_version": i.version, "changed_at": c.updated_at,
    }  # fmt: skip
    declared = _json_object(_fields_of(InspectorConflictDeclared, fields))
    listed = (
        sa.select(
            sa.func.coalesce(
                sa.func.json_agg(
                    sa.dialects.postgresql.aggregate_order_by(declared, c.created_at, c.conflict_id)
                ),
                sa.literal_column("'[]'::json"),
            )
        )
        .where(c.inspector_id == i.inspector_id)
        .scalar_subquery()
    )
    if shown.to_all:
        return listed
    visible: list[Any] = []
    if shown.department_type is not None:
        visible.append(i.department_type == shown.department_type)
    if shown.officer_id is not None:
        visible.append(sa.cast(i.inspector_id, sa.Text) == shown.officer_id)
    if not visible:
        return sa.null()
    return sa.case((sa.or_(*visible), listed), else_=sa.null())


def inspector_lines_query(where: InspectorFilter, shown: ConflictsShown) -> Any:
    """Every officer the filter selects, one line each: the officer as
    `registry.inspector.upserted.v1` would carry them now, with their declared conflicts as
    `registry.inspector.conflict_declared.v1` carried each (null where the caller may not see
    them): `{"type": …, "data": {…}, "conflicts": [{…}, …] | null}`."""
    i = officers.c
    data = {
        "inspector_id": i.inspector_id, "name": i.name, "org_code": i.unit_code,
        "region_code": i.region_code, "station_code": i.station_code,
        "department_type": i.department_type, "qualifications": i.qualifications,
        "specialties": i.specialties, "cert_valid_until": i.cert_valid_until,
        "status": i.status, "version": i.version, "changed_at": i.updated_at,
    }  # fmt: skip
    lines = _lines(InspectorUpserted, data, {"conflicts": _conflicts_of(shown)}, officers)
    return _as_text(lines.where(*inspector_clauses(where)))


def page_range(first: int, end: int | None) -> list[Any]:
    """Clauses keeping the subjects whose rows lie in heap pages [first, end), or from `first`
    on: PostgreSQL reads just those pages (a TID range scan). A row the snapshot sees stays
    where it is while the snapshot is held, so ranges that cover the table hold each of its
    rows once, whatever is written meanwhile."""
    ctid = f"{subjects.name}.ctid"
    clauses = [sa.text(f"{ctid} >= '({int(first)},0)'::tid")]
    if end is not None:
        clauses.append(sa.text(f"{ctid} < '({int(end)},0)'::tid"))
    return clauses


class ExportReader:
    """Reads of one export, all inside its one transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def snapshot(self) -> Snapshot:
        row = (await self._connection.execute(_SNAPSHOT)).one()
        return Snapshot(row.snapshot, row.taken_at, row.last_seq, row.last_event_id)

    async def item_key(self, item_id: UUID) -> int | None:
        query = sa.select(index_items.c.item_key).where(index_items.c.item_id == item_id)
        return await self._connection.scalar(query)

    async def pages(self) -> int:
        """The subjects table's heap pages (every row the snapshot sees is in one of them)."""
        return int(await self._connection.scalar(_PAGES) or 0)

    async def export_snapshot(self) -> str:
        """Names this transaction's snapshot, for other transactions to read in it."""
        return str(await self._connection.scalar(sa.text("SELECT pg_export_snapshot()")))

    async def copy(self, query: Any, sink: Callable[[bytes], Awaitable[None]]) -> None:
        """The query's `line` texts, each followed by a newline, handed to `sink` as COPY
        delivers them (a few dozen kB at a time); the copy waits while `sink` does."""
        compiled = query.compile(
            dialect=self._connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        values = compiled.construct_params()
        processors = compiled._bind_processors
        args = [
            processors[name](values[name]) if name in processors else values[name]
            for name in compiled.positiontup or ()
        ]
        driver = await driver_of(self._connection)
        await driver.copy_from_query(str(compiled), *args, output=sink, **_COPY_AS_NDJSON)


@asynccontextmanager
async def export_transaction(
    database: Database, idle_seconds: float, max_seconds: float, snapshot: str | None = None
) -> AsyncIterator[ExportReader]:
    """A connection of its own in a REPEATABLE READ, READ ONLY transaction: every read sees the
    one snapshot its first query takes, or the `snapshot` another export transaction exported.
    PostgreSQL ends the transaction itself when it sits idle for `idle_seconds` or lasts
    `max_seconds`, whatever happens to this process; the connection is closed, not returned to
    the pool, when the transaction did not end cleanly."""
    if snapshot is not None and not _SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    async with database.engine.connect() as connection:
        await connection.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        try:
            await connection.begin()
            if snapshot is not None:  # before any query: it replaces the transaction's own
                await connection.execute(sa.text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            for name, seconds in (
                ("idle_in_transaction_session_timeout", idle_seconds),
                ("transaction_timeout", max_seconds),
            ):
                await connection.execute(
                    sa.text(f"SET LOCAL {name} = {int(seconds * 1000)}")  # ms; ours, not input
                )
            await connection.execute(sa.text("SET LOCAL TIME ZONE 'UTC'"))
            yield ExportReader(connection)
            await connection.rollback()
        except BaseException:
            await connection.invalidate()
            raise
