"""Annual plans (年度抽查计划): versions, their state machine, the public code, lateness, diffs.

One row per version (DOMAIN.md §5.1, with the `submitted` state issue 12 adds): a department
drafts its plan, submits it, its superior acknowledges the filing (备案, which informs and
never approves, Q1), the department publishes it. An adjustment (R7) is a new draft version
that goes through the same steps; when it is published the version before it is superseded.
Lateness (R5, R6) is decided by the department's own act, at submission (ADR 0015).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from shuangsui.contracts.workdays import shanghai_date
from shuangsui.planning.domain.catalogue import CatalogueOrg
from shuangsui.planning.domain.deadlines import is_late

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
NECIPS_REF_MAX = 64
REASON_MAX = 2000
FIRST_YEAR, LAST_YEAR = 2000, 2100
SEQUENCE_MAX = 9999
PLAN_CODE = re.compile(r"^(?P<region>[0-9]{6})(?P<year>[0-9]{4})(?P<sequence>[0-9]{4})$")


class PlanStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    filed = "filed"
    published = "published"
    superseded = "superseded"
    closed = "closed"
    discarded = "discarded"


# A version still on its way to publication; a plan has at most one at a time.
WORKING = frozenset({PlanStatus.draft, PlanStatus.submitted, PlanStatus.filed})
# Versions that were made public once; they stay public (seed §(六): 向社会公开).
PUBLIC = frozenset({PlanStatus.published, PlanStatus.superseded, PlanStatus.closed})
# The superior is informed from submission on (it files what it was sent).
SHOWN_TO_SUPERIOR = frozenset({PlanStatus.submitted, PlanStatus.filed}) | PUBLIC
TERMINAL = frozenset({PlanStatus.superseded, PlanStatus.closed, PlanStatus.discarded})


class PlanLevel(StrEnum):
    national = "national"
    provincial = "provincial"
    city = "city"
    county = "county"


class Action(StrEnum):
    edit = "edit"
    submit = "submit"
    file = "file"
    publish = "publish"
    adjust = "adjust"
    supersede = "supersede"
    close = "close"
    discard = "discard"


# (from, action) → to. Anything else is refused with the action's rule below.
TRANSITIONS: Mapping[tuple[PlanStatus, Action], PlanStatus] = {
    (PlanStatus.draft, Action.edit): PlanStatus.draft,
    (PlanStatus.draft, Action.submit): PlanStatus.submitted,
    (PlanStatus.submitted, Action.file): PlanStatus.filed,
    (PlanStatus.filed, Action.publish): PlanStatus.published,
    # Adjusting leaves the published version as it is until the new one is published.
    (PlanStatus.published, Action.adjust): PlanStatus.published,
    (PlanStatus.published, Action.supersede): PlanStatus.superseded,
    (PlanStatus.published, Action.close): PlanStatus.closed,
    (PlanStatus.draft, Action.discard): PlanStatus.discarded,
}

RULES: Mapping[Action, str] = {
    Action.edit: "editing needs a draft version; adjust a published plan to change it",
    Action.submit: "submitting needs a draft version",
    Action.file: "filing needs a submitted version",
    Action.publish: "publishing needs a filed version",
    Action.adjust: "adjusting needs a published version",
    Action.supersede: "only a published version is superseded",
    Action.close: "closing needs a published version",
    Action.discard: "only a draft version can be discarded",
}


class PlanRuleError(Exception):
    """A rule of the plans refused a change. `rule` is stable (a problem's name), `reason` says
    it in words, `field` names the input concerned, if one is."""

    def __init__(self, rule: str, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason
        self.field = field


class IllegalTransition(PlanRuleError):
    def __init__(self, status: PlanStatus, action: Action) -> None:
        super().__init__("plan-transition", f"{RULES[action]} (this version is {status})")
        self.status = status
        self.action = action


def next_status(status: PlanStatus, action: Action) -> PlanStatus:
    try:
        return TRANSITIONS[status, action]
    except KeyError:
        raise IllegalTransition(status, action) from None


# ---- the org that plans (as the catalogue read model knows it) -------------------------------


def plan_level_of(org: CatalogueOrg) -> PlanLevel:
    """National, provincial, city and county departments plan; a station (所) has no plan of
    its own, it works in its county bureau's."""
    if org.status != "active":
        raise PlanRuleError("plan-org", "a closed org makes no new plans", "org_id")
    try:
        return PlanLevel(org.level)
    except ValueError:
        raise PlanRuleError(
            "plan-org", f"an org of level {org.level} has no annual plan", "org_id"
        ) from None


# ---- the public code: region(6) + year(4) + sequence(4) ------------------------------------


def plan_code(region_code: str, year: int, sequence: int) -> str:
    if not 1 <= sequence <= SEQUENCE_MAX:
        raise PlanRuleError(
            "plan-code-exhausted",
            f"region {region_code} has used all {SEQUENCE_MAX} plan codes of {year}",
        )
    return f"{region_code}{year:04d}{sequence:04d}"


# ---- content and its validation ------------------------------------------------------------


@dataclass(frozen=True)
class PlanContent:
    """What the department writes and may edit while the version is a draft."""

    title: str
    description: str
    period_start: date
    period_end: date


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PlanRuleError(
            "validation", f"a plan year lies between {FIRST_YEAR} and {LAST_YEAR}", "year"
        )
    return year


@dataclass(frozen=True)
class ContentChanges:
    """Content as sent: what is None stays as it was (or takes its default)."""

    title: str | None = None
    description: str | None = None
    period_start: date | None = None
    period_end: date | None = None


def changed_content(year: int, changes: ContentChanges, base: PlanContent | None) -> PlanContent:
    """`base` with `changes` applied (a new plan has no base: the title is then required)."""
    return plan_content(
        year,
        changes.title if changes.title is not None else (base.title if base else ""),
        description=changes.description
        if changes.description is not None
        else (base.description if base else None),
        period_start=changes.period_start or (base.period_start if base else None),
        period_end=changes.period_end or (base.period_end if base else None),
    )


def plan_content(
    year: int,
    title: str,
    *,
    description: str | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
) -> PlanContent:
    """Cleaned content; the period defaults to the whole plan year and must lie inside it."""
    cleaned = title.strip()
    if not cleaned:
        raise PlanRuleError("validation", "a plan needs a title", "title")
    if len(cleaned) > TITLE_MAX:
        raise PlanRuleError("validation", f"at most {TITLE_MAX} characters", "title")
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise PlanRuleError("validation", f"at most {DESCRIPTION_MAX} characters", "description")
    start = period_start or date(year, 1, 1)
    end = period_end or date(year, 12, 31)
    for name, day in (("period_start", start), ("period_end", end)):
        if day.year != year:
            raise PlanRuleError("validation", f"the plan's period lies within {year}", name)
    if start > end:
        raise PlanRuleError("validation", "the period ends before it starts", "period_end")
    return PlanContent(cleaned, text, start, end)


def adjustment_reason(reason: str) -> str:
    cleaned = reason.strip()
    if not cleaned:
        raise PlanRuleError(
            "validation", "an adjustment states its reason (R7)", "adjustment_reason"
        )
    if len(cleaned) > REASON_MAX:
        raise PlanRuleError("validation", f"at most {REASON_MAX} characters", "adjustment_reason")
    return cleaned


def necips_reference(ref: str | None) -> str | None:
    if ref is None or not ref.strip():
        return None
    if len(ref.strip()) > NECIPS_REF_MAX:
        raise PlanRuleError("validation", f"at most {NECIPS_REF_MAX} characters", "necips_ref")
    return ref.strip()


def check_deadline(year: int, deadline: date) -> date:
    """A province may move its deadline, but only within the plan year."""
    if deadline.year != year:
        raise PlanRuleError("validation", f"the deadline of {year} lies in {year}", "deadline")
    return deadline


# ---- versions and their transitions ---------------------------------------------------------


@dataclass(frozen=True)
class PlanVersion:
    plan_id: UUID
    plan_code: str
    org_id: UUID
    level: PlanLevel
    region_code: str
    year: int
    version: int
    status: PlanStatus
    content: PlanContent
    revision: int = 1
    supersedes_version: int | None = None
    adjustment_reason: str | None = None
    submitted_at: datetime | None = None
    deadline: date | None = None
    late: bool = False
    filed_to_org_id: UUID | None = None
    filed_at: datetime | None = None
    published_at: datetime | None = None
    published_late: bool = False
    necips_ref: str | None = None
    closed_at: datetime | None = None

    @property
    def is_adjustment(self) -> bool:
        return self.version > 1


def new_plan(
    plan_id: UUID, code: str, org: CatalogueOrg, year: int, content: PlanContent
) -> PlanVersion:
    return PlanVersion(
        plan_id=plan_id,
        plan_code=code,
        org_id=org.org_id,
        level=plan_level_of(org),
        region_code=org.region_code,
        year=check_year(year),
        version=1,
        status=PlanStatus.draft,
        content=content,
    )


def _moved(plan: PlanVersion, action: Action, **changes: object) -> PlanVersion:
    status = next_status(plan.status, action)
    return replace(plan, status=status, revision=plan.revision + 1, **changes)  # type: ignore[arg-type]


def edited(plan: PlanVersion, content: PlanContent) -> PlanVersion:
    return _moved(plan, Action.edit, content=content)


def submitted(plan: PlanVersion, at: datetime, deadline: date) -> PlanVersion:
    """Only the first version can be late: the deadline is the annual plan's, and adjustments
    come through the year by their nature (R7)."""
    late = not plan.is_adjustment and is_late(at, deadline)
    return _moved(plan, Action.submit, submitted_at=at, deadline=deadline, late=late)


def filed(plan: PlanVersion, at: datetime, to_org_id: UUID | None) -> PlanVersion:
    return _moved(plan, Action.file, filed_at=at, filed_to_org_id=to_org_id)


def published(
    plan: PlanVersion, at: datetime, deadline: date, necips_ref: str | None
) -> PlanVersion:
    late = not plan.is_adjustment and is_late(at, deadline)  # R6: flagged, never refused
    return _moved(plan, Action.publish, published_at=at, published_late=late, necips_ref=necips_ref)


def superseded(plan: PlanVersion) -> PlanVersion:
    return _moved(plan, Action.supersede)


def discarded(plan: PlanVersion) -> PlanVersion:
    return _moved(plan, Action.discard)


def closed(plan: PlanVersion, at: datetime, open_batches: int) -> PlanVersion:
    """A plan closes after its year, once none of its batches is still open. Batches do not
    exist yet: the caller passes their count (0 until they do)."""
    next_status(plan.status, Action.close)
    if shanghai_date(at).year <= plan.year:
        raise PlanRuleError("plan-transition", f"closing waits until {plan.year} has ended")
    if open_batches:
        raise PlanRuleError(
            "plan-transition", f"closing needs every batch terminal ({open_batches} still open)"
        )
    return _moved(plan, Action.close, closed_at=at)


def adjustment(
    current: PlanVersion,
    reason: str,
    content: PlanContent | None = None,
    *,
    latest_version: int | None = None,
) -> PlanVersion:
    """The next version, a draft starting from the published one (R7). Its number follows the
    plan's latest version (`latest_version`: a discarded adjustment keeps its number)."""
    next_status(current.status, Action.adjust)
    return PlanVersion(
        plan_id=current.plan_id,
        plan_code=current.plan_code,
        org_id=current.org_id,
        level=current.level,
        region_code=current.region_code,
        year=current.year,
        version=max(current.version, latest_version or 0) + 1,
        status=PlanStatus.draft,
        content=content or current.content,
        supersedes_version=current.version,
        adjustment_reason=adjustment_reason(reason),
    )


# ---- who sees and writes what ----------------------------------------------------------------


class Relation(StrEnum):
    """How a caller stands to a plan's org."""

    owner = "owner"  # the department itself
    superior = "superior"  # the org it files with, or the province's admin
    national = "national"  # reads everything, writes only national plans (as owner)
    other = "other"  # anyone else, anonymous included


def visible(status: PlanStatus, relation: Relation) -> bool:
    if relation in (Relation.owner, Relation.national):
        return True
    if relation is Relation.superior:
        return status in SHOWN_TO_SUPERIOR
    return status in PUBLIC
