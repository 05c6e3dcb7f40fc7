"""Schema version 3: each event carries its decision's viewer, indexed with the event's time.

A viewer's engagement (for stickiness and dismissals) was read by joining all of the viewer's
decisions to their events; with a logged decision per title on every page, that grew with
everything the viewer was ever shown. ``events.user_id`` (copied from the decision when the
event is stored; rows already stored are filled in here) and ``events_by_user (user_id, time)``
make it a read of the viewer's events in the window. The column stays nullable: SQLite cannot
add a NOT NULL column without a default.

Revision ID: 0003
Revises: 0002
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("user_id", sa.Text, nullable=True))
    op.execute(
        "UPDATE events SET user_id = "
        "(SELECT d.user_id FROM decisions d WHERE d.decision_id = events.decision_id)"
    )
    op.create_index("events_by_user", "events", ["user_id", "time"])
    version = sa.table("schema_version", sa.column("version"), sa.column("created_at"))
    op.bulk_insert(version, [{"version": 3, "created_at": time.time()}])
