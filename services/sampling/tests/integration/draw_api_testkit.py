"""What the draw API's integration tests share: the operations' paths, reading a problem answer,
the subjects read model made current, and walking a draw through a fixed beacon
(DRAW_TEST_MODE) to its completion."""

from shuangsui.devstack.pytest_plugin import environment

DRAWS = "/api/v1/sampling/draws"
BATCHES = "/api/v1/sampling/batches"
FIXED = "ab" * 32
COMMITTED = "sampling.draw.committed.v1"
COMPLETED = "sampling.draw.completed.v1"
TEAM_ASSIGNED = "sampling.team.assigned.v1"


def prepare_path(batch_id):
    return f"{BATCHES}/{batch_id}/draws"


def commit_path(draw_id):
    return f"{DRAWS}/{draw_id}:commit"


def reveal_path(draw_id):
    return f"{DRAWS}/{draw_id}:reveal"


def problem(answer, status, rule=None):
    assert answer.status_code == status, answer.text
    body = answer.json()
    if rule is not None:
        assert body["rule"] == rule, body
    return body


async def completed_fixed(sampling, draw, headers):
    """Commit a prepared draw with the fixed beacon and reveal it: the completed draw."""
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    path = commit_path(draw["draw_id"])
    committed = await sampling.post(path, json=body, headers={**headers, "If-Match": '"1"'})
    assert committed.status_code == 200, committed.text
    revealed = await sampling.post(reveal_path(draw["draw_id"]),
                                   headers={**headers, "If-Match": '"2"'})  # fmt: skip
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["status"] == "completed"
    return revealed.json()


async def sampling_in_test_mode(service_client):
    """Sampling in test mode (DRAW_TEST_MODE): a fixed beacon may be committed (§5.3)."""
    with environment({"DRAW_TEST_MODE": "true"}):
        return await service_client("sampling")


async def events_of(ledger, event_type, draw_code):
    """The payloads of `event_type` sampling's outbox holds for the draw of that public code."""
    return [e["data"] for e in await ledger("sampling").announced(event_type)
            if e["data"]["draw_code"] == draw_code]  # fmt: skip
