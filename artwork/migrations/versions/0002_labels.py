"""Schema version 2: people's tag labels.

Revision ID: 0002
Revises: 0001
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revisions are frozen history, so each keeps its own copy of the storage-order column.
    on_sqlite = op.get_bind().dialect.name == "sqlite"
    rowid = sa.Column("rowid", sa.BigInteger, sa.Identity(), nullable=False, unique=True)
    op.create_table(
        "labels",
        *([] if on_sqlite else [rowid]),
        sa.Column("artwork_id", sa.Text, nullable=False),
        sa.Column("tag", sa.Text, nullable=False),
        sa.Column("label", sa.Integer, sa.CheckConstraint("label IN (0, 1)"), nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
    )
    op.create_index("labels_by_artwork_tag", "labels", ["artwork_id", "tag"])
    version = sa.table("schema_version", sa.column("version"), sa.column("created_at"))
    op.bulk_insert(version, [{"version": 2, "created_at": time.time()}])
