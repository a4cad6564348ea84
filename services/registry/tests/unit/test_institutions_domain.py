"""Rules of the directory of professional institutions and experts: keys, kinds, jurisdiction,
planning a write, and who may be entrusted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

import pytest

from shuangsui.contracts.batches import ChangeKind
from shuangsui.registry.domain.inspectors import InvalidField
from shuangsui.registry.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionRecord,
    InstitutionStatus,
    clean_expert_code,
    jurisdiction_refusal,
    may_be_entrusted,
    natural_key,
    plan_upsert,
    record_problems,
)

USCC = "91330100MA27XK5B3M"
LAB = InstitutionRecord(
    name="某检验检测有限公司", kind=InstitutionKind.testing, region_code="330100", uscc=USCC,
    qualifications=("CMA",), valid_until=date(2027, 12, 31),
)  # fmt: skip
EXPERT = InstitutionRecord(
    name="李明", kind=InstitutionKind.expert, region_code="330106", expert_code="ZJ-EXP-0042"
)


def fixed_id() -> UUID:
    return UUID(int=7)


def test_an_institution_is_keyed_by_its_uscc():
    assert str(natural_key(LAB)) == f"uscc:{USCC}"
    assert natural_key(LAB).field == "uscc"


def test_an_expert_is_keyed_by_province_and_code_so_a_move_within_the_province_keeps_the_key():
    moved = replace(EXPERT, region_code="330200")
    assert natural_key(moved) == natural_key(EXPERT)
    assert str(natural_key(EXPERT)) == "expert:33:ZJ-EXP-0042"


def test_the_same_expert_code_in_another_province_is_another_expert():
    assert natural_key(replace(EXPERT, region_code="320106")) != natural_key(EXPERT)


def test_an_expert_code_is_compared_in_upper_case():
    assert clean_expert_code("  zj-exp-0042 ") == "ZJ-EXP-0042"


@pytest.mark.parametrize("bad", ["", "   ", "-ZJ", "ZJ 0042", "专家1", "X" * 41])
def test_a_malformed_expert_code_is_refused(bad):
    with pytest.raises(InvalidField):
        clean_expert_code(bad)


def test_an_institution_without_uscc_breaks_the_rule_naming_uscc():
    assert [f for f, _ in record_problems(replace(LAB, uscc=None))] == ["uscc"]


def test_an_institution_carries_no_expert_code():
    assert [f for f, _ in record_problems(replace(LAB, expert_code="X1"))] == ["expert_code"]


def test_an_expert_needs_a_code_and_has_no_uscc():
    broken = replace(EXPERT, expert_code=None, uscc=USCC)
    assert sorted(f for f, _ in record_problems(broken)) == ["expert_code", "uscc"]


def test_valid_records_break_no_rule():
    assert record_problems(LAB) == []
    assert record_problems(EXPERT) == []


def test_a_new_key_creates_an_entry():
    change = plan_upsert(LAB, None, fixed_id)
    assert (change.kind, change.institution) == (ChangeKind.created, Institution(fixed_id(), LAB))


def test_sending_the_stored_state_again_changes_nothing():
    stored = Institution(fixed_id(), LAB, version=3)
    change = plan_upsert(LAB, stored)
    assert (change.kind, change.applies, change.institution) == (
        ChangeKind.unchanged, False, stored,
    )  # fmt: skip


def test_a_different_state_replaces_the_entry_under_a_new_version():
    stored = Institution(fixed_id(), LAB, version=3)
    suspended = replace(LAB, status=InstitutionStatus.suspended)
    change = plan_upsert(suspended, stored)
    assert change.kind is ChangeKind.updated
    assert change.institution == Institution(fixed_id(), suspended, version=4)


def test_a_writer_may_not_place_an_entry_outside_its_region():
    assert jurisdiction_refusal(LAB, None, "32") == (
        "region_code", "outside the jurisdiction of your organisation",
    )  # fmt: skip


def test_a_writer_may_not_take_over_an_entry_another_jurisdiction_registered():
    ningbo = Institution(fixed_id(), replace(EXPERT, region_code="330206"))
    assert jurisdiction_refusal(EXPERT, ningbo, "3301") == (
        "expert_code", "registered by another jurisdiction",
    )  # fmt: skip


def test_a_province_writer_may_move_an_expert_between_its_cities():
    ningbo = Institution(fixed_id(), replace(EXPERT, region_code="330206"))
    assert jurisdiction_refusal(EXPERT, ningbo, "33") is None


def test_only_an_active_entry_with_a_valid_qualification_may_be_entrusted():
    lab = Institution(fixed_id(), LAB)
    assert may_be_entrusted(lab, date(2027, 12, 31))
    assert not may_be_entrusted(lab, date(2028, 1, 1))
    revoked = Institution(fixed_id(), replace(LAB, status=InstitutionStatus.revoked))
    assert not may_be_entrusted(revoked, date(2026, 1, 1))
