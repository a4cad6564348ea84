"""The demo plan's draws (抽取), made through the gateway the way the lead department makes
them, so `make run` leaves public draws anyone can verify offline (`shuangsui draw verify`).

Each batch of the demo plan is prepared by the city bureau's department admin, committed with a
`commit-reveal` beacon between two demo departments — the city bureau and its partner
department, each with a secret made the way `shuangsui draw party-secret` makes one — and
completed by revealing both secrets, each by its own department (R20). The cross-department
batch is drawn as one subject draw, then each department's team draw (B.11); the city bureau's
`bureau_wide` batches are one draw per county pool (B.10). Sampling refuses a per-county draw
while a subject of the batch lies in a county without the department's officers
(`draw-county-no-pool`, nothing stored): such a batch is named as waiting, and a later run draws
it once sampling can.

Sampling learns of the batches and the subjects by events, so the draws wait (with a timeout)
until its read models hold them. The parties' secrets are kept in the data directory between
the commit and the reveals, so a run interrupted in between carries on; running it again finds
the completed draws and changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import httpx

from shuangsui.devstack.demo import DemoProvince, partner_code
from shuangsui.devstack.demo_calls import DemoOrg, DemoStep, acting_for
from shuangsui.devstack.demo_planning import DemoPlan
from shuangsui.devstack.errors import DevstackError
from shuangsui.devstack.issuer import DevIssuer, authorization

SAMPLING = "/api/v1/sampling"
SUB = "demo-drawer"
READ_MODEL_TIMEOUT = (
    120.0  # seconds sampling's consumers may apply nothing before the demo gives up
)
LIVE = {"prepared", "committed", "revealed", "computed", "completed"}
DRAWABLE = ["published", "drawing", "drawn"]  # the batch statuses of a demo batch in sampling
# Sampling's refusals of a city bureau's `bureau_wide` batch (B.10): per-county team draws are
# not prepared yet, some of its subjects lie in a county without officers of the department (the
# demo's officers do not cover every county), or no county has a subject to draw. Nothing is
# stored, so the next run tries again.
COUNTY_POOLS = frozenset({"draw-county-pools", "draw-county-no-pool", "draw-county-no-subjects"})


class DemoDrawsNotMade(DevstackError):
    """The demo draws could not be made; the message names the step and sampling's answer."""


_STEP = DemoStep(DemoDrawsNotMade, "demo draws")


class PartySecret(Protocol):
    """What `shuangsui.drawspec.new_party_secret` hands a party (§5.2)."""

    @property
    def party_id(self) -> str: ...
    @property
    def secret(self) -> str: ...
    @property
    def commitment(self) -> str: ...


@dataclass(frozen=True)
class DemoDraws:
    draw_codes: tuple[str, ...]  # the completed draws
    waiting: tuple[str, ...]  # batches sampling cannot draw yet (per-county pools, B.10)
    created: bool

    def summary(self) -> str:
        """One line: the completed draws per batch, as `<batch_code>-01…-11` (B.6 codes)."""
        made = "drawn now" if self.created else "already there"
        batches: dict[str, list[str]] = {}
        for code in self.draw_codes:
            batch, _, sequence = code.rpartition("-")
            batches.setdefault(batch, []).append(sequence)
        codes = ", ".join(
            f"{batch}-{seq[0]}" if len(seq) == 1 else f"{batch}-{seq[0]}…-{seq[-1]} ({len(seq)})"
            for batch, seq in batches.items()
        )
        line = f"demo draws completed ({made}): {len(self.draw_codes)} — {codes or 'none'}"
        if self.waiting:
            line += f"; waiting for per-county draws (B.10): {', '.join(self.waiting)}"
        return line


def make_demo_draws(
    gateway: str,
    issuer: DevIssuer,
    demo: DemoProvince,
    plan: DemoPlan,
    new_secret: Callable[[str], PartySecret],
    keep: Path,
    *,
    timeout: float = READ_MODEL_TIMEOUT,
) -> DemoDraws | None:
    """Draw (or find drawn) every batch of the demo plan sampling can draw; None when the demo province
    has no city bureau. `new_secret(party_id)` makes a party's secret, `keep` is the file the
    secrets wait in between the commit and the reveals."""
    if demo.planning_city is None:
        return None
    city, _ = demo.planning_city
    with httpx.Client(base_url=gateway, timeout=60) as client:
        province = authorization(
            issuer.token_for(roles=["provincial_admin"], region=f"{demo.province}0000", sub=SUB)
        )
        lead = _STEP.org(client, province, f"{city}-AMR")
        partner = _STEP.org(client, province, partner_code(city))
        headers = acting_for(issuer, "department_admin", lead, SUB)
        batches = _batches(client, headers, lead, plan, timeout)
        _wait_for_subjects(client, headers, timeout)
        # Each department hands in its own secret (R20): the partner through `partner_admin`.
        parties = {
            lead.code: headers,
            partner.code: acting_for(issuer, "partner_admin", partner, SUB),
        }
        codes, waiting, created = [], [], False
        for batch in batches:
            complete = partial(_completed, client, headers, parties=parties,
                               new_secret=new_secret, keep=keep)  # fmt: skip
            draws, made = _draws(client, headers, batch, complete)
            if not draws:
                waiting.append(batch["batch_code"])
            codes += [draw["draw_id"] for draw in draws]
            created = created or made
    return DemoDraws(tuple(sorted(codes)), tuple(waiting), created)


# ---- waiting for sampling's read models -----------------------------------------------------


def _batches(
    client: httpx.Client, headers: dict[str, str], lead: DemoOrg, plan: DemoPlan, timeout: float
) -> list[dict[str, Any]]:
    """The plan's batches as sampling holds them, once `planning.batch.published.v1` reached it
    for every one."""
    wanted = set(plan.batch_codes)

    def arrived() -> list[dict[str, Any]] | None:
        found, cursor = [], None
        while True:
            # A batch being drawn or drawn by an earlier run is `drawing` or `drawn` in sampling.
            params: dict[str, Any] = {"org_id": lead.org_id, "limit": 100, "status": DRAWABLE}
            if cursor:
                params["cursor"] = cursor
            answer = client.get(f"{SAMPLING}/batches", params=params, headers=headers)
            _STEP.ensure(answer, "listing sampling's batches of the demo bureau")
            found += [b for b in answer.json()["items"] if b["batch_code"] in wanted]
            cursor = answer.json().get("next_cursor")
            if cursor is None:
                break
        if {b["batch_code"] for b in found} != wanted:
            return None
        return sorted(found, key=lambda b: b["batch_code"])

    return _STEP.wait(
        arrived, timeout,
        f"sampling holds not all {len(wanted)} batches of demo plan {plan.plan_code} after "
        f"{timeout:.0f}s: its consumer of planning.batch.published.v1 (the sampling worker) has "
        "not caught up; see the sampling worker's log under .data/logs",
    )  # fmt: skip


def _wait_for_subjects(client: httpx.Client, headers: dict[str, str], timeout: float) -> None:
    """Until the subjects read model is loaded, has applied every event it saw pending and is
    within the bound a draw is prepared within: a draw's population is that copy (ADR 0003).
    A large demo takes its consumer minutes on a small machine: the wait gives up only when
    nothing was applied for `timeout` seconds, not while the count of pending events falls."""
    last: dict[str, Any] = {}
    stalled_since = time.monotonic()

    def current() -> bool | None:
        nonlocal stalled_since
        answer = client.get(f"{SAMPLING}/read-models", headers=headers)
        _STEP.ensure(answer, "reading how far behind sampling's read models are")
        [model] = [m for m in answer.json()["items"] if m["model"] == "subjects"]
        pending, before = model["pending"], last.get("pending")
        if pending is not None and (before is None or pending < before):
            stalled_since = time.monotonic()  # applying: not stalled (None: not probed yet)
        last.update(model)
        ready = model["loaded"] and model["within_bound"] and not model["pending"]
        return True if ready else None

    while current() is None:
        if time.monotonic() - stalled_since > timeout:
            raise DemoDrawsNotMade(
                f"sampling's subjects read model applied nothing for {timeout:.0f}s (loaded "
                f"{last.get('loaded')}, {last.get('lag_seconds')} s behind, {last.get('pending')} "
                "events pending): is the sampling worker running? see its log under .data/logs"
            )
        time.sleep(0.5)


# ---- one batch's draw -----------------------------------------------------------------------


def _draws(
    client: httpx.Client,
    headers: dict[str, str],
    batch: dict[str, Any],
    complete: Callable[[dict[str, Any]], tuple[dict[str, Any], bool]],
) -> tuple[list[dict[str, Any]], bool]:
    """The batch's draws, each taken to its completion by `complete` — one, one per county of a
    B.10 batch, or a joint batch's subject draw and then each department's team draw (B.11);
    none when sampling cannot draw it yet — and whether this run took a step of them."""
    draws = _live_draws(client, headers, batch) or _prepared(client, headers, batch, None)
    done = [complete(draw) for draw in draws]
    if any(draw["kind"] == "subjects" for draw, _ in done):
        teams = {draw["org_id"] for draw, _ in done if draw["kind"] == "teams"}
        for org_id in _departments(batch):
            if org_id not in teams:
                body = {"kind": "teams", "org_id": org_id}
                done += [complete(d) for d in _prepared(client, headers, batch, body)]
    return [draw for draw, _ in done], any(made for _, made in done)


def _prepared(
    client: httpx.Client, headers: dict[str, str], batch: dict[str, Any],
    body: dict[str, Any] | None,
) -> list[dict[str, Any]]:  # fmt: skip
    """The draws one prepare made, or none while sampling cannot draw the batch per county."""
    path = f"{SAMPLING}/batches/{batch['batch_id']}/draws"
    answer = client.post(path, headers=headers, json=body)
    if answer.status_code == 422 and answer.json().get("rule") in COUNTY_POOLS:
        return []
    what = f"the {body['kind']} draw of {body['org_id']}" if body else "the draw"
    _STEP.ensure(answer, f"preparing {what} of batch {batch['batch_code']}")
    prepared: list[dict[str, Any]] = answer.json()["prepared"]
    return prepared


def _departments(batch: dict[str, Any]) -> list[str]:
    """A joint batch's departments, the lead first: each draws its own teams (B.11)."""
    published = batch["published"]
    return [published["org_id"], *(p["org_id"] for p in published["participants"])]


def _completed(
    client: httpx.Client, headers: dict[str, str], draw: dict[str, Any], *,
    parties: dict[str, dict[str, str]], new_secret: Callable[[str], PartySecret], keep: Path,
) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """The draw taken to its completion, and whether this run took a step of it. `parties`:
    each party's id and the headers of the department that reveals its secret."""
    if draw["status"] == "completed":
        return draw, False
    code = draw["draw_id"]
    if draw["status"] == "prepared":
        secrets = [new_secret(party) for party in parties]
        _keep(keep, code, {s.party_id: s.secret for s in secrets})
        body = {"beacon": {"source": "commit-reveal", "commitments": [
            {"party_id": s.party_id, "commitment": s.commitment} for s in secrets]}}  # fmt: skip
        answer = _with_etag(client, headers, draw, "commit", body)
        _STEP.ensure(answer, f"committing draw {code}")
        draw = answer.json()
    if draw["status"] == "committed":
        kept = _kept(keep).get(code)
        if kept is None:
            raise DemoDrawsNotMade(
                f"draw {code} is committed but its parties' secrets are not in {keep}: it "
                "cannot be revealed"
            )
        for party, secret in kept.items():
            answer = _with_etag(
                client, parties[party], draw, "reveal", {"party_id": party, "secret": secret}
            )
            if answer.status_code == 409 and "draw-reveal-repeated" in answer.text:
                continue  # revealed before a restart; the draw does not show whose reveals
            _STEP.ensure(answer, f"revealing {party}'s secret of draw {code}")
            draw = answer.json()
    if draw["status"] != "completed":
        raise DemoDrawsNotMade(f"draw {code} ended {draw['status']}: {draw.get('failure')}")
    return draw, True


def _live_draws(
    client: httpx.Client, headers: dict[str, str], batch: dict[str, Any]
) -> list[dict[str, Any]]:
    """The batch's draws that are not failed or voided (the lead sees its prepared ones)."""
    answer = client.get(
        f"{SAMPLING}/draws", params={"batch_id": batch["batch_id"], "limit": 100}, headers=headers
    )
    _STEP.ensure(answer, f"listing the draws of batch {batch['batch_code']}")
    return [d for d in answer.json()["items"] if d["status"] in LIVE]


def _with_etag(
    client: httpx.Client, headers: dict[str, str], draw: dict[str, Any], action: str,
    body: dict[str, Any],
) -> httpx.Response:  # fmt: skip
    """One step of the draw under its current ETag (commit and reveal need If-Match)."""
    path = f"{SAMPLING}/draws/{draw['draw_id']}"
    current = client.get(path, headers=headers)
    _STEP.ensure(current, f"reading draw {draw['draw_id']} before its {action}")
    return client.post(
        f"{path}:{action}", json=body, headers={**headers, "If-Match": current.headers["etag"]}
    )


def _kept(keep: Path) -> dict[str, dict[str, str]]:
    if not keep.exists():
        return {}
    kept: dict[str, dict[str, str]] = json.loads(keep.read_text())
    return kept


def _keep(keep: Path, code: str, secrets: dict[str, str]) -> None:
    """The parties' secrets, written before the commit so the reveals can follow a restart."""
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.write_text(json.dumps({**_kept(keep), code: secrets}, indent=2))
    keep.chmod(0o600)


# ---- helpers --------------------------------------------------------------------------------
