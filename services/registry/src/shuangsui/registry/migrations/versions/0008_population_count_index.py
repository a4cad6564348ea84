"""Population counts read by item, domain and region without touching the table (R15).

The primary key leads with (item_key, region_code, tags), so a count over a city or the province
visited every row of its item, scattered over the whole table, and the planner often preferred a
sequential scan. This index holds what a count reads, in the order it reads it, for index-only
scans (bench/registry_count.py measures the difference).
"""

from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_index(
        "population_counts_by_item",
        "population_counts",
        ["item_key", "domain", "region_code"],
        postgresql_include=["risk_class", "n"],
    )
