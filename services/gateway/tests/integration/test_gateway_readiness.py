"""The gateway is ready only when every service is; its answer names each one."""

SERVICES = {"registry", "planning", "sampling", "inspection", "disclosure"}


async def test_gateway_is_not_ready_while_services_are_down(service_client):
    # The `stack` fixture runs PostgreSQL and NATS but no service processes.
    gateway = await service_client("gateway")
    answer = await gateway.get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert set(checks) >= SERVICES
    assert not any(checks[s]["ready"] for s in SERVICES)
    assert all("unreachable" in checks[s]["detail"] for s in SERVICES)


async def test_a_request_for_a_service_that_is_down_is_a_503_problem(service_client, mint_token):
    gateway = await service_client("gateway")
    token = mint_token(roles=["provincial_admin"])
    answer = await gateway.get(
        "/api/v1/registry/anything", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 503
    assert answer.json()["type"] == "/problems/service-unavailable"
