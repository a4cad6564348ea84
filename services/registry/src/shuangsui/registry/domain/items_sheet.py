"""The item-list spreadsheet as offices keep it (INTEGRATION_FORMATS.md §3), as pure data.

Provinces publish 随机抽查事项清单 with the columns 抽查类别, 抽查事项, 事项类别, 检查对象, 检查方式,
检查主体, 检查依据; joint cross-department lists add 发起部门, 配合部门 (names separated as in other
list cells, usually by 、) and 抽查层级 (国家级 / 省级 / 市级 / 县级). We add the columns that make an
item reportable upward (事项编码, 监管事项目录编码, 检查实施清单编码, 权责清单编码), the planning hints
(检查内容, 最低抽查比例, 状态), the scope (适用标签) and the qualification a drawn inspector must hold
(所需执法资格, one code as the inspector directory writes it, e.g. food_safety). Cells hold the
words offices write (一般 / 重点, 现场检查、书面检查, 市级); codes are accepted too, so a file
exported by the API imports back unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from shuangsui.contracts.batches import RowError
from shuangsui.registry.domain.item_fields import (
    iplus_code_problem,
)
from shuangsui.registry.domain.items import (
    CheckItem,
    InspectionLevel,
    ItemCategory,
    ItemContent,
    ItemOrigin,
    ItemStatus,
    Method,
    SubjectType,
)
from shuangsui.registry.domain.sheets import BadHeader, Sheet


@dataclass(frozen=True)
class Column:
    header: str  # as written in the office's spreadsheet
    field: str  # our snake_case name; also what a row error names
    required: bool


COLUMNS: tuple[Column, ...] = (
    Column("事项编码", "code", True),
    Column("抽查类别", "business_line", True),
    Column("抽查事项", "name", True),
    Column("事项类别", "item_category", True),
    Column("检查对象", "subject_types", True),
    Column("检查方式", "allowed_methods", True),
    Column("检查主体", "responsible_department", True),
    Column("检查依据", "legal_basis", True),
    Column("发起部门", "lead_department", False),
    Column("配合部门", "partner_departments", False),
    Column("抽查层级", "inspection_level", False),
    Column("检查内容", "content", False),
    Column("最低抽查比例", "min_ratio", False),
    Column("权责清单编码", "power_list_code", False),
    Column("监管事项目录编码", "iplus_item_code", True),
    Column("检查实施清单编码", "implementation_codes", False),
    Column("适用标签", "subject_tags", False),
    Column("所需执法资格", "required_qualification", False),
    Column("状态", "status", False),
)
# Written on export only: tells a reader of a provincial list which rows the province adopted.
ORIGIN_HEADER = "来源"
EXPORT_HEADERS: tuple[str, ...] = (*(c.header for c in COLUMNS), ORIGIN_HEADER)
HEADER_OF = {c.field: c.header for c in COLUMNS}

CATEGORY_LABELS = {ItemCategory.general: "一般", ItemCategory.key: "重点"}
METHOD_LABELS = {
    Method.on_site: "现场检查",
    Method.documentary: "书面检查",
    Method.online: "网络检查",
    Method.entrusted: "委托专业机构",
}
SUBJECT_LABELS = {
    SubjectType.enterprise: "企业",
    SubjectType.individual: "个体工商户",
    SubjectType.cooperative: "农民专业合作社",
    SubjectType.other: "其他",
}
LEVEL_LABELS = {
    InspectionLevel.national: "国家级",
    InspectionLevel.provincial: "省级",
    InspectionLevel.city: "市级",
    InspectionLevel.county: "县级",
}
STATUS_LABELS = {ItemStatus.active: "有效", ItemStatus.withdrawn: "已撤销"}
ORIGIN_LABELS = {ItemOrigin.national: "总局", ItemOrigin.provincial: "本省"}

# The short forms seen in published lists and announcements (INTEGRATION_FORMATS.md §1).
_ALIASES: dict[str, str] = {
    "一般检查事项": "general", "重点检查事项": "key",
    "现场": "on_site", "书面": "documentary", "网络": "online", "网络监测": "online",
    "委托": "entrusted", "委托检查": "entrusted",
    "个体户": "individual", "农专社": "cooperative",
    "外国企业常驻代表机构": "other", "外企代表机构": "other",
    "国家": "national", "省": "provincial", "市": "city", "县": "county",
    "地市级": "city", "县区级": "county", "区县级": "county",
}  # fmt: skip
# Offices separate list entries with any of these; 、 is the usual one in Chinese text.
_LIST_SEPARATORS = re.compile(r"[、,，;；/\n]+")
_BASIS_SEPARATORS = re.compile(r"[;；\n]+")


def sheet_error(line: int, field: str, reason: str, code: str | None) -> RowError:
    """A row error naming the column heading as well: the sheet's columns are its headings,
    and `field` is our name for one (`iplus_item_code` for 监管事项目录编码)."""
    return RowError(line, field, f"{HEADER_OF.get(field, field)}: {reason}", code or None)


def missing_headers(headers: Sequence[str]) -> list[str]:
    present = {h.strip() for h in headers}
    return [c.header for c in COLUMNS if c.required and c.header not in present]


def parse_sheet(sheet: Sheet) -> tuple[list[tuple[int, ItemContent]], list[RowError]]:
    """A sheet's valid rows and the errors of the others; a sheet without a required column is
    refused whole (`BadHeader`)."""
    missing = missing_headers(sheet.header)
    if missing:
        raise BadHeader([(h, "required column is missing") for h in missing])
    headers = [h.strip() for h in sheet.header]
    rows = [
        (line, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers)})
        for line, cells in zip(sheet.lines, sheet.rows, strict=True)
    ]
    return read_rows(rows)


def absent_fields(headers: Sequence[str]) -> tuple[str, ...]:
    """The optional columns a file does not have at all (an office's older template)."""
    present = {h.strip() for h in headers}
    return tuple(c.field for c in COLUMNS if not c.required and c.header not in present)


def keeping_absent(
    contents: Sequence[tuple[int, ItemContent]],
    held: Mapping[str, ItemContent],
    absent: Sequence[str],
) -> list[tuple[int, ItemContent]]:
    """A column the file does not have says nothing: an item the list already holds keeps those
    values (a blank cell in a column that is there still clears it). Without this an older
    template would silently clear scopes, qualifications and withdrawals it never showed."""
    if not absent:
        return list(contents)
    return [
        (row, replace(c, **{f: getattr(held[c.code], f) for f in absent}) if c.code in held else c)
        for row, c in contents
    ]


def _vocabulary(labels: Mapping[str, str]) -> dict[str, str]:
    words = {label: code for code, label in labels.items()}
    words.update({code: code for code in labels})
    return words


_CATEGORIES = _vocabulary({k.value: v for k, v in CATEGORY_LABELS.items()})
_METHODS = _vocabulary({k.value: v for k, v in METHOD_LABELS.items()})
_SUBJECTS = _vocabulary({k.value: v for k, v in SUBJECT_LABELS.items()})
_LEVELS = _vocabulary({k.value: v for k, v in LEVEL_LABELS.items()})
_STATUSES = _vocabulary({k.value: v for k, v in STATUS_LABELS.items()})


def _word(text: str, vocabulary: Mapping[str, str]) -> str | None:
    word = text.strip()
    return vocabulary.get(word) or (
        _ALIASES.get(word) if _ALIASES.get(word) in vocabulary else None
    )


def _entries(cell: str, separators: re.Pattern[str]) -> list[str]:
    """A JSON array (ARCHITECTURE.md §5) or words separated as offices separate them."""
    text = cell.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()]
    return [part.strip() for part in separators.split(text) if part.strip()]


def _words(cell: str, vocabulary: Mapping[str, str], what: str) -> tuple[list[str], str | None]:
    found: list[str] = []
    for entry in _entries(cell, _LIST_SEPARATORS):
        code = _word(entry, vocabulary)
        if code is None:
            known = "、".join(w for w in vocabulary if not w.isascii())
            return [], f"unknown {what} {entry!r}; one of {known}"
        if code not in found:
            found.append(code)
    return found, None


def _ratio(cell: str) -> Decimal | None:
    text = cell.strip()
    if not text:
        return None
    percent = text.endswith(("%", "％"))
    value = Decimal(text.rstrip("%％").strip())
    if not value.is_finite():
        raise InvalidOperation(text)
    return value / 100 if percent else value


def read_row(row: int, cells: Mapping[str, str]) -> ItemContent | list[RowError]:
    """One spreadsheet row (header → cell text) as item content, or every error it has."""
    errors: list[RowError] = []

    def cell(field: str) -> str:
        return (cells.get(HEADER_OF[field]) or "").strip()

    def fail(field: str, reason: str) -> None:
        errors.append(sheet_error(row, field, reason, cell("code")))

    for column in COLUMNS:
        if column.required and not cell(column.field):
            fail(column.field, "required")
    category, problem = _words(cell("item_category"), _CATEGORIES, "item category (事项类别)")
    if problem or len(category) > 1:
        fail("item_category", problem or "exactly one of 一般、重点")
    methods, problem = _words(cell("allowed_methods"), _METHODS, "method (检查方式)")
    if problem:
        fail("allowed_methods", problem)
    subjects, problem = _words(cell("subject_types"), _SUBJECTS, "subject type (检查对象)")
    if problem:
        fail("subject_types", problem)
    status = _word(cell("status"), _STATUSES) if cell("status") else "active"
    if status is None:
        fail("status", "one of 有效、已撤销")
    level = _word(cell("inspection_level"), _LEVELS) if cell("inspection_level") else None
    if cell("inspection_level") and level is None:
        fail("inspection_level", "one of 国家级、省级、市级、县级")
    try:
        ratio = _ratio(cell("min_ratio"))
    except InvalidOperation:
        fail("min_ratio", "a fraction such as 0.05 or a percentage such as 5%")
        ratio = None
    if errors:
        # Also report the code formats, so one pass over the file shows every problem of a row.
        iplus = cell("iplus_item_code")
        problem = iplus_code_problem(iplus) if iplus else None
        if problem:
            fail("iplus_item_code", problem)
        return errors
    content = ItemContent(
        code=cell("code"),
        name=cell("name"),
        business_line=cell("business_line"),
        item_category=ItemCategory(category[0]),
        responsible_department=cell("responsible_department"),
        legal_basis=tuple(_entries(cell("legal_basis"), _BASIS_SEPARATORS)),
        content=cell("content"),
        subject_types=tuple(SubjectType(s) for s in subjects),
        allowed_methods=tuple(Method(m) for m in methods),
        iplus_item_code=cell("iplus_item_code"),
        implementation_codes=tuple(_entries(cell("implementation_codes"), _LIST_SEPARATORS)),
        power_list_code=cell("power_list_code") or None,
        min_ratio=ratio,
        status=ItemStatus(status or "active"),
        subject_tags=tuple(dict.fromkeys(_entries(cell("subject_tags"), _LIST_SEPARATORS))),
        required_qualification=cell("required_qualification") or None,
        lead_department=cell("lead_department") or None,
        partner_departments=tuple(
            dict.fromkeys(_entries(cell("partner_departments"), _LIST_SEPARATORS))
        ),
        inspection_level=InspectionLevel(level) if level else None,
    )
    rule_errors = [sheet_error(row, f, reason, content.code) for f, reason in content.problems()]
    return rule_errors or content


def read_rows(
    rows: Sequence[tuple[int, Mapping[str, str]]],
) -> tuple[list[tuple[int, ItemContent]], list[RowError]]:
    """Every row read; a code repeated in one file is an error on each later row."""
    good: list[tuple[int, ItemContent]] = []
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    for number, cells in rows:
        result = read_row(number, cells)
        if isinstance(result, list):
            errors.extend(result)
            continue
        earlier = first_row.setdefault(result.code, number)
        if earlier != number:
            errors.append(sheet_error(number, "code", f"duplicate of line {earlier}", result.code))
            continue
        good.append((number, result))
    return good, errors


def export_row(item: CheckItem) -> list[str]:
    """An item as the office columns (EXPORT_HEADERS), in the words offices write."""
    c = item.content
    ratio = "" if c.min_ratio is None else f"{c.min_ratio.normalize():f}"
    return [
        c.code,
        c.business_line,
        c.name,
        CATEGORY_LABELS[c.item_category],
        "、".join(SUBJECT_LABELS[s] for s in c.subject_types),
        "、".join(METHOD_LABELS[m] for m in c.allowed_methods),
        c.responsible_department,
        "\n".join(c.legal_basis),
        c.lead_department or "",
        "、".join(c.partner_departments),
        "" if c.inspection_level is None else LEVEL_LABELS[c.inspection_level],
        c.content,
        ratio,
        c.power_list_code or "",
        c.iplus_item_code,
        "\n".join(c.implementation_codes),
        "\n".join(c.subject_tags),
        c.required_qualification or "",
        STATUS_LABELS[c.status],
        ORIGIN_LABELS[item.origin],
    ]
