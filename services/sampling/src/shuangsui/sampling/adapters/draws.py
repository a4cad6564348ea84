"""Sampling's `draws` table: every IDS-1 draw of a batch, from its prepared inputs to its
result, failure or voiding. Written only by `service/draws.py` and its `draw_*.py` siblings, always under the batch's row lock
(`adapters.batches.batch_to_draw`), so the codes of a batch are taken one at a time; the database
itself refuses a second live draw of one decision (partial unique indexes, migrations 0005, 0006)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.drawspec.beacon import beacon_value_json, read_beacon_value
from shuangsui.drawspec.commitment import read_commitment
from shuangsui.drawspec.jsontext import JsonValue
from shuangsui.drawspec.model import BeaconValue
from shuangsui.sampling.domain.draws import (
    Draw,
    DrawKind,
    DrawStatus,
    DrawSummary,
    FailReason,
    Failure,
    Voiding,
    parse_draw_code,
)

metadata = sa.MetaData()

draws = sa.Table(
    "draws",
    metadata,
    sa.Column("draw_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("draw_code", sa.Text, nullable=False, unique=True),
    sa.Column("batch_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("batch_code", sa.Text, nullable=False),
    sa.Column("sequence", sa.SmallInteger, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("org_id", PgUUID(as_uuid=True), nullable=True),
    sa.Column("department_type", sa.Text, nullable=True),
    sa.Column("subjects_draw_code", sa.Text, nullable=True),
    sa.Column("county_code", sa.String(6), nullable=True),  # B.10 (migration 0006)
    sa.Column("lead_org_id", PgUUID(as_uuid=True), nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    # The four lists (DrawInputs.to_json), `strata` and `team` as the document writes them.
    sa.Column("inputs", JSONB, nullable=False),
    # [{stratum, population}] in the batch's strata order: what the prepare answers.
    sa.Column("population", JSONB, nullable=False),
    sa.Column("commitment", JSONB, nullable=True),
    sa.Column("commitment_sha256", sa.String(64), nullable=True),
    sa.Column("beacon_source", sa.Text, nullable=True),
    sa.Column("beacon", JSONB, nullable=True),
    # commit-reveal: [{party_id, commitment, secret?, revealed_at?}] in document order.
    sa.Column("parties", JSONB, nullable=True),
    sa.Column("reveal_deadline", sa.DateTime(timezone=True), nullable=True),
    sa.Column("beacon_value", JSONB, nullable=True),
    sa.Column("bundle", JSONB, nullable=True),
    sa.Column("result", JSONB, nullable=True),
    sa.Column("failure", JSONB, nullable=True),
    sa.Column("voiding", JSONB, nullable=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("prepared_by", sa.Text, nullable=False),
    sa.Column("prepared_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("committed_by", sa.Text, nullable=True),
    sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("batch_id", "sequence", name="draws_batch_sequence"),
)


class LiveDrawExists(Exception):
    """The database refused a second live draw of the same decision (or a code taken twice)."""


@dataclass(frozen=True)
class StoredDraw:
    """A row of `draws`: the domain's draw and what the service keeps beside it."""

    draw: Draw
    lead_org_id: UUID
    region_code: str
    inputs: dict[str, JsonValue]
    population: list[dict[str, Any]]
    revision: int
    prepared_by: str
    prepared_at: datetime
    parties: list[dict[str, Any]] | None = None
    reveal_deadline: datetime | None = None
    committed_by: str | None = None
    committed_at: datetime | None = None
    revealed_at: datetime | None = None
    completed_at: datetime | None = None
    ended_at: datetime | None = None
    # A void asked for and not yet approved: {reason, requested_by, requested_at} (R14). Once
    # approved it is the domain's `draw.voided`, kept in the same `voiding` column.
    void_request: dict[str, Any] | None = None
    # The prepare's own plan (`domain.draw_inputs.DrawPlan`) beside the very `inputs` object
    # written from it, while this process holds both: `service.draw_access.plan_of` takes it
    # only if `inputs` is still that object, so a copy with other inputs never uses it. Never
    # stored; a draw read from the table has none.
    prepared_plan: tuple[dict[str, JsonValue], Any] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def batch_code(self) -> str:
        return parse_draw_code(self.draw.draw_code).batch_code


def _row(stored: StoredDraw) -> dict[str, Any]:
    draw = stored.draw
    beacon = draw.commitment["beacon"] if draw.commitment is not None else None
    return {
        "draw_id": draw.draw_id, "draw_code": draw.draw_code, "batch_id": draw.batch_id,
        "batch_code": stored.batch_code, "sequence": parse_draw_code(draw.draw_code).sequence,
        "kind": draw.kind.value, "status": draw.status.value, "org_id": draw.org_id,
        "department_type": draw.department_type, "subjects_draw_code": draw.subjects_draw_code,
        "county_code": draw.county_code, "lead_org_id": stored.lead_org_id, "region_code": stored.region_code,
        "inputs": stored.inputs, "population": stored.population,
        "commitment": draw.commitment, "commitment_sha256": draw.commitment_sha256,
        "beacon_source": draw.beacon_source, "beacon": beacon, "parties": stored.parties,
        "reveal_deadline": stored.reveal_deadline, "bundle": draw.bundle, "result": draw.result,
        "revision": stored.revision, "prepared_by": stored.prepared_by,
        "prepared_at": stored.prepared_at, "committed_by": stored.committed_by,
        "committed_at": stored.committed_at,
        "beacon_value": (
            beacon_value_json(draw.beacon_value) if draw.beacon_value is not None else None
        ),
        "failure": _failure_json(draw.failure), "revealed_at": stored.revealed_at,
        "voiding": _voiding_json(draw.voided) if draw.voided else stored.void_request,
        "completed_at": stored.completed_at, "ended_at": stored.ended_at,
    }  # fmt: skip


def _failure_json(failure: Failure | None) -> dict[str, Any] | None:
    if failure is None:
        return None
    return {"reason": failure.reason.value, "missing_parties": list(failure.missing_parties),
            "detail": failure.detail}  # fmt: skip


def _voiding_json(voiding: Voiding) -> dict[str, Any]:
    return {"reason": voiding.reason, "requested_by": voiding.requested_by,
            "approved_by": voiding.approved_by}  # fmt: skip


async def insert(session: AsyncSession, stored: StoredDraw) -> None:
    """A new draw; `LiveDrawExists` if the batch already holds a live one of the decision."""
    try:
        async with session.begin_nested():
            await session.execute(sa.insert(draws).values(**_row(stored)))
    except IntegrityError:
        raise LiveDrawExists(stored.draw.draw_code) from None


async def update(session: AsyncSession, stored: StoredDraw, *, inputs: bool = False) -> StoredDraw:
    """Store the draw's new state with the next revision (its ETag). The frozen `inputs` and
    `population` are written only with `inputs=True` (a prepared draw rebuilt in place): no
    later step changes them, and re-encoding a large manifest was much of a commit's time."""
    written = replace(stored, revision=stored.revision + 1)
    row = _row(written)
    if not inputs:
        del row["inputs"], row["population"]
    await session.execute(
        sa.update(draws).where(draws.c.draw_id == stored.draw.draw_id).values(**row)
    )
    return written


async def summaries(session: AsyncSession, batch_id: UUID) -> list[DrawSummary]:
    """Every draw of the batch, ended ones too: they tell which code and draw come next."""
    c = draws.c
    query = sa.select(
        c.draw_code, c.kind, c.status, c.org_id, c.subjects_draw_code, c.county_code
    ).where(c.batch_id == batch_id)
    return [
        DrawSummary(
            r.draw_code,
            DrawKind(r.kind),
            DrawStatus(r.status),
            r.org_id,
            r.subjects_draw_code,
            r.county_code,
        )
        for r in await session.execute(query.order_by(c.sequence))
    ]


# Every column, the stored inputs without their manifest (JSONB `-`, in the database).
_WITHOUT_MANIFEST = (
    *(c for c in draws.c if c.name != "inputs"),
    draws.c.inputs.op("-", return_type=JSONB)("manifest").label("inputs"),
)


async def draw(
    session: AsyncSession, draw_id: UUID, *, lock: bool = False, manifest: bool = True
) -> StoredDraw | None:
    """The draw; with `manifest=False` its `inputs` lack the manifest (the other lists stay):
    for the checks before a lock and for reads that never use it, so that 100,000s of entries
    are not decoded for nothing. Writing such a draw back keeps its inputs (`update`)."""
    query = sa.select(*_WITHOUT_MANIFEST) if not manifest else sa.select(draws)
    query = query.where(draws.c.draw_id == draw_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return _stored(row._mapping) if row is not None else None


async def draw_id_of(session: AsyncSession, draw_code: str) -> UUID | None:
    """The draw behind a public code (B.6)."""
    query = sa.select(draws.c.draw_id).where(draws.c.draw_code == draw_code)
    found: UUID | None = (await session.execute(query)).scalar_one_or_none()
    return found


async def draw_by_code(session: AsyncSession, draw_code: str) -> StoredDraw | None:
    row = (await session.execute(sa.select(draws).where(draws.c.draw_code == draw_code))).first()
    return _stored(row._mapping) if row is not None else None


@dataclass(frozen=True)
class DrawQuery:
    """Which draws to list, in code order after `after_code`: those anyone may see (committed
    or later) and the prepared ones of the lead orgs `led_by`."""

    led_by: Collection[UUID] = ()
    batch_id: UUID | None = None
    statuses: Collection[DrawStatus] | None = None
    region_prefix: str = ""
    after_code: str | None = None
    limit: int = 50


async def search(session: AsyncSession, query: DrawQuery) -> list[StoredDraw]:
    c = draws.c
    visible = c.status != DrawStatus.prepared.value
    if query.led_by:
        visible = sa.or_(visible, c.lead_org_id.in_(list(query.led_by)))
    statement = sa.select(draws).where(
        visible, c.region_code.startswith(query.region_prefix, autoescape=True)
    )
    if query.batch_id is not None:
        statement = statement.where(c.batch_id == query.batch_id)
    if query.statuses is not None:
        statement = statement.where(c.status.in_([s.value for s in query.statuses]))
    if query.after_code is not None:
        statement = statement.where(c.draw_code > query.after_code)
    statement = statement.order_by(c.draw_code).limit(query.limit)
    return [_stored(r._mapping) for r in await session.execute(statement)]


def _beacon_value(row: Any) -> BeaconValue | None:
    if row["beacon_value"] is None:
        return None
    commitment = read_commitment(row["commitment"])
    return read_beacon_value(commitment.beacon, row["beacon_value"], "beacon_value")


def _failure(value: Any) -> Failure | None:
    if value is None:
        return None
    return Failure(FailReason(value["reason"]), tuple(value["missing_parties"]), value["detail"])


def _voided(row: Any) -> Voiding:
    value = row["voiding"]
    return Voiding(value["reason"], value["requested_by"], value["approved_by"])


def _stored(row: Any) -> StoredDraw:
    voided = row["status"] == DrawStatus.voided.value
    draw = Draw(
        draw_id=row["draw_id"],
        draw_code=row["draw_code"],
        batch_id=row["batch_id"],
        kind=DrawKind(row["kind"]),
        status=DrawStatus(row["status"]),
        org_id=row["org_id"],
        department_type=row["department_type"],
        subjects_draw_code=row["subjects_draw_code"],
        county_code=row["county_code"],
        commitment=row["commitment"],
        commitment_sha256=row["commitment_sha256"],
        beacon_value=_beacon_value(row),
        bundle=row["bundle"],
        result=row["result"],
        failure=_failure(row["failure"]),
        voided=_voided(row) if voided else None,
    )
    return StoredDraw(
        draw=draw,
        lead_org_id=row["lead_org_id"],
        region_code=row["region_code"],
        inputs=row["inputs"],
        population=row["population"],
        revision=row["revision"],
        prepared_by=row["prepared_by"],
        prepared_at=row["prepared_at"],
        parties=row["parties"],
        reveal_deadline=row["reveal_deadline"],
        committed_by=row["committed_by"],
        committed_at=row["committed_at"],
        revealed_at=row["revealed_at"],
        completed_at=row["completed_at"],
        ended_at=row["ended_at"],
        void_request=None if voided else row["voiding"],
    )


async def overdue(session: AsyncSession, now: datetime) -> list[UUID]:
    """Committed commit-reveal and drand draws past their deadline: each has failed (§5.1,
    §5.2) unless its last reveal or its round came in time, which the service decides under
    the draw's lock."""
    c = draws.c
    query = sa.select(c.draw_id).where(
        c.status == DrawStatus.committed.value,
        c.beacon_source.in_(["commit-reveal", "drand-quicknet"]),
        c.reveal_deadline < now,
    )
    return list((await session.execute(query.order_by(c.reveal_deadline))).scalars())


async def live_of_batch(session: AsyncSession, batch_id: UUID) -> list[UUID]:
    """The batch's draws not yet completed, failed or voided: a cancellation fails them."""
    c = draws.c
    ended = [DrawStatus.completed.value, DrawStatus.failed.value, DrawStatus.voided.value]
    query = sa.select(c.draw_id).where(c.batch_id == batch_id, c.status.not_in(ended))
    return list((await session.execute(query.order_by(c.sequence))).scalars())


async def awaiting_rounds(session: AsyncSession, now: datetime) -> list[tuple[UUID, int]]:
    """Committed drand draws within their deadline, with their rounds, earliest deadline first;
    which rounds are due yet is the caller's to say (the round's time is drand's rule)."""
    c = draws.c
    query = sa.select(c.draw_id, c.beacon["round"].as_integer()).where(
        c.status == DrawStatus.committed.value,
        c.beacon_source == "drand-quicknet",
        c.reveal_deadline >= now,
    )
    return [(r[0], r[1]) for r in await session.execute(query.order_by(c.reveal_deadline))]
