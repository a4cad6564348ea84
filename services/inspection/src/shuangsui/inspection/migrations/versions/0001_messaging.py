"""Messaging tables: outbox, inbox, dead letters, idempotency keys."""

from alembic import op

from shuangsui.messaging.tables import create_messaging_tables_v1

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables_v1(op)
