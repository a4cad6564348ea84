"""A draw's verification as the API shows it: the verdict of `shuangsui draw verify`, with the
steps of DRAW_SPEC §11 it ran, and what a citizen uploads to have their own copies checked."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.sampling.service.draw_verifications import Verification

_OK_EXAMPLE: dict[str, Any] = {
    "ok": True, "draw_id": "330106202603150001-01", "outcome": "result", "rejection": None,
    "difference": None,
    "checks": [
        {"step": 1, "check": "schema", "passed": True},
        {"step": 2, "check": "order", "passed": True},
        {"step": 3, "check": "list_hashes", "passed": True},
        {"step": 4, "check": "exclusions", "passed": True},
        {"step": 5, "check": "strata", "passed": True},
        {"step": 6, "check": "beacon", "passed": True},
        {"step": 7, "check": "compute", "passed": True},
        {"step": 8, "check": "recusals", "passed": True},
    ],
}  # fmt: skip


class CheckOut(BaseModel):
    step: int = Field(description="The step of DRAW_SPEC §11 (1–8) (验证步骤)", examples=[3])
    check: str = Field(
        description="schema · order · list_hashes · exclusions · strata · beacon · compute · "
        "recusals (检查项)",
        examples=["list_hashes"],
    )
    passed: bool | None = Field(
        description="true passed · false the verifier stopped here · null not run, an earlier "
        "step stopped it (是否通过)"
    )


class RejectionOut(BaseModel):
    code: str = Field(description="The IDS-1 error code (§11) (错误代码)", examples=["E_BEACON"])
    message: str = Field(description="The verifier's message, naming the list or field (说明)")


class DifferenceOut(BaseModel):
    part: str = Field(
        description="The part of the result (§10.2) that differs: `strata`, `assignments`, "
        "`replacements`, `seed`, … or `error` for a rejection of another code (不一致部分)",
        examples=["strata"],
    )
    field: str = Field(
        description="The first differing path, as `shuangsui draw verify` names it (不一致字段)",
        examples=["strata[1].selected[0]"],
    )
    published: Any = Field(description="The value published there (公布值)")
    computed: Any = Field(description="The value the verifier computed there (计算值)")


class VerificationOut(BaseModel):
    """The verdict `shuangsui draw verify bundle.json result.json` prints, and the steps run."""

    model_config = ConfigDict(json_schema_extra={"examples": [_OK_EXAMPLE]})

    ok: bool = Field(
        description="The published result equals the one computed from the bundle, as JSON "
        "values (a published rejection matches a computed one of the same code, §10.4); the "
        "command's `match` (是否一致)"
    )
    draw_id: str | None = Field(
        description="The draw's public code, from the bundle's commitment (抽取编号)",
        examples=["330106202603150001-01"],
    )
    outcome: str = Field(
        description="`result` when the bundle verifies, else the IDS-1 code it is rejected with "
        "(E_HASH_MISMATCH, E_BEACON, …) (验证结果)",
        examples=["result"],
    )
    rejection: RejectionOut | None = Field(
        description="Why the verifier rejected the bundle; null when it verifies (拒绝原因)"
    )
    difference: DifferenceOut | None = Field(
        description="Where the published result differs from the computed one; null when ok (差异)"
    )
    checks: list[CheckOut] = Field(description="The steps of §11, in order (验证步骤)")

    @classmethod
    def of(cls, verification: Verification) -> VerificationOut:
        verdict = verification.verdict
        computed = verdict.computed
        error = computed.get("error")
        rejection = (
            RejectionOut(code=error, message=str(computed.get("message", "")))
            if isinstance(error, str)
            else None
        )
        difference = None
        if verdict.field is not None:
            shown = verdict.to_json()
            difference = DifferenceOut(
                part=verdict.field.split(".")[0].split("[")[0], field=verdict.field,
                published=shown["published"], computed=shown["computed"],
            )  # fmt: skip
        return cls(
            ok=verdict.match, draw_id=verification.draw_code, outcome=verdict.outcome,
            rejection=rejection, difference=difference,
            checks=[CheckOut(step=c.step, check=c.name, passed=c.passed) for c in verdict.checks],
        )  # fmt: skip


class VerificationIn(BaseModel):
    """A citizen's copies of a draw's bundle and result (e.g. downloaded, or received)."""

    model_config = ConfigDict(extra="forbid")

    bundle: dict[str, Any] = Field(
        description="The bundle, exactly DRAW_SPEC §10.1 (数据包)",
        examples=[{"commitment": {"spec": "IDS-1", "draw_id": "330106202603150001-01"},
                   "beacon_value": "ab" * 32, "manifest": [], "exclusions": [],
                   "inspectors": [], "conflicts": []}],
    )  # fmt: skip
    result: dict[str, Any] = Field(
        description="The published result (§10.2), or a rejection object {error} (§10.3) (抽取结果)"
    )
