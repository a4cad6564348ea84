"""Sampling's subjects read model: tables, their order-tolerant writes, and the registry's
export as a stream of lines. Fed by the `sampling-subjects` consumer and, once for a fresh
database, by the export (`service/subjects.py`); never by a call made while handling an event.

An event's write is one statement that keeps the newer of what is held and what arrives (the
ordering keys are in `domain/subjects.py`), for any number of rows at once (executemany). The
export goes into empty tables, so its rows are copied (COPY) without a conflict to decide.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

import httpx
import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.kernel.auth import internal_audience
from shuangsui.kernel.service_auth import service_tokens
from shuangsui.kernel.service_client import RemoteProblem, ServiceCallError, ServiceClient
from shuangsui.kernel.settings import BaseServiceSettings
from shuangsui.sampling.domain.subjects import ReadModelState

metadata = sa.MetaData()

# One row per subject (registry.subject.upserted.v1), replaced by a higher `version`.
subjects = sa.Table(
    "subjects",
    metadata,
    sa.Column("uscc", sa.Text, primary_key=True),
    sa.Column("subject_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("subject_type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("unit_code", sa.Text, nullable=True),
    sa.Column("industry_code", sa.Text, nullable=True),
    sa.Column("registered_on", sa.Date, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("subjects_region", "region_code", "status"),
)

# Tags and item scope (upserted.v1 and tags_changed.v1), by (classification, scoped_at). Apart
# from `subjects` so that a re-tagging arriving before the subject itself is kept.
subject_scopes = sa.Table(
    "subject_scopes",
    metadata,
    sa.Column("uscc", sa.Text, primary_key=True),
    sa.Column("tags", JSONB, nullable=False),
    sa.Column("item_ids", ARRAY(PgUUID(as_uuid=True)), nullable=False),
    sa.Column("classification", sa.Integer, nullable=False),
    sa.Column("scoped_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("subject_scopes_items", "item_ids", postgresql_using="gin"),
)

# The credit risk class per domain (risk_class_changed.v2), by (as_of, changed_at).
subject_risk_classes = sa.Table(
    "subject_risk_classes",
    metadata,
    sa.Column("uscc", sa.Text, primary_key=True),
    sa.Column("domain", sa.Text, primary_key=True),
    sa.Column("risk_class", sa.String(1), nullable=False),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
)

# Where each read model stands: the export it was loaded from, and how far behind it is.
read_models = sa.Table(
    "read_models",
    metadata,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("snapshot", JSONB, nullable=True),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("loaded_rows", sa.BigInteger, nullable=True),
    sa.Column("current_to", sa.DateTime(timezone=True), nullable=True),
    sa.Column("pending", sa.BigInteger, nullable=True),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
)


def _newer(held: Any, arriving: Any) -> Any:
    """`arriving > held`, a NULL held value being older than any (rows from an export)."""
    return sa.or_(held.is_(None), held < arriving)


def _save_subjects_statement() -> Any:
    statement = insert(subjects)
    c = subjects.c
    return statement.on_conflict_do_update(
        index_elements=[c.uscc],
        set_={col.name: statement.excluded[col.name] for col in subjects.c if col.name != "uscc"},
        where=c.version < statement.excluded.version,
    )


def _save_scopes_statement() -> Any:
    statement = insert(subject_scopes)
    c, new = subject_scopes.c, statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[c.uscc],
        set_={name: new[name] for name in ("tags", "item_ids", "classification", "scoped_at")},
        where=sa.or_(
            c.classification < new.classification,
            sa.and_(c.classification == new.classification, _newer(c.scoped_at, new.scoped_at)),
        ),
    )


def _save_classes_statement() -> Any:
    statement = insert(subject_risk_classes)
    c, new = subject_risk_classes.c, statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[c.uscc, c.domain],
        set_={name: new[name] for name in ("risk_class", "as_of", "changed_at")},
        where=sa.or_(
            _newer(c.as_of, new.as_of),
            sa.and_(c.as_of == new.as_of, _newer(c.changed_at, new.changed_at)),
        ),
    )


SAVE_SUBJECTS = _save_subjects_statement()
SAVE_SCOPES = _save_scopes_statement()
SAVE_CLASSES = _save_classes_statement()


async def save_subjects(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(SAVE_SUBJECTS, list(rows))


async def save_scopes(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(SAVE_SCOPES, list(rows))


async def save_classes(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(SAVE_CLASSES, list(rows))


async def copy_into_empty(
    session: AsyncSession,
    subject_rows: Sequence[Mapping[str, Any]],
    scopes: Sequence[Mapping[str, Any]],
    classes: Sequence[Mapping[str, Any]],
) -> None:
    """Rows of an export into tables that held none of them (the loader checked, under its
    lock): COPY, in the session's transaction, several times faster than the upserts, whose
    conflict clauses have nothing to decide here. The rows are those the upserts take."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    tables = ((subjects, subject_rows), (subject_scopes, scopes),
              (subject_risk_classes, classes))  # fmt: skip
    for table, rows in tables:
        if not rows:
            continue
        columns = [c.name for c in table.columns]
        if table is subject_scopes:  # jsonb goes as its text
            rows = [{**r, "tags": orjson.dumps(r["tags"]).decode()} for r in rows]
        records = list(map(operator.itemgetter(*columns), rows))
        await driver.copy_records_to_table(table.name, records=records, columns=columns)


async def lock_loading(session: AsyncSession) -> None:
    """Held until the loading transaction ends: a second loader (the CLI beside the worker)
    waits, then finds the model loaded."""
    await session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext('sampling.subjects.load'))")
    )


async def holds_any_subject(session: AsyncSession) -> bool:
    return (
        await session.execute(sa.select(sa.literal(1)).select_from(subjects).limit(1))
    ).first() is not None


# ---- read model state ---------------------------------------------------------------------------


async def state(session: AsyncSession, model: str) -> ReadModelState | None:
    row = (
        await session.execute(sa.select(read_models).where(read_models.c.model == model))
    ).one_or_none()
    if row is None:
        return None
    snapshot = row.snapshot or {}
    taken_at = snapshot.get("taken_at")
    return ReadModelState(
        model=row.model,
        loaded_at=row.loaded_at,
        loaded_rows=row.loaded_rows,
        snapshot_taken_at=datetime.fromisoformat(taken_at) if taken_at else None,
        current_to=row.current_to,
        pending=row.pending,
        checked_at=row.checked_at,
    )


async def snapshot_of(session: AsyncSession, model: str) -> dict[str, Any] | None:
    """The export header the model was loaded from, or None if it was not."""
    held = await session.scalar(
        sa.select(read_models.c.snapshot).where(read_models.c.model == model)
    )
    return dict(held) if held is not None else None


async def save_loaded(
    session: AsyncSession, model: str, header: Mapping[str, Any], rows: int, at: datetime
) -> None:
    """The model now holds the export of `header`: it is current to the export's instant."""
    taken_at = datetime.fromisoformat(header["taken_at"])
    values = {"snapshot": dict(header), "loaded_at": at, "loaded_rows": rows,
              "current_to": taken_at, "pending": None, "checked_at": None}  # fmt: skip
    statement = insert(read_models).values(model=model, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=[read_models.c.model], set_=values)
    )


async def save_checked(
    session: AsyncSession, model: str, current_to: datetime | None, pending: int, at: datetime
) -> None:
    """What the worker saw of the model's consumer; only for a model that was loaded."""
    await session.execute(
        sa.update(read_models)
        .where(read_models.c.model == model, read_models.c.loaded_at.is_not(None))
        .values(current_to=current_to, pending=pending, checked_at=at)
    )


# ---- a draw's population (R15) ----------------------------------------------------------------


@dataclass(frozen=True)
class PopulationQuery:
    """Which subjects a batch draws from: active, in one of the regions (by their code
    prefixes), in scope of one of the items (the registry's `applicable_item_ids`), and — for a
    directed batch — of the subject types, industries (each code selects every code below it)
    and tags (any value within a dimension, every dimension named) given; empty adds nothing.
    The risk class is read in `risk_domain`; the strata filter is the caller's (B.2, Q4)."""

    region_prefixes: Sequence[str]
    item_ids: Sequence[UUID]
    risk_domain: str
    subject_types: Sequence[str] = ()
    industry_codes: Sequence[str] = ()
    tags: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class PopulationSubject:
    uscc: str
    subject_id: UUID
    unit_code: str | None
    risk_classes: Mapping[str, str]
    region_code: str = ""  # the subject's county: which B.10 county pool draws it
    registered_on: date | None = None  # B.7 REGISTERED_RECENTLY


async def population(session: AsyncSession, query: PopulationQuery) -> list[PopulationSubject]:
    s, sc, rc = subjects.c, subject_scopes.c, subject_risk_classes.c
    classes = sa.and_(rc.uscc == s.uscc, rc.domain == query.risk_domain)
    statement = (
        sa.select(s.uscc, s.subject_id, s.unit_code, rc.risk_class, s.region_code, s.registered_on)
        .select_from(
            subjects.join(subject_scopes, sc.uscc == s.uscc).outerjoin(
                subject_risk_classes, classes
            )
        )
        .where(
            s.status == "active",
            sa.or_(*(s.region_code.startswith(p, autoescape=True) for p in query.region_prefixes)),
            sc.item_ids.overlap(sa.literal(list(query.item_ids), ARRAY(PgUUID(as_uuid=True)))),
        )
    )
    if query.subject_types:
        statement = statement.where(s.subject_type.in_(list(query.subject_types)))
    if query.industry_codes:
        statement = statement.where(
            sa.or_(*(s.industry_code.startswith(c, autoescape=True) for c in query.industry_codes))
        )
    for dimension, values in query.tags.items():
        statement = statement.where(
            sc.tags[dimension].has_any(sa.literal(list(values), ARRAY(sa.Text)))
        )
    domain = query.risk_domain
    # Rows unpacked as tuples: 100,000s of rows, where a Row's attribute lookups were most of it.
    return [
        PopulationSubject(
            uscc, subject_id, unit_code, {domain: risk_class} if risk_class else {}, region,
            registered_on,
        )
        for uscc, subject_id, unit_code, risk_class, region, registered_on in (
            await session.execute(statement)
        )
    ]  # fmt: skip


async def subject_ids(session: AsyncSession, usccs: Sequence[str]) -> dict[str, UUID]:
    """The registry's ids of subjects known by USCC (a draw names them by USCC, B.1)."""
    if not usccs:
        return {}
    query = sa.select(subjects.c.uscc, subjects.c.subject_id).where(
        subjects.c.uscc == sa.any_(sa.literal(list(usccs), ARRAY(sa.Text)))
    )
    return {r.uscc: r.subject_id for r in await session.execute(query)}


# ---- the registry's export ----------------------------------------------------------------------

EXPORT_PATH = "/api/v1/registry/subjects:export"
EXPORT_OPERATION = "registry_subjects_export"


class RegistryExports(ServiceClient):
    """The registry's client, able to stream: an export is read line by line as it arrives,
    never held whole (a province's directory is gigabytes of JSON)."""

    @classmethod
    def of(cls, settings: BaseServiceSettings, caller: str, base_url: str) -> RegistryExports:
        return cls(
            "registry",
            base_url,
            service_tokens(settings, caller),
            audience=internal_audience(settings.auth_audience, "registry"),
            timeout=settings.service_call_timeout_seconds,
            attempts=1,
        )

    @contextlib.asynccontextmanager
    async def lines(
        self, params: Sequence[tuple[str, str]] = ()
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """The export's lines, decoded one by one; a refusal is a `ServiceCallError` before any
        line. Tried once: an export broken off is taken again from the start by the caller."""
        await self.start()
        assert self._http is not None
        headers = await self._context_headers()
        try:
            async with self._http.stream(
                "GET", EXPORT_PATH, params=list(params), headers=headers
            ) as answer:
                if answer.status_code >= 400:
                    await answer.aread()
                    raise ServiceCallError(self.service, EXPORT_OPERATION, RemoteProblem.of(answer))
                yield ndjson_objects(answer.aiter_bytes())
        except httpx.TransportError as exc:
            raise self._unreachable(EXPORT_OPERATION, type(exc).__name__) from None


async def ndjson_objects(chunks: AsyncIterator[bytes]) -> AsyncIterator[dict[str, Any]]:
    """NDJSON lines end at `\n` only. httpx's `aiter_lines` also ends them at U+2028, U+0085 and
    the other separators `str.splitlines` knows, which a JSON string may hold unescaped (a
    subject's name or address), so the bytes are split here."""
    pending = b""
    async for chunk in chunks:
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if line.strip():
                decoded: dict[str, Any] = orjson.loads(line)
                yield decoded
    if pending.strip():
        yield orjson.loads(pending)
