"""Use cases of automatic tags and the item index: edit the rules, follow the items in force,
re-classify in the background with visible progress, fold the population counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from shuangsui.contracts.events.registry_subjects import SubjectTags, TagsChanged
from shuangsui.contracts.workdays import shanghai_date
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, system_actor
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.envelope import Outgoing
from shuangsui.registry.adapters import classification as repo
from shuangsui.registry.adapters import items as item_repo
from shuangsui.registry.adapters.population import append_deltas, fold_deltas, recount
from shuangsui.registry.adapters.risk_classes import classes_by_uscc
from shuangsui.registry.adapters.subjects import placement_of
from shuangsui.registry.domain import items as item_rules
from shuangsui.registry.domain.classification import Classifier, ItemScope, same_items
from shuangsui.registry.domain.items import ItemStatus
from shuangsui.registry.domain.population import CountKey, Placement, count_changes, nonzero
from shuangsui.registry.domain.tags import (
    TagInput,
    TagRule,
    TagRules,
    rule_problems,
    rule_to_json,
    tags_by_dimension,
)
from shuangsui.registry.service.items_read import version_in_force

PASS_BATCH = 2000
CHANGES_PER_EVENT = 250
LOCK_WAIT_MS = 5000
WORKER = system_actor("registry")  # the actor of what the worker does on its own

CLASSIFICATION_BUSY = p.problem_type(
    "classification-busy", 409, "Pushes in progress · 正在接收推送",
    "Subjects are being pushed under the current rules; a rule change waits for them. Try again "
    "in a minute.",
)  # fmt: skip


async def current_classifier(uow: UnitOfWork) -> Classifier:
    """The classification a push writes under, with the tag corrections in force; held
    (shared) until the push commits."""
    await repo.share_classification(uow.session)
    return await repo.classifier_of(uow.session, await repo.latest_classification(uow.session))


async def get_rules(uow: UnitOfWork) -> repo.StoredRules:
    async with uow:
        return await repo.latest_rules(uow.session)


async def replace_rules(
    uow: UnitOfWork,
    rules: Sequence[TagRule],
    note: str,
    if_match: str | None,
    families: Sequence[str],
    by: Principal,
) -> dict[str, Any]:
    """Save a new version of the rules and start re-classifying every subject under them."""
    problems = rule_problems(rules)
    if problems:
        raise p.Problem(
            p.VALIDATION,
            f"{len(problems)} problem(s) in the rules",
            errors=[p.FieldError(f"rules[{x.index}].{x.field}", x.reason) for x in problems],
        )
    now = datetime.now(UTC)
    async with uow:
        await _own(uow)
        current = await repo.latest_rules(uow.session)
        check_if_match(if_match, current.rules.version)
        latest = await repo.latest_classification(uow.session)
        if latest is not None and tuple(rules) == current.rules.rules:
            return latest  # the same rules again: nothing to re-tag
        saved = TagRules(current.rules.version + 1, tuple(rules))
        await repo.insert_rules(
            uow.session, saved, [rule_to_json(r) for r in rules], note, by.sub, now
        )
        version = await _issue(
            uow, saved.version, await _items_in_force(uow, families, shanghai_date(now)), "tag rules "
            f"version {saved.version}", by.sub, now,
        )  # fmt: skip
        await uow.commit()
    return await get_classification(uow, version)


async def follow_items_in_force(
    uow: UnitOfWork, families: Sequence[str], today: date
) -> int | None:
    """Start a new classification when the items in force differ from the current one's (a
    list was published, or a published version took effect today). Returns its number."""
    now = datetime.now(UTC)
    async with uow:
        items = await _items_in_force(uow, families, today)
        latest = await repo.latest_classification(uow.session)
        if _same(latest, items):
            return None
        await _own(uow)
        latest = await repo.latest_classification(uow.session)  # may have moved meanwhile
        if _same(latest, items):
            return None
        rules_version = latest["rules_version"] if latest else 0
        version = await _issue(uow, rules_version, items, "items in force changed", WORKER, now)
        await uow.commit()
    return version


async def get_classification(uow: UnitOfWork, version: int) -> dict[str, Any]:
    async with uow:
        row = await repo.get_classification(uow.session, version)
    if row is None:
        raise p.Problem(p.NOT_FOUND, f"no classification {version}")
    return row


async def list_classifications(
    uow: UnitOfWork, before: int | None, limit: int
) -> list[dict[str, Any]]:
    async with uow:
        return await repo.page_classifications(uow.session, before, limit)


async def run_pass_step(uow: UnitOfWork) -> bool:
    """Re-classify the next batch of subjects behind the newest classification. False when
    there is nothing to do (or only rows that pushes hold right now)."""
    now = datetime.now(UTC)
    async with uow:
        job = await repo.claim_pass(uow.session)
        if job is None:
            return False
        version = job["version"]
        classifier = await repo.classifier_of(uow.session, job)
        rows = await repo.subjects_behind(uow.session, version, job["cursor"], PASS_BATCH)
        if not rows:
            left = await repo.count_behind(uow.session, version)
            # Rows a push held were skipped; a new pass from the start meets them.
            finished = {"status": "done", "finished_at": now} if left == 0 else {}
            await repo.save_pass(uow.session, version, cursor=None, **finished)
            await uow.commit()
            return False
        changed = await reclassify(uow, classifier, rows)
        await repo.save_pass(
            uow.session, version, status="running", cursor=rows[-1].uscc,
            started_at=job["started_at"] or now, done=job["done"] + len(rows),
            changed=job["changed"] + changed,
        )  # fmt: skip
        await uow.commit()
    return True


async def fold_counts(uow: UnitOfWork) -> int:
    async with uow:
        folded = await fold_deltas(uow.session)
        await uow.commit()
    return folded


async def reclassify(
    uow: UnitOfWork, classifier: Classifier, rows: Sequence[Any], actor: str = WORKER
) -> int:
    """Classify stored subjects (locked rows) again: write their verdicts, move their counts,
    announce those whose tags or items changed. Returns how many changed."""
    verdicts = [classifier.classify(TagInput.of(row)) for row in rows]
    await repo.write_verdicts(
        uow.session,
        [(row.uscc, v.tags, v.item_keys) for row, v in zip(rows, verdicts, strict=True)],
        classifier.version,
    )
    moved = [
        (row, verdict)
        for row, verdict in zip(rows, verdicts, strict=True)
        if (tuple(row.tags), tuple(row.item_keys)) != (verdict.tags, verdict.item_keys)
    ]
    if not moved:
        return 0
    classes = await classes_by_uscc(uow.session, [row.uscc for row, _ in moved])
    counts: Counter[CountKey] = Counter()
    for row, verdict in moved:
        held = classes.get(row.uscc, {})
        before = placement_of(row.status, row.region_code, row.tags, row.item_keys)
        after = Placement(before.active, before.region_code, verdict.tags, verdict.item_keys)
        count_changes(replace(before, classes=held), replace(after, classes=held), counts)
    await append_deltas(uow.session, nonzero(counts))
    changes = [
        SubjectTags(
            subject_id=row.subject_id,
            uscc=row.uscc,
            tags=tags_by_dimension(verdict.tags),
            applicable_item_ids=classifier.item_ids(verdict.item_keys),
        )
        for row, verdict in moved
    ]
    # Several events per batch: one message must stay well under the broker's 1 MiB limit even
    # when every subject falls under dozens of items.
    for start in range(0, len(changes), CHANGES_PER_EVENT):
        event = TagsChanged(
            classification=classifier.version,
            rules_version=classifier.rules.version,
            changes=changes[start : start + CHANGES_PER_EVENT],
        )
        subject = f"classification-{classifier.version}"
        uow.record(Outgoing(event, subject=subject, actor=actor))
    return len(moved)


async def _own(uow: UnitOfWork) -> None:
    try:
        await repo.own_classification(uow.session, LOCK_WAIT_MS)
    except repo.ClassificationBusy:
        raise p.Problem(CLASSIFICATION_BUSY) from None


async def _issue(
    uow: UnitOfWork,
    rules_version: int,
    items: Sequence[ItemScope],
    reason: str,
    by: str,
    now: datetime,
) -> int:
    latest = await repo.latest_classification(uow.session)
    version = (latest["version"] if latest else 0) + 1
    await repo.insert_classification(
        uow.session, version=version, rules_version=rules_version, items=items,
        reason=reason, by=by, now=now,
    )  # fmt: skip
    return version


def _same(latest: dict[str, Any] | None, items: Sequence[ItemScope]) -> bool:
    known = [ItemScope.from_snapshot(i) for i in latest["items"]] if latest else []
    return same_items(known, items)


async def _items_in_force(uow: UnitOfWork, families: Sequence[str], today: date) -> list[ItemScope]:
    """The active items of the version in force (R1: the province's own list, else the
    national list)."""
    in_force = await version_in_force(uow.session, families, today)
    if in_force is None:
        return []
    return [
        ItemScope(
            item_id=item.item_id,
            code=item.code,
            subject_types=frozenset(t.value for t in item.content.subject_types),
            subject_tags=frozenset(item.content.subject_tags),
        )
        for item in await item_repo.items_of(uow.session, in_force.list_id)
        if item.content.status is ItemStatus.active
    ]


def families_of(province: str) -> list[str]:
    """Which item-list families apply to this deployment, most specific first."""
    if province == "national":
        return [item_rules.NATIONAL_FAMILY]
    return [f"{province}0000", item_rules.NATIONAL_FAMILY]


async def recount_population(uow: UnitOfWork, *, replace: bool) -> int:
    """How many kept count rows differ from a recount of the directory (ADR 0009); with
    `replace`, the recount is kept."""
    async with uow:
        differing = await recount(uow.session, replace=replace)
        await uow.commit()
    return differing
