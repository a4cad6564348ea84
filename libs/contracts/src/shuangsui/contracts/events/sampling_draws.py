"""Sampling events about draws (抽取), DOMAIN.md §3.3, DRAW_SPEC (IDS-1).

A draw is public evidence: its commitment is published before the randomness exists
(`sampling.draw.committed.v1`), its result when it is computed (`.completed.v1`), and a failed or
voided draw is published with its reason and stays visible (R14, DRAW_SPEC §14.2). Inspection
creates tasks from `.completed.v1` and teams from `sampling.team.assigned.v1`; planning marks the
batch drawn when a completion says `completes_batch`. Inspectors appear only as opaque ids.

`draw_code` is the draw's public code (B.6): the batch code, `-`, the draw's sequence in the
batch (`330106202603150001-01`); it is the commitment's `draw_id`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shuangsui.contracts.events.base import EventPayload

__all__ = [
    "DrawCommitted",
    "DrawCompleted",
    "DrawFailed",
    "DrawVoided",
    "ReplacementMade",
    "SelectedSubject",
    "StratumOutcome",
    "StratumSize",
    "TeamAssigned",
]

HEX64 = r"^[0-9a-f]{64}$"
DRAW_CODE_PATTERN = r"^[0-9]{18}-[0-9]{2}$"
BATCH_CODE_PATTERN = r"^[0-9]{18}$"
DrawKind = Literal["combined", "subjects", "teams"]
BeaconSource = Literal["commit-reveal", "drand-quicknet", "fixed"]

_KIND = (
    "combined 单部门一次抽取对象与检查组 · subjects 联合抽查统一抽取对象 (team = null) · teams "
    "某部门在对象抽取结果上抽取检查组 (B.11, R20) (抽取类型)."
)


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Draw(_Part):
    """Fields every draw event carries, so a consumer can route and show it without a lookup.
    A mixin, not an event: each draw event is `(EventPayload, _Draw)`."""

    draw_id: UUID = Field(description="The draw (抽取标识).")
    draw_code: str = Field(
        pattern=DRAW_CODE_PATTERN,
        description="Public code, the commitment's draw_id: batch code + '-' + sequence (B.6) "
        "(抽取编号).",
    )
    batch_id: UUID = Field(description="The batch drawn (批次标识).")
    batch_code: str = Field(pattern=BATCH_CODE_PATTERN, description="批次编号")
    kind: DrawKind = Field(description=_KIND)
    org_id: UUID | None = Field(
        description="The department whose teams the draw assigns; null for a subject draw of a "
        "joint batch (抽取检查组的部门)."
    )
    department_type: str | None = Field(
        description="That department's type; null with org_id (部门类型)."
    )
    subjects_draw_code: str | None = Field(
        pattern=DRAW_CODE_PATTERN,
        description="For a teams draw, the subject draw whose selection it is over; else null "
        "(对象抽取编号).",
    )
    county_code: str | None = Field(
        pattern=r"^[0-9]{6}$",
        description="The county of a per-county draw of a city bureau's batch (B.10); else null "
        "(县级区划代码).",
    )
    batch_status: Literal["published", "drawing", "drawn"] = Field(
        description="The batch after this change, from every draw of it: drawing (a draw is "
        "live, or a county or department is still to be drawn), drawn, or published (no draw "
        "of it stands; it may be drawn again) (批次抽取状态)."
    )


class StratumSize(_Part):
    stratum: str = Field(min_length=1, description="The stratum: a risk class (分层, B.2).")
    rule: str = Field(
        description="The committed rule: a ratio `a/b` or a count, as in the document (抽取规则)."
    )
    population: int = Field(ge=0, description="Subjects of the stratum in the manifest (总数).")


_HASHES = {
    "manifest_sha256": "5f8a0d6b8b2c8d9f1e0a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80",
    "exclusions_sha256": "3141773683913628c504c45c9ead975b81e7cc61ff053f6632bad109a5a8f8c6",
    "inspectors_sha256": "969b98ed9b9a0bfd9257415fb33c926d752c0ff89b8b79e198b60077b28e4aac",
    "conflicts_sha256": "27200baf13d3c255752610cd587dfab76c8f0b7ac1b03fba6b3a0e7049269781",
}
_BEACON = {
    "source": "commit-reveal",
    "commitments": [
        "11b8bb7c24a0322a484820d7df84403103be68920b274fa7a0f546c7a423fd35",
        "97e17296db0814763e60f04fbf48e5c4609cb018ce401980c48d8160887fa496",
    ],
}
_IDS = {
    "draw_id": "6e2f1a7c-3b5d-4e8f-9a0b-1c2d3e4f5a6b",
    "draw_code": "330106202603150001-01",
    "batch_id": "7a3c9e12-5b64-4d1f-9c2a-0e8f6b4d2a17",
    "batch_code": "330106202603150001",
    "kind": "combined",
    "org_id": "2b8d4f60-1a3c-4e5f-8a9b-0c1d2e3f4a5b",
    "department_type": "market_supervision",
    "subjects_draw_code": None,
    "county_code": None,
}
_COMMITTED_EXAMPLE: dict[str, Any] = {
    **_IDS,
    "batch_status": "drawing",
    "spec": "IDS-1",
    "commitment": {
        "spec": "IDS-1",
        "draw_id": "330106202603150001-01",
        "strata": [{"stratum": "A", "ratio": "3/100"}, {"stratum": "B", "ratio": "1/10"}],
        **_HASHES,
        "team": {
            "size": 2,
            "lead_expertise": "food_safety",
            "scope": "all",
            "task_date": "2026-06-30",
        },
        "beacon": _BEACON,
        "committed_at": "2026-03-20T02:00:00Z",
    },
    "commitment_sha256": "298fcaadb9ec2084a2c35cd028edf0756b108198d14e116467f7d9fbecedc427",
    **_HASHES,
    "strata": [
        {"stratum": "A", "rule": "3/100", "population": 1200},
        {"stratum": "B", "rule": "1/10", "population": 310},
    ],
    "beacon": _BEACON,
    "reveal_deadline": "2026-03-20T06:00:00Z",
    "committed_at": "2026-03-20T02:00:00Z",
}


class DrawCommitted(EventPayload, _Draw):
    """A draw's commitment was stored and is public (抽取承诺公示), before its randomness exists
    (DRAW_SPEC §14.1): the parties may reveal, or the drand round is awaited. `commitment` is
    the document exactly; `C = SHA-256(JCS(commitment))` is `commitment_sha256` (§4.2)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_COMMITTED_EXAMPLE]})

    event_type: ClassVar[str] = "sampling.draw.committed.v1"
    released: ClassVar[bool] = False  # until inspection and disclosure consume it (issue 13)

    spec: Literal["IDS-1"] = Field(description="The draw specification (抽取规范).")
    commitment: dict[str, Any] = Field(
        description="The commitment document of DRAW_SPEC §4, byte-for-byte what C is over "
        "(承诺文件)."
    )
    commitment_sha256: str = Field(pattern=HEX64, description="C in hex (承诺哈希).")
    manifest_sha256: str = Field(pattern=HEX64, description="Population list hash (对象名单哈希).")
    exclusions_sha256: str = Field(pattern=HEX64, description="Exclusion list hash (排除名单哈希).")
    inspectors_sha256: str = Field(pattern=HEX64, description="Inspector list hash (检查人员哈希).")
    conflicts_sha256: str = Field(pattern=HEX64, description="Conflict list hash (回避关系哈希).")
    strata: list[StratumSize] = Field(
        description="Per stratum, in document order, its rule and population size (分层规模)."
    )
    beacon: dict[str, Any] = Field(
        description="The commitment's beacon: source and drand round, or the parties' "
        "commitments (随机源)."
    )
    reveal_deadline: AwareDatetime | None = Field(
        description="Commit-reveal: reveals are accepted until then; drand: the round must be "
        "accepted by then; else the draw fails (揭示截止时间)."
    )
    committed_at: AwareDatetime = Field(description="The document's committed_at (承诺时间).")


# Subjects per `sampling.draw.selection.v1` event: about 130 bytes each, so a part stays far
# below the broker's message limit whatever the draw's size (30,000 selected are 15 parts).
SELECTION_PART_SIZE = 2000


class SelectedSubject(_Part):
    stratum: str = Field(min_length=1, description="Its stratum (分层).")
    rank: int = Field(ge=1, description="Position in the stratum's selection order (抽中顺序).")
    subject_id: UUID = Field(description="The registry's subject (检查对象标识).")
    uscc: str = Field(description="Its USCC, the draw's subject_id (B.1) (统一社会信用代码).")


class StratumOutcome(_Part):
    stratum: str = Field(min_length=1, description="分层")
    population: int = Field(ge=0, description="N_s (总数).")
    sample_size: int = Field(ge=0, description="n_s (抽取数).")
    cutoff_key: str | None = Field(pattern=HEX64, description="Key of the n_s-th (截止键).")
    next_key: str | None = Field(pattern=HEX64, description="Key of the next one (后继键).")


_COMPLETED_EXAMPLE: dict[str, Any] = {
    **_IDS,
    "batch_status": "drawn",
    "commitment_sha256": "298fcaadb9ec2084a2c35cd028edf0756b108198d14e116467f7d9fbecedc427",
    "beacon_value": [
        {
            "party_id": "330106",
            "secret": "5bcd153f37e932c0398f1220e87030e481686c6a35a74ded414553cb0bc21986",
        },
        {
            "party_id": "330106-GZ",
            "secret": "63de4436807f0426936cab7b677af67fa9d2d5020e52c0c2b666d6085b75e23a",
        },
    ],
    "seed": "84ca7096e6ecc86f4460486706e1bc8032a9a408fe79885c987f70f3d285120a",
    "result_sha256": "acb2331027c1d1b5f5a8a0f5f0e4d3c2b1a09f8e7d6c5b4a392817161514131a",
    "seed_b": "0afae4008932b402c8498827b1adaa98fa8bbce3c7d063d0352c9d91b325a016",
    "strata": [
        {
            "stratum": "A",
            "population": 1200,
            "sample_size": 36,
            "cutoff_key": "a8ebcd5cbc3babf2cc4b6abeff456f6cb328fb4384fa9d268b131839a1d8afe3",
            "next_key": "b37a5f7b881fffd15ab01c3e77a0a14358be1f10e304eb5f4f815170eeabcdb2",
        }
    ],
    "infeasible": 0,
    "selection_parts": 1,
    "completes_batch": True,
    "completed_at": "2026-03-20T06:05:00Z",
}


class DrawCompleted(EventPayload, _Draw):
    """A draw's result is computed by the verifier's code and public (抽取完成): anyone can
    recompute it from the bundle (DRAW_SPEC §10). The selected subjects follow in
    `selection_parts` events `sampling.draw.selection.v1` of the same transaction, so a draw of
    any size is announced (a province draws tens of thousands). Inspection creates one task per
    selected subject (R21); a teams draw adds teams only. `completes_batch` says the batch is now
    drawn (its combined draw, or a joint batch's subject draw and every department's team
    draw)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_COMPLETED_EXAMPLE]})

    event_type: ClassVar[str] = "sampling.draw.completed.v1"
    released: ClassVar[bool] = False

    commitment_sha256: str = Field(pattern=HEX64, description="承诺哈希")
    beacon_value: Any = Field(
        description="What R was obtained from: the reveals, the drand round's randomness and "
        "signature, or the fixed value (随机值)."
    )
    seed: str = Field(pattern=HEX64, description="seed = H(seed, C, R) (§6) (种子).")
    result_sha256: str = Field(pattern=HEX64, description="结果哈希 (§7.4)")
    seed_b: str | None = Field(
        pattern=HEX64, description="Phase-B seed; null without teams (检查组种子)."
    )
    strata: list[StratumOutcome] = Field(description="In document order (分层结果).")
    selection_parts: int = Field(
        ge=0,
        description="How many `sampling.draw.selection.v1` events carry the selected subjects, "
        "recorded with this one; 0 when none is selected (抽中名单分批数).",
    )
    infeasible: int = Field(
        ge=0,
        description="Subjects left without a full team, for the manual procedure (R18) "
        "(无法组队数).",
    )
    completes_batch: bool = Field(description="The batch is drawn with this (批次抽取完成).")
    completed_at: AwareDatetime = Field(description="完成时间")


class DrawSelection(EventPayload):
    """A part of a completed draw's selected subjects (抽中名单), in the result's order: stratum
    by stratum in document order, each in selection order. Parts 1…`parts` are recorded in the
    completion's transaction, at most `SELECTION_PART_SIZE` subjects each; a consumer that needs
    the whole selection waits for every part (the public result holds it too, §10.2)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "draw_id": _IDS["draw_id"], "draw_code": _IDS["draw_code"],
                    "batch_id": _IDS["batch_id"], "batch_code": _IDS["batch_code"],
                    "part": 1, "parts": 1,
                    "subjects": [{
                        "stratum": "A", "rank": 1,
                        "subject_id": "0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11",
                        "uscc": "91330106MA2B3C4D5E",
                    }],
                }
            ]
        }
    )  # fmt: skip

    event_type: ClassVar[str] = "sampling.draw.selection.v1"
    released: ClassVar[bool] = False

    draw_id: UUID = Field(description="The draw (抽取标识).")
    draw_code: str = Field(pattern=DRAW_CODE_PATTERN, description="Its public code (抽取编号).")
    batch_id: UUID = Field(description="The batch drawn (批次标识).")
    batch_code: str = Field(pattern=BATCH_CODE_PATTERN, description="批次编号")
    part: int = Field(ge=1, description="This part's number, from 1 (分批序号).")
    parts: int = Field(ge=1, description="How many parts the selection has (分批总数).")
    subjects: list[SelectedSubject] = Field(
        min_length=1, max_length=SELECTION_PART_SIZE, description="抽中对象"
    )


class DrawFailed(EventPayload, _Draw):
    """A draw failed (抽取失败): no result exists and none may be used; a new draw needs a new
    commitment and a new code (DRAW_SPEC §5.2, §14.2)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_IDS,
                    "batch_status": "published",
                    "reason": "missing_reveal",
                    "missing_parties": ["330106-GZ"],
                    "detail": "reveal deadline 2026-03-20T06:00:00Z passed",
                    "failed_at": "2026-03-20T06:00:05Z",
                }
            ]
        }
    )

    event_type: ClassVar[str] = "sampling.draw.failed.v1"
    released: ClassVar[bool] = False

    reason: Literal[
        "missing_reveal", "beacon_unavailable", "batch_cancelled", "verification_rejected"
    ] = Field(
        description="missing_reveal 有参与方未揭示 · beacon_unavailable 随机信标未按时获得 · "
        "batch_cancelled 批次撤销 · verification_rejected 校验未通过 (失败原因)."
    )
    missing_parties: list[str] = Field(
        description="Parties that did not reveal; empty for other reasons (未揭示方)."
    )
    detail: str | None = Field(max_length=2000, description="说明")
    failed_at: AwareDatetime = Field(description="失败时间")


class DrawVoided(EventPayload, _Draw):
    """A completed draw was voided (抽取作废, R14): with a reason, asked by one person and
    approved by another. It stays public; a re-draw is a new draw with a new code."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_IDS,
                    "batch_status": "published",
                    "reason": "对象名单快照遗漏一个所的对象，经批准重新抽取",
                    "requested_by": "u-5d1e",
                    "approved_by": "u-77c2",
                    "voided_at": "2026-03-21T01:00:00Z",
                }
            ]
        }
    )

    event_type: ClassVar[str] = "sampling.draw.voided.v1"
    released: ClassVar[bool] = False

    reason: str = Field(min_length=1, max_length=2000, description="作废原因")
    requested_by: str = Field(min_length=1, description="Who asked (申请人).")
    approved_by: str = Field(min_length=1, description="Who approved, not the asker (批准人).")
    voided_at: AwareDatetime = Field(description="作废时间")


class TeamAssigned(EventPayload):
    """A subject's team from a draw's phase B (检查组分配, DRAW_SPEC §8.6), or why it has none:
    an infeasible subject goes to the recorded manual procedure, never to a smaller team (R18)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "draw_id": "6e2f1a7c-3b5d-4e8f-9a0b-1c2d3e4f5a6b",
                    "draw_code": "330106202603150001-01",
                    "batch_id": "7a3c9e12-5b64-4d1f-9c2a-0e8f6b4d2a17",
                    "subject_id": "0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11",
                    "uscc": "91330106MA2B3C4D5E",
                    "org_id": "2b8d4f60-1a3c-4e5f-8a9b-0c1d2e3f4a5b",
                    "department_type": "market_supervision",
                    "selection_mode": "station_group",
                    "inspectors_sha256": _HASHES["inspectors_sha256"],
                    "pool_size": 14,
                    "lead_inspector_id": "4a1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                    "member_ids": ["5b2c3d4e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"],
                    "cap": 2,
                    "infeasible": None,
                }
            ]
        }
    )

    event_type: ClassVar[str] = "sampling.team.assigned.v1"
    released: ClassVar[bool] = False

    draw_id: UUID = Field(description="抽取标识")
    draw_code: str = Field(pattern=DRAW_CODE_PATTERN, description="抽取编号")
    batch_id: UUID = Field(description="批次标识")
    subject_id: UUID = Field(description="检查对象标识")
    uscc: str = Field(description="统一社会信用代码")
    org_id: UUID = Field(description="The department whose team it is (部门).")
    department_type: str = Field(description="部门类型")
    selection_mode: Literal["bureau_wide", "hq_and_stations", "station_group", "single_station"] = (
        Field(description="选派模式 (R16)")
    )
    inspectors_sha256: str = Field(pattern=HEX64, description="The pool's list hash (人员哈希).")
    pool_size: int = Field(ge=0, description="Officers in the pool, |I| (人员总数).")
    lead_inspector_id: UUID | None = Field(description="Opaque id; null if infeasible (组长).")
    member_ids: list[UUID] = Field(description="Opaque ids in rank order (组员).")
    cap: int | None = Field(ge=1, description="The load cap used (§8.6) (负载上限).")
    infeasible: Literal["insufficient_candidates", "no_qualified_lead"] | None = Field(
        description="Why no team: 候选人不足 / 无合格组长; null with a team (无法组队原因)."
    )


class ReplacementMade(EventPayload):
    """An officer left a drawn team and the deterministic replacement was applied (人员替换,
    R19, DRAW_SPEC §9, B.8); the bundle's `recusals` grow so the result stays verifiable."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "draw_id": "6e2f1a7c-3b5d-4e8f-9a0b-1c2d3e4f5a6b",
                    "draw_code": "330106202603150001-01",
                    "batch_id": "7a3c9e12-5b64-4d1f-9c2a-0e8f6b4d2a17",
                    "subject_id": "0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11",
                    "uscc": "91330106MA2B3C4D5E",
                    "org_id": "2b8d4f60-1a3c-4e5f-8a9b-0c1d2e3f4a5b",
                    "sequence": 1,
                    "role": "lead",
                    "replaced_inspector_id": "4a1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                    "replacement_inspector_id": "6c3d4e5f-7a8b-4c9d-0e1f-2a3b4c5d6e7f",
                    "cap": 3,
                    "infeasible": None,
                    "reason": "recusal",
                    "requested_by": "u-9a10",
                    "approved_by": "u-5d1e",
                    "made_at": "2026-03-22T03:00:00Z",
                }
            ]
        }
    )

    event_type: ClassVar[str] = "sampling.replacement.made.v1"
    released: ClassVar[bool] = False

    draw_id: UUID = Field(description="抽取标识")
    draw_code: str = Field(pattern=DRAW_CODE_PATTERN, description="抽取编号")
    batch_id: UUID = Field(description="批次标识")
    subject_id: UUID = Field(description="检查对象标识")
    uscc: str = Field(description="统一社会信用代码")
    org_id: UUID = Field(description="The team's department (部门).")
    sequence: int = Field(ge=1, description="Position in the draw's recusal list (替换序号).")
    role: Literal["lead", "member"] = Field(description="lead 组长 · member 组员 (角色).")
    replaced_inspector_id: UUID = Field(description="Who left the team (被替换人员).")
    replacement_inspector_id: UUID | None = Field(
        description="Who took the place; null when no candidate is left (替换人员)."
    )
    cap: int | None = Field(ge=1, description="The cap used; null if none found (负载上限).")
    infeasible: Literal["insufficient_candidates", "no_qualified_lead"] | None = Field(
        description="Why the place stays vacant; null with a replacement (空缺原因)."
    )
    reason: Literal["recusal", "unavailable", "cert_invalid"] = Field(
        description="recusal 回避 · unavailable 无法到岗 · cert_invalid 执法证失效 (B.8) (原因)."
    )
    requested_by: str = Field(min_length=1, description="Who declared it (申请人).")
    approved_by: str = Field(min_length=1, description="Who approved it (批准人).")
    made_at: AwareDatetime = Field(description="替换时间")
