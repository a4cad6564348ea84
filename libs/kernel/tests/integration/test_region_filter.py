"""The region scope compiled into a real PostgreSQL query returns only the caller's rows."""

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select

from shuangsui.kernel.auth import Principal
from shuangsui.kernel.scope import RegionScope

metadata = MetaData()
subjects = Table(
    "subjects",
    metadata,
    Column("name", String, primary_key=True),
    Column("region_code", String(6), nullable=False),
)

DIRECTORY = {
    "西湖茶叶": "330106",  # Hangzhou, Xihu district
    "上城酒店": "330102",  # Hangzhou, Shangcheng district
    "宁波港务": "330206",  # Ningbo
    "深圳电子": "440305",  # Shenzhen, Guangdong
}


@pytest.fixture
async def directory(database):
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(
            insert(subjects), [{"name": n, "region_code": r} for n, r in DIRECTORY.items()]
        )
    return database


async def visible_to(database, region: str, *roles: str) -> set[str]:
    caller = Principal(sub="someone", roles=frozenset(roles or ("inspector",)), region_code=region)
    query = select(subjects.c.name).where(RegionScope.of(caller).filter(subjects.c.region_code))
    async with database.engine.connect() as conn:
        return set((await conn.execute(query)).scalars())


async def test_province_sees_only_its_own_subjects(directory):
    assert await visible_to(directory, "330000") == {"西湖茶叶", "上城酒店", "宁波港务"}


async def test_city_sees_only_its_districts_subjects(directory):
    assert await visible_to(directory, "330100") == {"西湖茶叶", "上城酒店"}


async def test_county_sees_only_its_own_subjects(directory):
    assert await visible_to(directory, "330106") == {"西湖茶叶"}


async def test_national_admin_sees_every_subject(directory):
    assert await visible_to(directory, "110000", "national_admin") == set(DIRECTORY)
