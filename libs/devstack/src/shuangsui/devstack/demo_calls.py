"""What the demo's planning and draw steps share when they act through the gateway: the demo's
orgs as the registry has them, a token acting for one, and the two ways a step ends — a refused
call, or something that did not arrive in time — each raised as that step's own error."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from shuangsui.devstack.errors import DevstackError
from shuangsui.devstack.issuer import DevIssuer, authorization, token_claims

T = TypeVar("T")

REGISTRY = "/api/v1/registry"


@dataclass(frozen=True)
class DemoOrg:
    org_id: str
    code: str
    name: str
    region_code: str
    department_type: str
    parent_code: str | None


@dataclass(frozen=True)
class DemoStep:
    """One step of the demo: its error and the words its messages start with."""

    error: type[DevstackError]
    name: str

    def ensure(self, answer: httpx.Response, doing: str) -> None:
        if answer.is_success:
            return
        raise self.error(f"{self.name}: {doing} was refused ({answer.status_code}): {answer.text}")

    def wait(self, check: Callable[[], T | None], timeout: float, message: str) -> T:
        deadline = time.monotonic() + timeout
        while True:
            found = check()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise self.error(message)
            time.sleep(0.5)

    def org(self, client: httpx.Client, headers: dict[str, str], code: str) -> DemoOrg:
        answer = client.get(f"{REGISTRY}/orgs/{code}", headers=headers)
        self.ensure(answer, f"reading the demo org {code} from the registry")
        org = answer.json()
        return DemoOrg(
            org_id=org["org_id"], code=org["code"], name=org["name"],
            region_code=org["region_code"], department_type=org["department_type"],
            parent_code=org["parent_code"],
        )  # fmt: skip


def acting_for(issuer: DevIssuer, role: str, org: DemoOrg, sub: str) -> dict[str, str]:
    """A token of `role` acting for `org`: planning and sampling key departments by the org's
    id, inspectors name their bureau by its code."""
    claims = token_claims(
        roles=[role], region=org.region_code, sub=f"{sub}-{org.code}", org=org.org_id,
        org_code=org.code, department_type=org.department_type,
    )  # fmt: skip
    return authorization(issuer.mint(claims))
