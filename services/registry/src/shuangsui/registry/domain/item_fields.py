"""The checks of an item's fields that stand alone (codes, a qualification, departments), no I/O.

`ItemContent.problems()` in domain/items.py applies them; spreadsheets and the API word their
refusals with them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shuangsui.contracts.uscc import is_valid_uscc
from shuangsui.registry.domain.inspectors import InvalidField, clean_tags

# The national supervision-item catalogue code (监管事项目录编码): exactly 14 digits.
_IPLUS_CODE = re.compile(r"^[0-9]{14}$")
# 检查实施清单编码: the implementing agency's USCC (18), then a digit 1–5; what follows is not
# documented anywhere we found, so only digits are accepted there, up to 32 characters in all.
_IMPLEMENTATION_CODE = re.compile(r"^[0-9A-Z]{18}[1-5][0-9]{0,13}$")
# Whatever separates entries in an inspector's or an item's list cell: a code holding one of
# these would be read as several codes by the directory, so no inspector could ever hold it.
_LIST_SEPARATOR = re.compile(r"[;；、|,，/\n]")


def iplus_code_problem(code: str) -> str | None:
    if not _IPLUS_CODE.match(code):
        return "must be exactly 14 digits (监管事项目录编码)"
    return None


def qualification_problem(code: str) -> str | None:
    """A required qualification must be a code inspectors can hold (R17): the directory's own
    rule for qualification codes, and only one of them (DRAW_SPEC B.5: one lead rule per batch)."""
    try:
        cleaned = clean_tags([code])
    except InvalidField as exc:
        return f"{exc} (所需执法资格)"
    if not cleaned:
        return "must not be blank; send null when the item requires no qualification"
    if cleaned != (code,):
        return "a qualification code without surrounding spaces, e.g. food_safety (所需执法资格)"
    if _LIST_SEPARATOR.search(code):
        return "one qualification code only, e.g. food_safety: an item requires at most one"
    return None


# A department's name as offices write it in one cell of 发起部门 / 配合部门.
DEPARTMENT_NAME_MAX = 50
PARTNER_DEPARTMENTS_MAX = 20


def department_problem(name: str) -> str | None:
    if not name.strip():
        return "must not be blank"
    if len(name) > DEPARTMENT_NAME_MAX:
        return f"{name[:20]}…: at most {DEPARTMENT_NAME_MAX} characters"
    if _LIST_SEPARATOR.search(name):
        # A spreadsheet cell separates partner departments with these, so a name holding one
        # would come back from an export as two departments.
        return f"{name}: one department name, without separators such as 、 , ; /"
    return None


def joint_problems(lead: str | None, partners: Sequence[str]) -> list[tuple[str, str]]:
    """The rules of a joint cross-department item (跨部门联合检查, R20), as (field, reason)."""
    found: list[tuple[str, str]] = []
    if lead is not None:
        problem = department_problem(lead)
        if problem:
            found.append(("lead_department", f"{problem} (发起部门)"))
    if len(partners) > PARTNER_DEPARTMENTS_MAX:
        found.append(
            ("partner_departments", f"at most {PARTNER_DEPARTMENTS_MAX} departments (配合部门)")
        )
    for name in partners:
        problem = department_problem(name)
        if problem:
            found.append(("partner_departments", f"{problem} (配合部门)"))
            break
    if len(set(partners)) != len(partners):
        found.append(("partner_departments", "a department is named twice (配合部门)"))
    if partners and lead is None:
        # The industry regulator leads a joint inspection (R20): partners without a lead is
        # a joint item nobody organises.
        found.append(
            (
                "lead_department",
                "a joint item (配合部门 given) needs the department that leads it (发起部门)",
            )
        )
    elif lead is not None and lead in partners:
        found.append(
            ("partner_departments", f"{lead} leads this item (发起部门), it is not a partner")
        )
    return found


def implementation_code_problem(code: str) -> str | None:
    if not _IMPLEMENTATION_CODE.match(code):
        return (
            "must be the implementing agency's 18-character USCC followed by a digit 1–5 "
            "(检查实施清单编码)"
        )
    if not is_valid_uscc(code[:18]):
        return "characters 1–18 are not a valid USCC (check character or alphabet)"
    return None
