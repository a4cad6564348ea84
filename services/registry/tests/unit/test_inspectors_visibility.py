"""Who sees which officers and which of their fields (DOMAIN §7): the rule in `Reader`, and how a
verified token becomes one. A subject's personal data follows its own, role-only rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

import pytest

from shuangsui.kernel.auth import Principal, Role
from shuangsui.registry.domain.inspectors import Inspector, InspectorRecord
from shuangsui.registry.domain.inspectors_visibility import Reader
from shuangsui.registry.domain.subjects import PERSONAL_DATA_ROLES, sees_personal_data
from shuangsui.registry.service.inspectors import reader_of

OFFICER_ID = UUID("5b0c6f0e-2f4a-4d8e-9a51-0c3e8b7d2a14")


def officer(**changes: object) -> Inspector:
    record = InspectorRecord(
        name="王芳", unit_code="330106001", region_code="330106", cert_no="33010012345",
        cert_valid_until=date(2027, 6, 30),
    )  # fmt: skip
    return Inspector(OFFICER_ID, replace(record, **changes))  # type: ignore[arg-type]


def token(*roles: Role, region: str = "330000", sub: str = "someone", **claims: str) -> Principal:
    return Principal(sub=sub, roles=frozenset(roles), region_code=region, **claims)  # type: ignore[arg-type]


ENVIRONMENT = officer(department_type="ecology_environment")


def test_a_keeper_sees_every_officer_of_the_region_with_the_personal_fields():
    keeper = Reader("33", keeps_directory=True)
    assert keeper.sees(officer())
    assert keeper.sees(ENVIRONMENT)
    assert keeper.show(ENVIRONMENT).personal


def test_an_officer_of_another_region_is_not_seen():
    hangzhou = Reader("3301", keeps_directory=True)
    assert not hangzhou.sees(officer(region_code="330302"))


def test_a_partner_admin_sees_only_its_department_and_lists_only_it():
    partner = Reader("33", only_department="ecology_environment")
    assert partner.sees(ENVIRONMENT)
    assert partner.show(ENVIRONMENT).personal
    assert not partner.sees(officer())
    assert partner.department_filter("market_supervision") == "ecology_environment"
    assert Reader("33").department_filter("market_supervision") == "market_supervision"


def test_an_officer_sees_their_own_personal_fields_and_no_one_elses():
    assert Reader("33", sub=str(OFFICER_ID)).show(officer()).personal
    other = Reader("33", sub="6c1d7f1f-3f5b-4e9f-8b62-1d4f9c8e3b25")
    assert other.sees(officer())
    assert not other.show(officer()).personal


@pytest.mark.parametrize("role", [Role.station_staff, Role.reviewer, Role.auditor, Role.inspector])
def test_readers_who_keep_nothing_see_the_eligibility_facts_only(role):
    reader = reader_of(token(role))
    assert reader.sees(officer())
    assert not reader.show(officer()).personal


@pytest.mark.parametrize("role", [Role.provincial_admin, Role.department_admin])
def test_admins_keep_the_directory(role):
    assert reader_of(token(role)).show(ENVIRONMENT).personal


def test_a_national_admin_sees_every_province():
    reader = reader_of(token(Role.national_admin, region="100000"))
    assert reader.sees(officer(region_code="440106"))


def test_a_partner_admin_token_reads_its_own_department():
    partner = reader_of(token(Role.partner_admin, department_type="ecology_environment"))
    assert (partner.sees(ENVIRONMENT), partner.sees(officer())) == (True, False)
    # A token naming no department sees none of the partner departments' officers.
    assert not reader_of(token(Role.partner_admin)).sees(ENVIRONMENT)


def test_a_partner_admin_who_is_also_a_provincial_admin_sees_everything():
    both = reader_of(token(Role.partner_admin, Role.provincial_admin, department_type="x"))
    assert both.sees(officer())
    assert both.show(officer()).personal


def test_an_officer_token_sees_its_own_record_in_full():
    mine = reader_of(token(Role.inspector, sub=str(OFFICER_ID)))
    assert mine.show(officer()).personal


def test_subject_personal_data_is_for_the_roles_that_act_on_subjects():
    assert sees_personal_data({"station_staff"})
    assert sees_personal_data({"auditor", "inspector"})
    assert not sees_personal_data({"auditor", "reviewer", "partner_admin"})


def test_the_personal_data_roles_are_roles_tokens_carry():
    assert {Role(r) for r in PERSONAL_DATA_ROLES} <= set(Role)  # Role() refuses a misspelt code
