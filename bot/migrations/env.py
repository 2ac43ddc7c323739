"""Alembic environment of notesbot: runs on the connection `bot.migrate` hands in (see there).

Run through `notesbot db upgrade` or `bot.migrate.upgrade_database(url)`, never through a bare
`alembic` command: the caller owns the connection, its transaction and the lock that keeps several
replicas starting at once from migrating together.
"""

from __future__ import annotations

from alembic import context

from bot.migrate import VERSION_TABLE, expected_metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `notesbot db upgrade` (bot.migrate), which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=expected_metadata(),
    version_table=VERSION_TABLE,
    # SQLite cannot ALTER most things in place: batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
