"""Schema version 4: the store's identity, a random id drawn once when the store is created (or
upgraded to this version), so that state kept outside the database (an online learner's folder)
can tell which event log it belongs to.

Revision ID: 0004
Revises: 0003
"""

import time
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    identity = op.create_table("store_identity", sa.Column("store_id", sa.Text, primary_key=True))
    op.bulk_insert(identity, [{"store_id": uuid.uuid4().hex}])
    version = sa.table("schema_version", sa.column("version"), sa.column("created_at"))
    op.bulk_insert(version, [{"version": 4, "created_at": time.time()}])
