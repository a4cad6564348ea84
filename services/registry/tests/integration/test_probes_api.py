"""Sending pipeline probes through the registry API: auth, validation, idempotency, outbox."""

import asyncpg
import pytest


@pytest.fixture
def admin_token(mint_token):
    return mint_token(roles=["provincial_admin"], region="330000")


async def outbox_rows_for(stack, probe_id: str) -> int:
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE envelope->'data'->>'probe_id' = $1", probe_id
        )
    finally:
        await conn.close()


async def test_probe_is_recorded_in_the_outbox_with_its_envelope(registry, admin_token, stack):
    answer = await registry.post(
        "/api/v1/registry/probes",
        json={"note": "smoke"},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert answer.status_code == 202, answer.text
    probe_id = answer.json()["probe_id"]
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        row = await conn.fetchrow(
            "SELECT nats_subject, envelope FROM outbox WHERE envelope->'data'->>'probe_id' = $1",
            probe_id,
        )
    finally:
        await conn.close()
    assert row["nats_subject"] == "evt.p33.registry.probe.sent.v1"
    import json

    envelope = json.loads(row["envelope"])
    assert envelope["type"] == "registry.probe.sent.v1"
    assert envelope["source"] == "/p33/registry"
    assert envelope["subject"] == probe_id
    assert envelope["province"] == "p33"
    assert envelope["actor"] == "dev-provincial_admin-330000"
    assert envelope["traceparent"].startswith("00-")


async def test_request_without_token_is_401_problem(registry):
    answer = await registry.post("/api/v1/registry/probes", json={})
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == "/problems/unauthenticated"
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_expired_token_is_401(registry, mint_token):
    expired = mint_token(roles=["provincial_admin"], exp=1_600_000_000)
    answer = await registry.post(
        "/api/v1/registry/probes", json={}, headers={"Authorization": f"Bearer {expired}"}
    )
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


async def test_token_of_another_issuer_is_401(registry, mint_token):
    foreign = mint_token(roles=["provincial_admin"], iss="https://someone-else.example")
    answer = await registry.post(
        "/api/v1/registry/probes", json={}, headers={"Authorization": f"Bearer {foreign}"}
    )
    assert answer.status_code == 401
    assert "issuer" in answer.json()["detail"]


async def test_token_signed_by_another_key_is_401(registry, tmp_path):
    from shuangsui.devstack.issuer import DevIssuer, token_claims

    impostor = DevIssuer(tmp_path / "impostor")
    forged = impostor.mint(token_claims(roles=["provincial_admin"], region="330000"))
    answer = await registry.post(
        "/api/v1/registry/probes", json={}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert answer.status_code == 401


async def test_token_of_another_province_is_403_and_records_nothing(registry, mint_token, stack):
    guangdong = mint_token(roles=["provincial_admin"], region="440000")
    answer = await registry.post(
        "/api/v1/registry/probes",
        json={"note": "cross-province"},
        headers={"Authorization": f"Bearer {guangdong}"},
    )
    assert answer.status_code == 403
    assert answer.json()["type"] == "/problems/forbidden"
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE envelope->'data'->>'note' = 'cross-province'"
        )
    finally:
        await conn.close()
    assert count == 0


async def test_role_without_permission_is_403(registry, mint_token):
    inspector = mint_token(roles=["inspector"])
    answer = await registry.post(
        "/api/v1/registry/probes", json={}, headers={"Authorization": f"Bearer {inspector}"}
    )
    assert answer.status_code == 403


async def test_invalid_body_names_the_field(registry, admin_token):
    answer = await registry.post(
        "/api/v1/registry/probes",
        json={"note": "x" * 201},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert answer.status_code == 422
    body = answer.json()
    assert body["type"] == "/problems/validation-error"
    assert [e["field"] for e in body["errors"]] == ["note"]


async def test_retry_with_same_idempotency_key_returns_first_answer_and_records_once(
    registry, admin_token, stack
):
    headers = {"Authorization": f"Bearer {admin_token}", "Idempotency-Key": "retry-1"}
    first = await registry.post("/api/v1/registry/probes", json={"note": "once"}, headers=headers)
    second = await registry.post("/api/v1/registry/probes", json={"note": "once"}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert await outbox_rows_for(stack, first.json()["probe_id"]) == 1


async def test_same_idempotency_key_with_another_body_is_422(registry, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}", "Idempotency-Key": "retry-2"}
    await registry.post("/api/v1/registry/probes", json={"note": "a"}, headers=headers)
    other = await registry.post("/api/v1/registry/probes", json={"note": "b"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"


async def test_idempotency_keys_are_per_caller(registry, mint_token):
    key = {"Idempotency-Key": "shared-key"}
    one = mint_token(roles=["provincial_admin"], sub="alice")
    two = mint_token(roles=["provincial_admin"], sub="bob")
    a = await registry.post(
        "/api/v1/registry/probes", json={}, headers={**key, "Authorization": f"Bearer {one}"}
    )
    b = await registry.post(
        "/api/v1/registry/probes", json={}, headers={**key, "Authorization": f"Bearer {two}"}
    )
    assert a.json()["probe_id"] != b.json()["probe_id"]


async def test_concurrent_retries_apply_once(registry, admin_token, stack):
    import asyncio

    headers = {"Authorization": f"Bearer {admin_token}", "Idempotency-Key": "race-1"}
    answers = await asyncio.gather(
        *(
            registry.post("/api/v1/registry/probes", json={"note": "race"}, headers=headers)
            for _ in range(5)
        )
    )
    applied = {a.json()["probe_id"] for a in answers if a.status_code == 202}
    assert len(applied) == 1
    assert all(a.status_code in (202, 409) for a in answers)
    assert await outbox_rows_for(stack, applied.pop()) == 1


async def test_readyz_reports_database_and_broker(registry):
    answer = await registry.get("/readyz")
    assert answer.status_code == 200
    checks = answer.json()["checks"]
    assert checks["database"] == {"ready": True, "detail": "ok"}
    assert checks["broker"] == {"ready": True, "detail": "ok"}
    assert checks["calendar"]["ready"] is True


async def test_metrics_are_prometheus_text(registry):
    await registry.get("/healthz")
    answer = await registry.get("/metrics")
    assert answer.status_code == 200
    assert "http_requests_total" in answer.text
