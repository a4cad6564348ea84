"""The demo province's annual plan (年度抽查计划) for the current year, made through the gateway
the way its departments make one, so the services after planning have real work.

The demo city's market-supervision bureau (杭州市市场监督管理局 for province 33) plans four
batches under two risk-ratio policies the province sets (R11, and one for a key item, R13):
a routine undirected batch, a key item's batch, a directed batch on the riskier classes
(R15) and a cross-department joint batch with the city's emergency management bureau (R20),
which confirms its part. The plan is submitted, filed by the superior (备案, the parent
bureau's department admin) and published, which publishes its batches.

Running it again changes nothing: the plan is found by year and org and taken on from the step
it stands at; a published plan is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import httpx

from shuangsui.contracts.workdays import shanghai_date
from shuangsui.devstack.demo import DemoProvince, partner_code
from shuangsui.devstack.demo_calls import DemoOrg, DemoStep, acting_for
from shuangsui.devstack.demo_catalogue import ITEMS, PROVINCIAL_ITEMS
from shuangsui.devstack.demo_plan_data import (
    KEY_ITEM,
    KEY_ITEM_POLICY,
    PROVINCE_POLICY,
    batch_drafts,
)
from shuangsui.devstack.errors import DevstackError
from shuangsui.devstack.issuer import DevIssuer, authorization

PLANNING = "/api/v1/planning"
SUB = "demo-planner"
CATALOGUE_TIMEOUT = 120.0  # seconds for planning's catalogue consumer to catch up
PUBLISHED = {"published", "superseded", "closed"}


class DemoPlanNotMade(DevstackError):
    """The demo plan could not be made; the message names the step and planning's answer."""


_STEP = DemoStep(DemoPlanNotMade, "demo plan")


@dataclass(frozen=True)
class DemoPlan:
    plan_id: str
    plan_code: str
    version: int
    status: str
    batch_codes: tuple[str, ...]
    created: bool

    def summary(self) -> str:
        made = "made and published" if self.created else "already there"
        codes = ", ".join(self.batch_codes) or "none"
        return f"demo plan {self.plan_code} v{self.version} {self.status} ({made}); batches {codes}"


@dataclass(frozen=True)
class Actors:
    """The Authorization headers of everyone who takes part."""

    province: dict[str, str]  # provincial admin: policies, the registry's org directory
    planner: dict[str, str]  # the lead department's admin
    superior: dict[str, str]  # the parent bureau's admin, who files
    partner: dict[str, str]  # the partner department's admin


def make_demo_plan(
    gateway: str,
    issuer: DevIssuer,
    demo: DemoProvince,
    *,
    today: date | None = None,
    timeout: float = CATALOGUE_TIMEOUT,
) -> DemoPlan | None:
    """Make (or find) the demo city's published plan for the current year; None when the demo
    province has no city bureau to plan."""
    if demo.planning_city is None:
        return None
    city, _ = demo.planning_city
    day = today or shanghai_date(datetime.now(UTC))
    province_region = f"{demo.province}0000"
    with httpx.Client(base_url=gateway, timeout=60) as client:
        province = authorization(
            issuer.token_for(roles=["provincial_admin"], region=province_region, sub=SUB)
        )
        lead = _STEP.org(client, province, f"{city}-AMR")
        partner = _STEP.org(client, province, partner_code(city))
        if lead.parent_code is None:
            raise DemoPlanNotMade(f"the demo bureau {lead.code} has no superior to file with")
        superior = _STEP.org(client, province, lead.parent_code)
        actors = Actors(
            province=province,
            planner=acting_for(issuer, "department_admin", lead, SUB),
            superior=acting_for(issuer, "department_admin", superior, SUB),
            partner=acting_for(issuer, "partner_admin", partner, SUB),
        )
        items = _catalogue_items(client, actors.planner, timeout)
        _set_policies(client, actors.province, province_region, day.year, items)
        return _plan(client, actors, lead, partner, items, day, timeout)


def _catalogue_items(
    client: httpx.Client, headers: dict[str, str], timeout: float
) -> dict[str, dict[str, Any]]:
    """The demo items as planning's catalogue holds them, by code, once its consumer has read
    the published list: batches are validated against that copy, never the registry's."""
    wanted = {item["code"] for item in (*ITEMS, *PROVINCIAL_ITEMS)}

    def arrived() -> dict[str, dict[str, Any]] | None:
        answer = client.get(f"{PLANNING}/catalogue/items", params={"limit": 500}, headers=headers)
        _STEP.ensure(answer, "reading planning's catalogue of items")
        found = {i["code"]: i for i in answer.json()["items"] if i["code"] in wanted}
        return found if set(found) == wanted else None

    return _STEP.wait(
        arrived,
        timeout,
        f"planning's catalogue holds not all {len(wanted)} demo items after {timeout:.0f}s: "
        "its consumer (planning-catalogue, the planning worker) has not caught up with "
        "registry.item.upserted.v2; see the planning worker's log under .data/logs",
    )


def _set_policies(
    client: httpx.Client,
    headers: dict[str, str],
    province_region: str,
    year: int,
    items: dict[str, dict[str, Any]],
) -> None:
    """The province's policy and the key item's. Sending a stored policy again changes nothing
    and needs no If-Match, so a second run leaves both as they are; one changed by hand since
    (428: replacing it would need its ETag) is left as it was changed."""
    path = f"{PLANNING}/policies/{year}/{province_region}"
    for params, classes in (
        ({}, PROVINCE_POLICY),
        ({"item_id": items[KEY_ITEM]["item_id"]}, KEY_ITEM_POLICY),
    ):
        body = {"classes": classes, "unclassified_treatment": "B"}
        answer = client.put(path, params=params, json=body, headers=headers)
        if answer.status_code != 428:
            _STEP.ensure(answer, f"setting the risk-ratio policy {path} {params or ''}")


# ---- the plan ------------------------------------------------------------------------------


def _plan(
    client: httpx.Client,
    actors: Actors,
    lead: DemoOrg,
    partner: DemoOrg,
    items: dict[str, dict[str, Any]],
    day: date,
    timeout: float,
) -> DemoPlan:
    versions = _versions(client, actors.planner, day.year, lead.org_id)
    live = [v for v in versions if v["status"] != "discarded"]
    done = [v for v in live if v["status"] in PUBLISHED]
    if done:
        plan = max(done, key=lambda v: v["version"])
        return _result(client, actors.planner, plan, created=False)
    if live:
        plan = max(live, key=lambda v: v["version"])
    else:
        plan = _retrying(
            lambda: client.post(
                f"{PLANNING}/plans",
                json={"year": day.year, "title": f"{lead.name}{day.year}年度双随机抽查工作计划",
                      "description": "演示数据 · demo plan"},
                headers=actors.planner,
            ),
            "plan-org", timeout, f"creating the plan of {lead.code}",
        ).json()  # fmt: skip
    if plan["status"] == "draft":
        _add_batches(client, actors, plan, lead, partner, items, day, timeout)
        _confirm_invitations(client, actors.partner, plan, partner)
        plan = _step(client, actors.planner, plan, "submit")
    if plan["status"] == "submitted":
        plan = _step(client, actors.superior, plan, "file")
    if plan["status"] == "filed":
        plan = _step(client, actors.planner, plan, "publish")
    return _result(client, actors.planner, plan, created=True)


def _versions(
    client: httpx.Client, headers: dict[str, str], year: int, org_id: str
) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        params: dict[str, Any] = {"year": year, "org_id": org_id, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        answer = client.get(f"{PLANNING}/plans", params=params, headers=headers)
        _STEP.ensure(answer, "listing the demo bureau's plans")
        found += answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return found


def _step(
    client: httpx.Client, headers: dict[str, str], plan: dict[str, Any], action: str
) -> dict[str, Any]:
    """One step of the plan's version under its current ETag (every step needs If-Match)."""
    base = f"{PLANNING}/plans/{plan['plan_id']}"
    current = client.get(base, params={"version": plan["version"]}, headers=headers)
    _STEP.ensure(current, f"reading plan {plan['plan_code']} before {action}")
    answer = client.post(
        f"{base}/versions/{plan['version']}:{action}",
        headers={**headers, "If-Match": current.headers["etag"]},
    )
    _STEP.ensure(answer, f"{action} of plan {plan['plan_code']} v{plan['version']}")
    result: dict[str, Any] = answer.json()
    return result


def _result(
    client: httpx.Client, headers: dict[str, str], plan: dict[str, Any], *, created: bool
) -> DemoPlan:
    batches = _batches(client, headers, plan["plan_id"])
    codes = tuple(sorted(b["batch_code"] for b in batches if b.get("batch_code")))
    return DemoPlan(
        plan_id=plan["plan_id"], plan_code=plan["plan_code"], version=plan["version"],
        status=plan["status"], batch_codes=codes, created=created,
    )  # fmt: skip


# ---- the batches ---------------------------------------------------------------------------


def _batches(client: httpx.Client, headers: dict[str, str], plan_id: str) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        params: dict[str, Any] = {"plan_id": plan_id, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        answer = client.get(f"{PLANNING}/batches", params=params, headers=headers)
        _STEP.ensure(answer, "listing the demo plan's batches")
        found += answer.json()["items"]
        cursor = answer.json().get("next_cursor")
        if cursor is None:
            return found


def _add_batches(
    client: httpx.Client,
    actors: Actors,
    plan: dict[str, Any],
    lead: DemoOrg,
    partner: DemoOrg,
    items: dict[str, dict[str, Any]],
    day: date,
    timeout: float,
) -> None:
    """Add the batches the draft lacks (by name), so an interrupted run carries on."""
    have = {b["name"] for b in _batches(client, actors.planner, plan["plan_id"])}
    path = f"{PLANNING}/plans/{plan['plan_id']}/versions/{plan['version']}/batches"
    for draft in batch_drafts(lead.region_code, partner.org_id, items, day):
        if draft["name"] in have:
            continue
        _retrying(
            partial(client.post, path, json=draft, headers=actors.planner),
            "batch-participant-unknown", timeout, f"adding the batch {draft['name']}",
        )  # fmt: skip


def _confirm_invitations(
    client: httpx.Client, headers: dict[str, str], plan: dict[str, Any], partner: DemoOrg
) -> None:
    """The partner confirms the items its department checks in each batch it is invited to."""
    for batch in _batches(client, headers, plan["plan_id"]):
        for invitation in batch.get("invitations", []):
            if invitation["org_id"] != partner.org_id or invitation["status"] == "confirmed":
                continue
            answer = client.post(
                f"{PLANNING}/batches/{batch['batch_id']}/invitations/{partner.org_id}:respond",
                json={"accept": True, "item_ids": invitation["item_ids"]},
                headers={**headers, "If-Match": f'"{batch["revision"]}"'},
            )
            _STEP.ensure(answer, f"{partner.code} confirming its part in {batch['name']}")


# ---- helpers -------------------------------------------------------------------------------


def _retrying(
    call: Callable[[], httpx.Response], not_yet: str, timeout: float, doing: str
) -> httpx.Response:
    """`call` until planning no longer answers that its catalogue lacks an org (`not_yet`, the
    rule or problem type it names meanwhile): orgs arrive by events, like items."""

    def attempt() -> httpx.Response | None:
        answer = call()
        if answer.is_success:
            return answer
        if answer.status_code == 422 and not_yet in answer.text:
            return None
        _STEP.ensure(answer, doing)
        return answer

    return _STEP.wait(attempt, timeout, f"demo plan: {doing}: planning's catalogue does not know "
                 f"the org after {timeout:.0f}s (is the planning worker running?)")  # fmt: skip
