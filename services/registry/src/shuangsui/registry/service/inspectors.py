"""Inspector directory use cases (执法检查人员名录库): one function per command, one transaction each."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from shuangsui.contracts.batches import ChangeKind, RowError
from shuangsui.contracts.events.registry_inspectors import (
    InspectorConflictDeclared,
    InspectorUpserted,
)
from shuangsui.contracts.regions import InvalidRegionCode, validate_region_code
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.bulk import BulkReport
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.envelope import Outgoing
from shuangsui.registry.adapters import inspectors as repo
from shuangsui.registry.adapters import orgs as org_repo
from shuangsui.registry.domain import inspectors as rules
from shuangsui.registry.domain.inspectors import (
    Change,
    ConflictSource,
    DeclaredConflict,
    Inspector,
    InspectorRecord,
    InspectorStatus,
    Jurisdiction,
    KnownUnits,
)
from shuangsui.registry.domain.inspectors_import import parse_record, parse_sheet
from shuangsui.registry.domain.inspectors_sync import FieldConflict, plan_justice_sync
from shuangsui.registry.domain.inspectors_visibility import Reader, Shown
from shuangsui.registry.domain.subjects import PushMode
from shuangsui.registry.service.batch_imports import finish_batch, read_rows

CONFLICT_ALREADY_DECLARED = p.problem_type(
    "conflict-already-declared", 409, "Conflict already declared · 回避事由已登记",
    "The officer already has a live declaration for this subject.",
)  # fmt: skip
CONFLICT_ALREADY_WITHDRAWN = p.problem_type(
    "conflict-already-withdrawn", 409, "Conflict already withdrawn · 回避事由已撤回",
    "The declaration was withdrawn earlier; declare a new one if the relationship is back.",
)  # fmt: skip
CONCURRENT_CHANGE = p.problem_type(
    "inspector-changed-concurrently", 409, "Officer changed by another request meanwhile · 人员并发修改",
    "Another request created or changed the same officer at the same moment; retry.",
)  # fmt: skip


@dataclass
class JusticeSyncReport(BulkReport):
    """A bulk report, plus the differences the sync reports instead of overwriting."""

    conflicts: list[tuple[int, UUID, FieldConflict]] = field(default_factory=list)


def jurisdiction_of(by: Principal) -> Jurisdiction:
    prefix = RegionScope.of(by).prefix
    full = by.is_national or by.has_any_role(Role.provincial_admin, Role.department_admin)
    if full or Role.integrator in by.roles:
        return Jurisdiction(prefix)
    # A partner department's admin keeps only its own department's officers (DOMAIN §7).
    return Jurisdiction(prefix, by.department_type or "")


# Sampling draws teams for the whole province and must know every declared conflict (R19): a
# service principal granted the directory export reads it as the directory's keepers do.
DIRECTORY_EXPORT_SCOPE = "registry:inspectors:export"


def reader_of(by: Principal) -> Reader:
    """What the token may see of the directory (the rule itself is `Reader`'s)."""
    keeper = (
        by.is_national
        or by.has_any_role(Role.provincial_admin, Role.department_admin)
        or (by.is_service and DIRECTORY_EXPORT_SCOPE in by.scopes)
    )
    # A partner department's admin sees the officers it keeps: its own department's.
    partner = jurisdiction_of(by).department_type if Role.partner_admin in by.roles else None
    return Reader(RegionScope.of(by).prefix, keeper, partner, by.sub)


def known_region(code: str) -> bool:
    try:
        validate_region_code(code, in_force=True)
    except InvalidRegionCode:
        return False
    return True


def _upserted(inspector: Inspector, by: Principal, now: datetime) -> Outgoing:
    r = inspector.record
    payload = InspectorUpserted(
        inspector_id=inspector.inspector_id, name=r.name, org_code=r.unit_code,
        region_code=r.region_code, station_code=r.station_code, department_type=r.department_type,
        qualifications=list(r.qualifications), specialties=list(r.specialties),
        cert_valid_until=r.cert_valid_until, status=r.status.value, version=inspector.version,
        changed_at=now,
    )  # fmt: skip
    return Outgoing(payload, subject=str(inspector.inspector_id), actor=by.sub)


async def _known_units(
    uow: UnitOfWork, records: Iterable[InspectorRecord], by: Principal
) -> KnownUnits:
    """The org directory's word on the units the records name, read once for the whole batch.
    Only the caller's own region is looked up: a row outside it is refused for its region, and
    the answer must not tell the caller whether another province has loaded its orgs."""
    scope = RegionScope.of(by)
    mine = (r for r in records if scope.allows(r.region_code))
    return await org_repo.known_units(uow.session, mine)


async def _apply(uow: UnitOfWork, changes: Sequence[Change], by: Principal) -> None:
    applied = [c.inspector for c in changes if c.applies]
    try:
        await repo.save_all(uow.session, applied)
    except IntegrityError as exc:
        if "idempotency_keys" in str(exc.orig):
            raise
        raise p.Problem(CONCURRENT_CHANGE) from None
    now = datetime.now(UTC)
    for inspector in applied:
        uow.record(_upserted(inspector, by, now))


async def import_inspectors(
    uow: UnitOfWork, media_type: str, body: bytes, mode: PushMode, by: Principal
) -> BulkReport:
    """Import a CSV/XLSX sheet keyed by certificate number; atomic unless `per_row`.

    The sheet is checked whole, not in a push's chunks: it is small (at most MAX_ROWS), an XLSX
    is read whole anyway, and a repeated certificate may stand anywhere in it."""
    sheet = read_rows(media_type, body, lambda s: parse_sheet(s, known_region))
    report = BulkReport(mode, received=sheet.received)
    async with uow:
        certs = (r.cert_no for _, r in sheet.valid)
        stored = await repo.by_key(uow.session, "cert_no", certs)
        units = await _known_units(uow, (r for _, r in sheet.valid), by)
        changes, refused = rules.plan_import(sheet.valid, stored, jurisdiction_of(by), units)
        errors = sheet.invalid + refused
        return await finish_batch(uow, report, changes, errors, lambda c: _apply(uow, c, by))


def _justice_records(
    sent: Sequence[Mapping[str, str]],
) -> tuple[list[tuple[int, InspectorRecord]], list[RowError]]:
    """The records that read, by their position in the batch (from 1), and the others' errors."""
    records, invalid = [], []
    for position, cells in enumerate(sent, start=1):
        record, errors = parse_record(cells, position, known_region)
        if not cells.get("justice_db_ref", "").strip():
            errors.append(RowError(position, "justice_db_ref", "required"))
        if record is not None and not errors:
            records.append((position, record))
        key = cells.get("cert_no", "").strip() or None
        invalid += [replace(e, key=key) for e in errors]
    return records, invalid


async def sync_justice(
    uow: UnitOfWork, sent: Sequence[Mapping[str, str]], mode: PushMode, by: Principal
) -> JusticeSyncReport:
    """Merge the justice database's officers without overwriting (see `inspectors_sync`);
    `sent` holds each record's fields as text, in the order sent."""
    records, invalid = _justice_records(sent)
    dupes = rules.duplicate_errors(records, "justice_db_ref", "justice-database reference")
    dupes += rules.duplicate_errors(records, "cert_no", "certificate number")
    cert_at = {line: record.cert_no for line, record in records}
    dupes = [replace(e, key=cert_at[e.line]) for e in dupes]
    bad_lines = {e.line for e in dupes}
    records = [(n, r) for n, r in records if n not in bad_lines]
    report = JusticeSyncReport(mode, received=len(sent))
    async with uow:
        refs = [r.justice_db_ref for _, r in records if r.justice_db_ref]
        by_ref = await repo.by_key(uow.session, "justice_db_ref", refs)
        by_cert = await repo.by_key(uow.session, "cert_no", (r.cert_no for _, r in records))
        units = await _known_units(uow, (r for _, r in records), by)
        outcomes, refused = plan_justice_sync(records, by_ref, by_cert, jurisdiction_of(by), units)
        report.conflicts = [
            (o.change.line, o.change.inspector.inspector_id, c)
            for o in outcomes
            for c in o.conflicts
        ]
        changes = [o.change for o in outcomes]
        errors = invalid + dupes + refused
        return await finish_batch(uow, report, changes, errors, lambda c: _apply(uow, c, by))


async def get_inspector(uow: UnitOfWork, inspector_id: UUID, by: Principal) -> Shown:
    reader = reader_of(by)
    async with uow:
        found = await repo.get(uow.session, inspector_id)
    if found is None or not reader.sees(found):
        raise p.Problem(p.NOT_FOUND, "no such inspector")
    return reader.show(found)


async def list_inspectors(
    uow: UnitOfWork, where: repo.InspectorFilter, after: UUID | None, limit: int, by: Principal
) -> list[Shown]:
    """The officers `where` asks for, within what the caller sees."""
    reader = reader_of(by)
    department = reader.department_filter(where.department_type)
    where = replace(where, region_prefix=reader.region_prefix, department_type=department)
    async with uow:
        found = await repo.search(uow.session, where, after, limit)
    return [reader.show(i) for i in found]


async def _load_for_change(
    uow: UnitOfWork, inspector_id: UUID, if_match: str | None, by: Principal
) -> Inspector:
    found = await repo.get(uow.session, inspector_id, lock=True)
    if found is None or not RegionScope.of(by).allows(found.record.region_code):
        raise p.Problem(p.NOT_FOUND, "no such inspector")
    refused = jurisdiction_of(by).refusal(found.record)
    if refused is not None:
        raise p.Problem(p.FORBIDDEN, refused[1])
    check_if_match(if_match, found.version)
    return found


@dataclass(frozen=True)
class InspectorChanges:
    """A PATCH: only the fields sent change; the directory fields an office edits by hand."""

    status: InspectorStatus | None = None
    position: str | None = None
    station_code: str | None = None
    cert_valid_until: date | None = None
    qualifications: tuple[str, ...] | None = None
    specialties: tuple[str, ...] | None = None


async def update_inspector(
    uow: UnitOfWork, inspector_id: UUID, changes: InspectorChanges, if_match: str | None,
    by: Principal,
) -> Shown:  # fmt: skip
    """Change status (and other hand-kept fields) under If-Match; a no-op records nothing.

    A station sent must be an org of the directory (422 naming `station_code` otherwise); the
    unit the officer already names is not judged here, so that suspending an officer never waits
    for the office's reference data to be put right."""
    async with uow:
        current = await _load_for_change(uow, inspector_id, if_match, by)
        sent = {k: v for k, v in vars(changes).items() if v is not None}
        record = replace(current.record, **sent)
        if "station_code" in sent:
            units = await _known_units(uow, [record], by)
            unknown = [p.FieldError(f, r) for f, r in units.refusals(record) if f in sent]
            if unknown:
                raise p.Problem(p.VALIDATION, "the officer is not valid", errors=unknown)
        if record == current.record:
            return reader_of(by).show(current)
        updated = replace(current, record=record, version=current.version + 1)
        await _apply(uow, [Change(0, ChangeKind.updated, updated)], by)
        await uow.commit()
        return reader_of(by).show(updated)


async def declare_conflict(
    uow: UnitOfWork, inspector_id: UUID, subject_uscc: str, since: date, reason: str,
    by: Principal,
) -> tuple[Inspector, DeclaredConflict]:  # fmt: skip
    """R19: the officer (for themselves) or an admin (for the directory) declares a conflict."""
    own = by.sub == str(inspector_id) and Role.inspector in by.roles
    keeper = by.is_national or by.has_any_role(
        Role.provincial_admin, Role.department_admin, Role.partner_admin
    )
    if not (own or keeper):
        raise p.Problem(p.FORBIDDEN, "an inspector declares conflicts for their own record only")
    source = ConflictSource.inspector if own else ConflictSource.directory
    conflict = DeclaredConflict(uuid.uuid4(), subject_uscc, since, source, reason)
    async with uow:
        current = await repo.get(uow.session, inspector_id, lock=True)
        if current is None or not RegionScope.of(by).allows(current.record.region_code):
            raise p.Problem(p.NOT_FOUND, "no such inspector")
        if not own and jurisdiction_of(by).refusal(current.record) is not None:
            raise p.Problem(p.FORBIDDEN, "the officer is not one your organisation keeps")
        try:
            updated = rules.declare_conflict(current, conflict)
        except rules.ConflictAlreadyDeclared:
            raise p.Problem(CONFLICT_ALREADY_DECLARED) from None
        await repo.add_conflict(uow.session, inspector_id, conflict, by.sub)
        await repo.bump_version(uow.session, updated)
        uow.record(_conflict_event(updated, conflict, by))
        await uow.commit()
    return updated, conflict


async def withdraw_conflict(
    uow: UnitOfWork, inspector_id: UUID, conflict_id: UUID, by: Principal
) -> tuple[Inspector, DeclaredConflict]:
    """Only an admin withdraws: an officer lifting their own recusal would choose their cases."""
    async with uow:
        current = await repo.get(uow.session, inspector_id, lock=True)
        if current is None or not RegionScope.of(by).allows(current.record.region_code):
            raise p.Problem(p.NOT_FOUND, "no such inspector")
        if jurisdiction_of(by).refusal(current.record) is not None:
            raise p.Problem(p.FORBIDDEN, "the officer is not one your organisation keeps")
        try:
            updated, withdrawn = rules.withdraw_conflict(current, conflict_id)
        except rules.UnknownConflict:
            raise p.Problem(p.NOT_FOUND, "no such conflict declaration") from None
        except rules.ConflictAlreadyWithdrawn:
            raise p.Problem(CONFLICT_ALREADY_WITHDRAWN) from None
        await repo.mark_withdrawn(uow.session, conflict_id, by.sub)
        await repo.bump_version(uow.session, updated)
        uow.record(_conflict_event(updated, withdrawn, by))
        await uow.commit()
    return updated, withdrawn


def _conflict_event(inspector: Inspector, conflict: DeclaredConflict, by: Principal) -> Outgoing:
    payload = InspectorConflictDeclared(
        conflict_id=conflict.conflict_id, inspector_id=inspector.inspector_id,
        subject_uscc=conflict.subject_uscc, since=conflict.since, source=conflict.source.value,
        withdrawn=conflict.withdrawn, inspector_version=inspector.version,
        changed_at=datetime.now(UTC),
    )  # fmt: skip
    return Outgoing(payload, subject=str(inspector.inspector_id), actor=by.sub)
