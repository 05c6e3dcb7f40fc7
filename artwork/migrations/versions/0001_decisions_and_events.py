"""Schema version 1: schema_version, decisions and events.

Revision ID: 0001
Revises:
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def storage_order() -> list[sa.Column]:
    """A ``rowid`` column in storage order: SQLite has one implicitly, PostgreSQL needs one."""
    if op.get_bind().dialect.name == "sqlite":
        return []
    return [sa.Column("rowid", sa.BigInteger, sa.Identity(), nullable=False, unique=True)]


def upgrade() -> None:
    version = op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "decisions",
        *storage_order(),
        sa.Column("decision_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("title_id", sa.Text, nullable=False),
        sa.Column("candidates", sa.Text, nullable=False),
        sa.Column("artwork_id", sa.Text, nullable=False),
        sa.Column("propensity", sa.Float, nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("policy_version", sa.Text, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("decisions_by_user", "decisions", ["user_id", "created_at"])
    op.create_index("decisions_by_time", "decisions", ["created_at", "decision_id"])
    op.create_table(
        "events",
        *storage_order(),
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("decision_id", sa.Text, sa.ForeignKey("decisions.decision_id"), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
    )
    op.create_index("events_by_decision", "events", ["decision_id"])
    op.bulk_insert(version, [{"version": 1, "created_at": time.time()}])
