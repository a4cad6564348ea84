"""Draws as the API shows them, and what a commit names as its beacon."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shuangsui.sampling.adapters.draws import StoredDraw
from shuangsui.sampling.domain.beacons import OfferedRound
from shuangsui.sampling.domain.draw_inputs import ExclusionRow
from shuangsui.sampling.domain.draws import DrawKind, DrawStatus
from shuangsui.sampling.service.draw_reveals import SecretIn
from shuangsui.sampling.service.draws import BeaconChoice, DrawRequest, PartyIn

HEX64 = r"^[0-9a-f]{64}$"
ROUND_MAX = 2**53 - 1  # DRAW_SPEC §5.1: a round is an integer 1..2^53−1


class StratumPopulationOut(BaseModel):
    stratum: str = Field(description="The stratum: a risk class (分层, B.2)")
    rule: str = Field(description="The batch's ratio `a/b` or count (抽取规则)")
    population: int = Field(description="Subjects of the manifest in it (对象数)")


class PartyOut(BaseModel):
    party_id: str = Field(description="The party (参与方)")
    commitment: str = Field(description='Its H("party", party_id, secret), hex (参与方承诺)')
    revealed_at: datetime | None = Field(
        None, description="When it revealed its secret; null until then (揭示时间)"
    )


class DrawOut(BaseModel):
    """A draw. Inspectors never appear by name: a draw's documents name them by opaque id."""

    model_config = ConfigDict(extra="forbid")

    draw_id: str = Field(
        description="The draw's public code, used in its paths and its commitment: batch code + "
        "'-' + sequence (抽取编号, B.6)",
        examples=["330106202603150001-01"],
    )
    batch_id: UUID = Field(description="批次标识")
    batch_code: str = Field(description="批次编号")
    kind: DrawKind = Field(
        description="combined 单部门一次抽取对象与检查组 · subjects 联合抽查统一抽取对象 · teams "
        "某部门抽取检查组 (B.11) (抽取类型)"
    )
    status: DrawStatus = Field(
        description="prepared 已准备 · committed 已承诺 · revealed 已揭示 · computed 已计算 · "
        "completed 已完成 · failed 已失败 · voided 已作废 (状态)"
    )
    org_id: UUID | None = Field(
        description="The department whose teams it draws (抽取检查组的部门)"
    )
    department_type: str | None = Field(description="部门类型")
    subjects_draw_id: str | None = Field(
        description="A teams draw's subject draw, by its public code (对象抽取编号)"
    )
    county_code: str | None = Field(
        None, description="The county of a multi-county batch's per-county draw (B.10); null "
        "otherwise (县级抽取的区县)",
    )  # fmt: skip
    population: list[StratumPopulationOut] = Field(
        description="Per stratum, the subjects the draw selects from (各层对象数)"
    )
    excluded: int = Field(description="Subjects excluded before the manifest (排除对象数, §3.2)")
    inspectors: int = Field(description="Officers in the pool, by opaque id (检查人员数)")
    commitment_sha256: str | None = Field(description="C, once committed (承诺哈希)")
    beacon_source: str | None = Field(
        description="commit-reveal 多方承诺揭示 · drand-quicknet · fixed (tests only) (随机源)"
    )
    beacon: dict[str, Any] | None = Field(description="The committed `beacon` (随机源承诺)")
    parties: list[PartyOut] | None = Field(description="commit-reveal's parties (参与方)")
    reveal_deadline: datetime | None = Field(
        description="commit-reveal: reveals are due by then; drand: the round must be accepted "
        "by then (BEACON_DEADLINE_SECONDS after its time), else the draw fails (揭示截止时间)"
    )
    prepared_at: datetime = Field(description="准备时间")
    committed_at: datetime | None = Field(description="承诺时间")
    completed_at: datetime | None = Field(description="完成时间")
    result_sha256: str | None = Field(description="The result's hash once computed (结果哈希)")
    failure: dict[str, Any] | None = Field(
        description="reason (missing_reveal, beacon_unavailable, batch_cancelled, "
        "verification_rejected), missing_parties, detail (失败原因)"
    )
    void_request: dict[str, Any] | None = Field(
        None,
        description="A void asked for and not yet approved: reason, requested_by, requested_at "
        "(待批准的作废申请)",
    )
    voiding: dict[str, Any] | None = Field(
        None, description="A voided draw's reason, requested_by, approved_by (作废原因与批准人)"
    )
    ended_at: datetime | None = Field(None, description="When it failed or was voided (终止时间)")

    @classmethod
    def of(cls, stored: StoredDraw) -> DrawOut:
        draw, inputs = stored.draw, stored.inputs
        beacon = draw.commitment["beacon"] if draw.commitment is not None else None
        return cls(
            draw_id=draw.draw_code, batch_id=draw.batch_id,
            batch_code=stored.batch_code, kind=draw.kind, status=draw.status,
            org_id=draw.org_id, department_type=draw.department_type,
            subjects_draw_id=draw.subjects_draw_code, county_code=draw.county_code,
            population=[StratumPopulationOut(**e) for e in stored.population],
            excluded=len(_list(inputs["exclusions"])), inspectors=len(_list(inputs["inspectors"])),
            commitment_sha256=draw.commitment_sha256, beacon_source=draw.beacon_source,
            beacon=beacon if isinstance(beacon, dict) else None,
            parties=[
                PartyOut(party_id=e["party_id"], commitment=e["commitment"],
                         revealed_at=e.get("revealed_at"))
                for e in stored.parties
            ] if stored.parties else None,
            reveal_deadline=stored.reveal_deadline, prepared_at=stored.prepared_at,
            committed_at=stored.committed_at, completed_at=stored.completed_at,
            result_sha256=_text(draw.result.get("result_sha256")) if draw.result else None,
            failure=_failure(stored), void_request=stored.void_request,
            voiding=_voiding(stored), ended_at=stored.ended_at,
        )  # fmt: skip


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _failure(stored: StoredDraw) -> dict[str, Any] | None:
    failure = stored.draw.failure
    if failure is None:
        return None
    return {"reason": failure.reason.value, "missing_parties": list(failure.missing_parties),
            "detail": failure.detail}  # fmt: skip


def _voiding(stored: StoredDraw) -> dict[str, Any] | None:
    voided = stored.draw.voided
    if voided is None:
        return None
    return {"reason": voided.reason, "requested_by": voided.requested_by,
            "approved_by": voided.approved_by}  # fmt: skip


def _list(value: object) -> list[object]:
    assert isinstance(value, list)
    return value


class ExclusionIn(BaseModel):
    """A subject the department excludes before the manifest is built (DRAW_SPEC §3.2, B.7)."""

    model_config = ConfigDict(extra="forbid")

    uscc: str = Field(
        min_length=1, max_length=64, description="The subject's USCC, of the batch's population "
        "(统一社会信用代码)", examples=["91330106MA2B7C8D9E"],
    )  # fmt: skip
    reason: str = Field(
        min_length=1, max_length=100,
        description="A B.7 code the batch's exclusion policy lists: INSPECTED_RECENTLY 近期已检查 "
        "· REGISTERED_RECENTLY 新设立 · UNDER_INVESTIGATION 正在立案调查 · DEREGISTERED 已注销吊销 "
        "· KEY_SUPERVISION_SEPARATE 已纳入重点监管 · OTHER_WITH_NOTE 其他（附说明）(排除原因)",
        examples=["UNDER_INVESTIGATION"],
    )  # fmt: skip
    note: str | None = Field(
        None, max_length=100,
        description="OTHER_WITH_NOTE only: one of the policy's notes, committed as "
        "`OTHER_WITH_NOTE:<note>`; default the policy's only note (说明)",
    )  # fmt: skip


class PrepareIn(BaseModel):
    """What to prepare; no body: the batch's subject draw(s)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["subjects", "teams"] = Field(
        "subjects",
        description="subjects: the batch's subject draw (`combined`, `subjects` for a "
        "cross-department batch, one per county for B.10) · teams: a cross-department batch's "
        "team draw for `org_id` over its completed subject draw (B.11) (准备的抽取)",
    )
    org_id: UUID | None = Field(
        None, description="A team draw's department: the lead or a participant (抽取检查组的部门)"
    )

    exclusions: list[ExclusionIn] = Field(
        [], max_length=10_000,
        description="Subjects of the population excluded from the subject draw, each once, with "
        "a reason of the batch's exclusion policy (B.7); listed in the committed exclusions. "
        "The policy's REGISTERED_RECENTLY excludes by itself. Refused: `draw-exclusion-outside`, "
        "`draw-exclusion-duplicate`, `draw-exclusion-reason`; not for kind teams (排除对象)",
    )  # fmt: skip

    refresh: bool = Field(
        False, description="true: a decision whose draw is prepared and not yet committed gets "
        "that draw rebuilt from the current read models in place (same code, next ETag), e.g. "
        "after fixing what `team_shortfalls` named; false: such a draw is `draw-in-progress` "
        "(重新准备)",
    )  # fmt: skip

    def request(self) -> DrawRequest:
        named = tuple(ExclusionRow(e.uscc, e.reason, e.note) for e in self.exclusions)
        return DrawRequest(self.kind, self.org_id, named, self.refresh)


class TeamShortfallOut(BaseModel):
    """A drawable subject whose pool cannot give a full eligible team (R18): its commit would be
    refused (`draw-team-infeasible`)."""

    draw_id: str = Field(description="The prepared draw, by its public code (抽取编号)")
    subject_id: str = Field(description="The subject's USCC (统一社会信用代码)")
    unit: str = Field(description='Its station with jurisdiction, "" if none (管辖所)')
    reason: str = Field(
        description="insufficient_candidates 可选人员不足 · no_qualified_lead 无具备资格的组长 "
        "(DRAW_SPEC §8.6) (原因)"
    )
    eligible: int = Field(
        description="Officers eligible for it: certificate valid through the window end, no "
        "declared conflict, of its station in single_station mode (符合条件人数)"
    )
    needed: int = Field(description="The team size (检查组人数)")
    qualified: int = Field(
        description="Of the eligible, how many hold the lead's qualification (具备组长资格人数)"
    )
    missing_qualification: str | None = Field(
        description="The qualification nobody eligible holds (no_qualified_lead) (缺少的执法资格)"
    )


class PreparedOut(DrawOut):
    """The first draw prepared (the only one for most batches), and every draw the call
    prepared: one per county for a multi-county `bureau_wide` batch (B.10)."""

    prepared: list[DrawOut] = Field(
        description='Every draw this call prepared, in code order; each has ETag "1" '
        "(本次准备的全部抽取)"
    )
    team_shortfalls: list[TeamShortfallOut] = Field(
        [], description="The drawable subjects that cannot be given a full eligible team, of "
        "every prepared draw (at most 1000); a draw with any is refused at its commit "
        "(`draw-team-infeasible`, R18). Empty: every team is feasible (检查组缺口)",
    )  # fmt: skip

    @classmethod
    def of_all(
        cls, stored: list[StoredDraw], shortfalls: list[TeamShortfallOut] | None = None
    ) -> PreparedOut:
        drawn = [DrawOut.of(s) for s in stored]
        return cls(**drawn[0].model_dump(), prepared=drawn, team_shortfalls=shortfalls or [])


class FixedBeaconIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["fixed"] = Field(description="Tests and development only (§5.3) (固定值)")
    value: str = Field(pattern=HEX64, description="64 lowercase hex digits (固定随机值)")


class PartyCommitmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party_id: str = Field(min_length=1, max_length=100, description="参与方")
    commitment: str = Field(
        pattern=HEX64,
        description="Printed by `shuangsui draw party-secret`; the secret stays with the party "
        "(参与方承诺)",
    )


class CommitRevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["commit-reveal"] = Field(description="多方承诺揭示 (§5.2)")
    commitments: list[PartyCommitmentIn] = Field(
        min_length=2, description="Every party's commitment, at least two (各方承诺)"
    )
    reveal_deadline: AwareDatetime | None = Field(
        None, description="When reveals are due; default 24 h after the commit (揭示截止时间)"
    )


class DrandBeaconIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["drand-quicknet"] = Field(description="drand quicknet 公共随机信标 (§5.1)")
    round: int | None = Field(
        None, ge=1, le=ROUND_MAX,
        description="The round; due at least 10 minutes and at most 7 days after the commit. "
        "Default: the earliest allowed (轮次)",
    )  # fmt: skip


class CommitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    beacon: Annotated[
        FixedBeaconIn | CommitRevealIn | DrandBeaconIn, Field(discriminator="source")
    ] = Field(description="Where the draw's randomness will come from (随机源)")

    def choice(self, beacon_grace: timedelta) -> BeaconChoice:
        """`beacon_grace`: how long after a drand round's time it may still be accepted."""
        beacon = self.beacon
        if isinstance(beacon, FixedBeaconIn):
            return BeaconChoice("fixed", value=beacon.value)
        if isinstance(beacon, DrandBeaconIn):
            return BeaconChoice("drand-quicknet", round=beacon.round, beacon_grace=beacon_grace)
        return BeaconChoice(
            "commit-reveal",
            parties=tuple(PartyIn(c.party_id, c.commitment) for c in beacon.commitments),
            reveal_deadline=beacon.reveal_deadline,
        )


class RevealIn(BaseModel):
    """A commit-reveal party's secret; a fixed beacon (test mode) needs no body."""

    model_config = ConfigDict(extra="forbid")

    party_id: str = Field(min_length=1, max_length=100, description="参与方")
    secret: str = Field(description="Its 32-byte secret, 64 lowercase hex digits (参与方秘密)")

    def secret_in(self) -> SecretIn:
        return SecretIn(self.party_id, self.secret)


class RoundIn(BaseModel):
    """A drand quicknet round as drand publishes it (`/{chain_hash}/public/{round}`), pushed by
    an operator where the deployment cannot reach drand's relays."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "round": 657413,
            "randomness": "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587",
            "signature": "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be"
            "41076862b98fad56e91a6b85b89cd97b",
        }]},
    )  # fmt: skip

    round: int = Field(ge=1, le=ROUND_MAX, description="The committed round (轮次)")
    randomness: str = Field(
        max_length=64, description="SHA-256 of the signature, 64 lowercase hex digits (随机值)"
    )
    signature: str = Field(
        max_length=1000,
        description="The round's BLS signature, 96 lowercase hex digits (签名)",
    )

    def offered(self) -> OfferedRound:
        return OfferedRound(self.round, self.randomness, self.signature)


class VoidIn(BaseModel):
    """Asking for a void (the lead department's admin, with the reason) or approving the one
    asked for (`approve`: another admin of the department or an auditor of its province)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(
        None, max_length=2000,
        description="Why the completed draw is annulled; required to ask, optional to approve "
        "(then it must be the reason asked for) (作废原因)",
    )  # fmt: skip
    approve: bool = Field(
        False, description="false: ask for the void · true: approve the void asked for (批准作废)"
    )
