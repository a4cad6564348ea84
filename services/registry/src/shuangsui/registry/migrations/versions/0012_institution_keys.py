"""Natural keys of the directory of professional institutions and experts (委托专业机构与专家).

An institution is keyed by its USCC (the unique index of 0003); an expert, who has none, by the
province's own code for them (`expert_code`, 专家编码), unique within the province — see
`domain/institutions.py` for why. Experts stored before had no key, and a retried write could
duplicate them: each gets `LEGACY-` and its id as code, so every stored expert stays reachable
and distinct, and the office can replace the code by registering the expert under the province's
code and revoking the legacy entry. Two checks hold the rule each kind carries its own key.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
# The table is 0003's, a branch of its own: without this, `upgrade heads` may run this first.
depends_on = "0003"


def upgrade() -> None:
    op.add_column("institutions", sa.Column("expert_code", sa.Text))
    op.execute(
        "UPDATE institutions SET expert_code = 'LEGACY-' || upper(replace(institution_id::text, "
        "'-', '')) WHERE kind = 'expert'"
    )
    op.create_check_constraint(
        "institutions_expert_code", "institutions", "(kind = 'expert') = (expert_code IS NOT NULL)"
    )
    op.create_check_constraint(
        "institutions_uscc_required", "institutions", "kind = 'expert' OR uscc IS NOT NULL"
    )
    op.execute(
        "CREATE UNIQUE INDEX institutions_expert_key ON institutions (left(region_code, 2), "
        "expert_code) WHERE expert_code IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("institutions_expert_key", table_name="institutions")
    op.drop_constraint("institutions_uscc_required", "institutions", type_="check")
    op.drop_constraint("institutions_expert_code", "institutions", type_="check")
    op.drop_column("institutions", "expert_code")
