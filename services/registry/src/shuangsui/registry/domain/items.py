"""Item lists (抽查事项清单) and check items (抽查事项): the rules, without I/O.

A list belongs to a *family*: the national list, or one province's list. Each family is a
sequence of versions. At most one version of a family is a draft; published versions never
change (an adjustment is a new draft copied from the latest published version, seed §(五)
"动态调整"), so whatever was in force on a given day can always be read back.

An item keeps its `item_id` across versions of its family, and a national item keeps it inside
every provincial list that adopts it: a batch, a result or an upward report that names an item
stays valid after the list is adjusted (R1, INTEGRATION_FORMATS.md §2).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from shuangsui.contracts.batches import ChangeKind
from shuangsui.registry.domain.item_fields import (
    implementation_code_problem,
    iplus_code_problem,
    joint_problems,
    qualification_problem,
)

# Items name subject types in the same vocabulary subjects are pushed with, so an item's scope
# can be matched against the directory.
from shuangsui.registry.domain.subjects import SubjectType as SubjectType
from shuangsui.registry.domain.tags import parse_tag

NATIONAL_FAMILY = "national"


class ListLevel(StrEnum):
    national = "national"  # 总局随机抽查事项清单
    provincial = "provincial"  # 省级随机抽查事项清单


class ListStatus(StrEnum):
    draft = "draft"
    published = "published"


class ItemCategory(StrEnum):
    general = "general"  # 一般检查事项
    key = "key"  # 重点检查事项 (seed §(十一): higher ratios or frequencies)


class Method(StrEnum):
    on_site = "on_site"  # 现场检查
    documentary = "documentary"  # 书面检查
    online = "online"  # 网络检查
    entrusted = "entrusted"  # 委托专业机构


class InspectionLevel(StrEnum):
    """抽查层级: which tier of government organises the joint inspection of an item."""

    national = "national"  # 国家级
    provincial = "provincial"  # 省级
    city = "city"  # 市级 (地市)
    county = "county"  # 县级 (县、区)


class ItemOrigin(StrEnum):
    national = "national"  # adopted unchanged from the national list
    provincial = "provincial"  # added under local regulations


class ItemStatus(StrEnum):
    active = "active"
    withdrawn = "withdrawn"  # kept in the version for the record, but not in force


class ItemRuleError(ValueError):
    """A rule of the list was broken. `kind` lets the caller choose the answer (409/422)."""

    def __init__(self, kind: str, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.field = field


ITEM_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")


@dataclass(frozen=True)
class ItemContent:
    """What an office writes about one item: the columns of the spreadsheet."""

    code: str
    name: str
    business_line: str  # 抽查类别, e.g. 食品安全, 特种设备
    item_category: ItemCategory
    responsible_department: str  # 检查主体
    legal_basis: tuple[str, ...]  # 检查依据
    content: str  # 检查内容
    subject_types: tuple[SubjectType, ...]  # 检查对象
    allowed_methods: tuple[Method, ...]  # 检查方式
    iplus_item_code: str  # 监管事项目录编码
    implementation_codes: tuple[str, ...] = ()  # 检查实施清单编码, one per implementing agency
    power_list_code: str | None = None  # 权责清单编码
    min_ratio: Decimal | None = None  # 最低抽查比例, a fraction in (0, 1]
    status: ItemStatus = ItemStatus.active
    # 适用标签: narrows the subject types to subjects carrying, in every dimension named here,
    # at least one of these tags (e.g. format:餐饮服务). Empty: the types alone decide.
    subject_tags: tuple[str, ...] = ()
    # 所需执法资格: a drawn inspector must hold this qualification code, in the vocabulary of
    # the inspector directory (R17). None: the law-enforcement certificate suffices.
    required_qualification: str | None = None
    # 发起部门 / 配合部门 / 抽查层级 of a joint cross-department list (INTEGRATION_FORMATS.md §3,
    # R20). Partners make the item a joint one, and then a lead department is required.
    lead_department: str | None = None
    partner_departments: tuple[str, ...] = ()
    inspection_level: InspectionLevel | None = None

    @property
    def is_joint(self) -> bool:
        return bool(self.partner_departments)

    def problems(self) -> list[tuple[str, str]]:
        """Every broken field rule as (field, reason); empty when the item is valid."""
        found: list[tuple[str, str]] = []
        if not ITEM_CODE.match(self.code):
            found.append(("code", "1–40 letters, digits, '.', '_' or '-'"))
        for name, text in (
            ("name", self.name),
            ("responsible_department", self.responsible_department),
        ):
            if not text.strip():
                found.append((name, "must not be empty"))
        if not self.legal_basis or any(not b.strip() for b in self.legal_basis):
            found.append(("legal_basis", "at least one legal basis, none empty (检查依据)"))
        if not self.subject_types:
            found.append(("subject_types", "at least one subject type (检查对象)"))
        if not self.allowed_methods:
            found.append(("allowed_methods", "at least one method (检查方式)"))
        problem = iplus_code_problem(self.iplus_item_code)
        if problem:
            found.append(("iplus_item_code", problem))
        for code in self.implementation_codes:
            problem = implementation_code_problem(code)
            if problem:
                found.append(("implementation_codes", f"{code}: {problem}"))
                break
        for tag in self.subject_tags:
            if parse_tag(tag) != tag:
                found.append(
                    ("subject_tags", f"{tag}: write dimension:value, e.g. format:餐饮服务")
                )
                break
        if self.required_qualification is not None:
            problem = qualification_problem(self.required_qualification)
            if problem:
                found.append(("required_qualification", problem))
        if self.min_ratio is not None and not (0 < self.min_ratio <= 1):
            found.append(("min_ratio", "must be a fraction greater than 0 and at most 1"))
        found += joint_problems(self.lead_department, self.partner_departments)
        return found


@dataclass(frozen=True)
class CheckItem:
    item_id: UUID
    origin: ItemOrigin
    version: int  # counts content changes; also the item's ETag inside a draft
    content: ItemContent

    @property
    def code(self) -> str:
        return self.content.code


@dataclass(frozen=True)
class ItemList:
    list_id: UUID
    level: ListLevel
    province: str | None  # the province's own 6-digit code, e.g. 330000; None if national
    version: int
    status: ListStatus
    effective_from: date
    revision: int  # bumped by every change of a draft; the list's ETag
    published_at: datetime | None = None
    adopted_list_id: UUID | None = None  # the national version a provincial version adopts
    based_on_list_id: UUID | None = None  # the version this one adjusts

    @property
    def family(self) -> str:
        return self.province or NATIONAL_FAMILY

    @property
    def own_origin(self) -> ItemOrigin:
        return ItemOrigin.national if self.level is ListLevel.national else ItemOrigin.provincial

    def ensure_draft(self) -> None:
        if self.status is not ListStatus.draft:
            raise ItemRuleError(
                "immutable",
                f"version {self.version} is published and cannot change; "
                "create a new version to adjust the list",
            )


def family_of(level: ListLevel, province: str | None) -> str:
    return NATIONAL_FAMILY if level is ListLevel.national else (province or "")


def new_version(
    *,
    list_id: UUID,
    level: ListLevel,
    province: str | None,
    effective_from: date,
    latest: tuple[ItemList, Sequence[CheckItem]] | None,
    draft_exists: bool,
    national: tuple[ItemList, Sequence[CheckItem]] | None,
) -> tuple[ItemList, list[CheckItem]]:
    """A new draft: the latest published version's own items, plus (provincial) the adopted
    national version's items unchanged. `latest` is the family's latest published version."""
    if draft_exists:
        raise ItemRuleError("draft_exists", "this list already has a draft version; edit it")
    if level is ListLevel.provincial and national is None:
        raise ItemRuleError(
            "no_national_list",
            "there is no published national list to adopt (R1: a provincial list is the "
            "national list plus local items)",
        )
    if latest is not None and effective_from <= latest[0].effective_from:
        raise ItemRuleError(
            "effective_order",
            f"must be after {latest[0].effective_from}, when version {latest[0].version} "
            "took effect: only one version is in force on any day",
            field="effective_from",
        )
    lst = ItemList(
        list_id=list_id,
        level=level,
        province=province if level is ListLevel.provincial else None,
        version=latest[0].version + 1 if latest else 1,
        status=ListStatus.draft,
        effective_from=effective_from,
        revision=1,
        adopted_list_id=national[0].list_id if national and level is ListLevel.provincial else None,
        based_on_list_id=latest[0].list_id if latest else None,
    )
    own = [i for i in (latest[1] if latest else ()) if i.origin is lst.own_origin]
    adopted = list(national[1]) if national and level is ListLevel.provincial else []
    national_codes = {i.code for i in adopted}
    clash = sorted(i.code for i in own if i.code in national_codes)
    if clash:
        raise ItemRuleError(
            "duplicate_code",
            f"provincial items {', '.join(clash)} now clash with national item codes",
            field="code",
        )
    return lst, [replace(i, origin=ItemOrigin.national) for i in adopted] + own


def add_item(
    lst: ItemList, existing: Iterable[CheckItem], content: ItemContent, item_id: UUID
) -> CheckItem:
    lst.ensure_draft()
    _ensure_valid(content)
    if any(i.code == content.code for i in existing):
        raise ItemRuleError(
            "duplicate_code", f"code {content.code} is already in this version", "code"
        )
    return CheckItem(item_id=item_id, origin=lst.own_origin, version=1, content=content)


def update_item(
    lst: ItemList, existing: Iterable[CheckItem], item: CheckItem, content: ItemContent
) -> CheckItem:
    lst.ensure_draft()
    if item.origin is not lst.own_origin:
        raise ItemRuleError(
            "read_only",
            "national items are adopted unchanged in a provincial list (R1); "
            "the national list changes them",
        )
    _ensure_valid(content)
    if any(i.code == content.code and i.item_id != item.item_id for i in existing):
        raise ItemRuleError(
            "duplicate_code", f"code {content.code} is already in this version", "code"
        )
    return replace(item, content=content, version=item.version + 1)


def _ensure_valid(content: ItemContent) -> None:
    problems = content.problems()
    if problems:
        field, reason = problems[0]
        raise ItemRuleError("invalid", reason, field)


@dataclass(frozen=True)
class ImportChange:
    line: int
    kind: ChangeKind
    item: CheckItem  # the state after the change


def plan_import(
    lst: ItemList,
    existing: Sequence[CheckItem],
    rows: Sequence[tuple[int, ItemContent]],
    new_id: Callable[[], UUID],
) -> tuple[list[ImportChange], list[tuple[int, str, str]]]:
    """Upsert by code: (a change per row, row errors (line, field, reason)). A row equal to what
    the draft holds is unchanged, so an exported list re-imports cleanly, national rows included."""
    lst.ensure_draft()
    by_code = {i.code: i for i in existing}
    changes: list[ImportChange] = []
    errors: list[tuple[int, str, str]] = []
    for row, content in rows:
        current = by_code.get(content.code)
        if current is None:
            item = CheckItem(item_id=new_id(), origin=lst.own_origin, version=1, content=content)
            changes.append(ImportChange(row, ChangeKind.created, item))
        elif current.content == content:
            changes.append(ImportChange(row, ChangeKind.unchanged, current))
        elif current.origin is not lst.own_origin:
            errors.append((row, "code", "a national item cannot be changed in a provincial list"))
        else:
            updated = replace(current, content=content, version=current.version + 1)
            changes.append(ImportChange(row, ChangeKind.updated, updated))
    return changes, errors


def check_publishable(lst: ItemList, items: Sequence[CheckItem], latest: ItemList | None) -> None:
    lst.ensure_draft()
    if not any(i.content.status is ItemStatus.active for i in items):
        raise ItemRuleError("empty", "a list without an active item cannot be published")
    if latest is not None and lst.effective_from <= latest.effective_from:
        raise ItemRuleError(
            "effective_order",
            f"must be after {latest.effective_from} (version {latest.version})",
            field="effective_from",
        )


def touched(lst: ItemList) -> ItemList:
    """Every change of a draft bumps its revision, so publishing with a stale ETag fails."""
    return replace(lst, revision=lst.revision + 1)


def publish(lst: ItemList, at: datetime) -> ItemList:
    return replace(lst, status=ListStatus.published, published_at=at, revision=lst.revision + 1)


def in_force(versions: Iterable[ItemList], on: date) -> ItemList | None:
    """The published version in force on `on`: the latest one that took effect by then."""
    candidates = [
        v for v in versions if v.status is ListStatus.published and v.effective_from <= on
    ]
    return max(candidates, key=lambda v: v.effective_from, default=None)
