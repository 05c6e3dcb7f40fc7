"""Alembic's environment for the event store: migrates the connection the store hands it.

``artwork.event_schema.upgrade`` puts an open connection, inside its write transaction, in
``config.attributes["connection"]``; no alembic.ini is needed.
"""

from alembic import context

connection = context.config.attributes["connection"]
# transactional_ddl: the store begins the transaction itself (BEGIN on SQLite too)
context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
with context.begin_transaction():  # joins the caller's transaction
    context.run_migrations()
