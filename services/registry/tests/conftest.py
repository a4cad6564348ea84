"""Registry test helpers: valid USCCs on demand, pushed rows, an integrator token."""

from collections.abc import Callable
from typing import Any

import pytest
from stdnum.cn import uscc as stdnum_uscc


def make_uscc(number: int, region: str = "330106") -> str:
    """A valid USCC whose body encodes `number` (the check character is the standard's)."""
    body = f"91{region}{number:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


@pytest.fixture
def uscc() -> Callable[..., str]:
    return make_uscc


@pytest.fixture
def subject_row() -> Callable[..., dict[str, Any]]:
    def row(number: int, **fields: Any) -> dict[str, Any]:
        base = {
            "uscc": make_uscc(number),
            "name": f"杭州测试企业{number}有限公司",
            "subject_type": "enterprise",
            "status": "active",
            "region_code": "330106",
            "legal_representative": "张三",
            "industry_code": "C1419",
            "source": "zj-aic",
            "source_updated_at": "2025-03-01T08:00:00+08:00",
        }
        return {**base, **fields}

    return row


@pytest.fixture
async def registry(service_client):
    """The registry app in process (real PostgreSQL and NATS behind it)."""
    return await service_client("registry")


@pytest.fixture
def admin(mint_token) -> dict[str, str]:
    """Zhejiang's provincial administrator."""
    return {"Authorization": f"Bearer {mint_token(roles=['provincial_admin'], region='330000')}"}


@pytest.fixture
def national(mint_token) -> dict[str, str]:
    """A national administrator (SAMR), who keeps the national item list."""
    return {"Authorization": f"Bearer {mint_token(roles=['national_admin'], region='100000')}"}


@pytest.fixture
def pusher(mint_token) -> dict[str, str]:
    """Zhejiang's registration system, allowed to push subjects."""
    token = mint_token(
        roles=["integrator"], region="330000", scopes=["registry:subjects:push"], sub="zj-aic"
    )
    return {"Authorization": f"Bearer {token}"}
