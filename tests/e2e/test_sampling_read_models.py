"""End to end: the platform's sampling worker loads its subjects read model from the registry's
export at start-up and follows the registry's events; the gateway shows how far behind it is."""

from __future__ import annotations

import time

import httpx
import pytest


@pytest.fixture(scope="module")
def gateway(platform):
    with httpx.Client(base_url=platform.gateway, timeout=10) as client:
        yield client


def test_the_sampling_worker_loads_the_subjects_and_keeps_up_with_the_registry(gateway, platform):
    admin = {"Authorization": "Bearer " + platform.token(roles=["provincial_admin"])}
    deadline = time.monotonic() + 120
    while True:
        answer = gateway.get("/api/v1/sampling/read-models", headers=admin)
        assert answer.status_code == 200, answer.text
        [subjects] = answer.json()["items"]
        if subjects["loaded"] and subjects["within_bound"] and subjects["pending"] == 0:
            break
        assert time.monotonic() < deadline, f"not loaded and current: {subjects}"
        time.sleep(0.5)
    assert subjects["model"] == "subjects"
    assert subjects["loaded_rows"] is not None
    assert subjects["lag_seconds"] < subjects["max_lag_seconds"]
