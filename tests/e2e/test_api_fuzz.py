"""Property-based fuzz of the whole API through the gateway (schemathesis over the merged OpenAPI).

Every operation of `GET /openapi.json` is called with generated requests, valid and invalid, by
callers of two provinces. Whatever is sent, the platform answers without a server error, with a
status, media type and body its document declares, and never with another region's data: a
Guangdong token gets problems (or public data) from the Zhejiang platform, and a Hangzhou token
sees no region outside Hangzhou.

Writes are fuzzed too, so these tests run after every other test of the session (see
`conftest.py`): what they create in the shared demo platform cannot disturb another test.
Bounded for `make test`: `SHUANGSUI_FUZZ_EXAMPLES` (default 10) requests per operation, caller
and kind (documented examples, valid, invalid), from a fixed seed (`SHUANGSUI_FUZZ_SEED`), so a
failure repeats. docs/operations.md tells how to run it alone, longer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import SkipTest

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("SHUANGSUI_FUZZ_EXAMPLES", "10"))
# Operations that must answer some request with a 2xx for a caller of the province.
MIN_SUCCEEDING = 10
SEED = int(os.environ.get("SHUANGSUI_FUZZ_SEED", "20261203"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PUSH_SCOPES = [
    "registry:subjects:push",
    "registry:risk-classes:push",
    "registry:orgs:push",
    "registry:inspectors:import",
    "registry:inspectors:sync",
]

pytestmark = pytest.mark.fuzz

# Bulk pushes document their NDJSON body as a string (one JSON document per line): sent as text.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


@dataclass(frozen=True)
class Caller:
    """A token, and the region prefix every `region_code` it is shown must start with."""

    name: str
    roles: list[str]
    region: str
    prefix: str
    own_province: bool = True
    options: dict[str, Any] = field(default_factory=dict)


CALLERS = [
    Caller("zhejiang-admin", ["provincial_admin"], "330000", "33"),
    Caller("zhejiang-integrator", ["integrator"], "330000", "33",
           options={"scopes": PUSH_SCOPES, "sub": "fuzz-integrator"}),
    Caller("hangzhou-department", ["department_admin"], "330100", "3301"),
    Caller("guangdong-admin", ["provincial_admin"], "440000", "44", own_province=False),
]  # fmt: skip


@pytest.fixture(scope="module")
def merged_document(platform) -> dict[str, Any]:
    answer = httpx.get(f"{platform.gateway}/openapi.json", timeout=30)
    assert answer.status_code == 200
    return dict(answer.json())


@pytest.mark.parametrize("caller", CALLERS, ids=[c.name for c in CALLERS])
def test_every_operation_answers_without_a_server_error_or_another_regions_data(
    platform, merged_document, caller
):
    token = platform.token(roles=caller.roles, region=caller.region, **caller.options)
    config = schemathesis.Config.from_dict({"base-url": platform.gateway})
    api = schemathesis.openapi.from_dict(merged_document, config=config)
    failures: list[str] = []
    answered: dict[str, set[int]] = {}
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for result in api.get_all_operations():
            operation = result.ok()
            statuses = answered.setdefault(operation.label, set())

            def call(case: Case) -> None:
                statuses.add(_call(case, session, caller, platform))  # noqa: B023

            for mode, strategies in _strategies(operation):
                try:
                    _fuzz(strategies, call)
                except (Unsatisfiable, SkipTest):
                    continue  # e.g. no invalid request can be made of an operation without input
                except (Exception, BaseExceptionGroup) as failure:  # schemathesis: a group
                    failures.append(f"{operation.label} ({mode}): {failure}")
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
    succeeded = sorted(label for label, seen in answered.items() if any(s < 300 for s in seen))
    print(f"{caller.name}: {len(succeeded)} of {len(answered)} operations answered 2xx")
    if caller.own_province:
        # The run means something only if requests get past validation and access control.
        assert len(succeeded) >= MIN_SUCCEEDING, f"{caller.name}: only {succeeded} succeeded"


def _strategies(operation: APIOperation) -> Iterator[tuple[str, SearchStrategy[Case]]]:
    """The documented examples, then generated valid requests, then generated invalid ones."""
    examples = operation.get_strategies_from_examples()
    if examples:
        yield "examples", st.one_of(examples)
    yield "positive", operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    yield "negative", operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)


def _fuzz(cases: SearchStrategy[Case], call: Callable[[Case], None]) -> None:
    """`EXAMPLES` requests from `SEED`; the first failure is raised unshrunk (a shrunk example
    is not worth the requests it costs here)."""

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES, database=None, deadline=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck), print_blob=False,
    )  # fmt: skip
    @given(case=cases)
    def run(case: Case) -> None:
        call(case)

    run()


def _call(case: Case, session: requests.Session, caller: Caller, platform: Any) -> int:
    response = case.call(base_url=platform.gateway, session=session, timeout=30)
    case.validate_response(response, checks=CHECKS)
    status = response.status_code
    if not caller.own_province and not _public(case) and 200 <= status < 300:
        raise AssertionError(f"{caller.name} got {status}: {response.text[:300]}")
    if 200 <= status < 300:
        shown = {str(code) for code in _region_codes(_documents(response)) if code is not None}
        outside = sorted(code for code in shown if not code.startswith(caller.prefix))
        if outside:
            raise AssertionError(f"{caller.name} was shown regions {outside}")
    return status


def _documents(response: Any) -> list[Any]:
    """The JSON a body holds: one document, one per line (NDJSON), or none."""
    media_type = response.headers.get("content-type", "")
    if "ndjson" in media_type:
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]
    return [response.json()] if "json" in media_type else []


def _public(case: Case) -> bool:
    """An operation that takes no token, or one optionally (`security: [{}, …]`)."""
    security = case.operation.definition.raw.get("security")
    return not security or {} in security


def _region_codes(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "region_code":
                yield item
            else:
                yield from _region_codes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _region_codes(item)
