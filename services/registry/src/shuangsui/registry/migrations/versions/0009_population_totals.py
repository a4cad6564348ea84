"""Population totals per item, county and risk class, without the tag set.

Most counts name no tag; summing them from the tagged counts meant adding every tag
combination of an item (tens of thousands of rows for a broad item over a province). The worker
folds each delta into both tables in one statement; this fills the new one from the counts
kept so far."""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "population_totals",
        sa.Column("item_key", sa.Integer, nullable=False),
        sa.Column("domain", sa.String(40), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("risk_class", sa.String(1), nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("item_key", "domain", "region_code", "risk_class"),
    )
    op.execute(
        "INSERT INTO population_totals (item_key, domain, region_code, risk_class, n) "
        "SELECT item_key, domain, region_code, risk_class, sum(n) FROM population_counts "
        "GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0"
    )
