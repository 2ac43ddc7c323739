"""Database migrations: `notesbot db upgrade`, and the same upgrade run by every server at start.

The schema (the bot's tables of `bot.storage` and the tables of slack_sdk's OAuth stores) is created
and changed only by the Alembic revisions packaged in `bot/migrations/versions`, on SQLite and on
PostgreSQL alike. Several replicas may start at once: on PostgreSQL they take an advisory lock in
turn, so one migrates and the others then find the schema at head and do nothing. (SQLite serves one
process; several replicas need PostgreSQL.)

To change the schema: change the table in `bot/storage.py`, then add a revision to
`bot/migrations/versions/` (next number, `down_revision` = the current head) whose `upgrade()` makes the
same change with `op.add_column`, `op.create_index`... (on SQLite, inside `op.batch_alter_table`).
tests/storage/test_migrations.py fails until the migrated database matches the code exactly.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Connection, Engine, MetaData, text

from bot.config import Settings
from bot.storage import make_engine, metadata

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Our own name for Alembic's bookkeeping table, so that a database shared with another Alembic
# project does not mix up the two histories.
VERSION_TABLE = "notesbot_alembic_version"
# Any constant shared by every replica; "notesbot" as eight bytes, to be recognisable in pg_locks.
_ADVISORY_LOCK_KEY = int.from_bytes(b"notesbot", "big") & 0x7FFF_FFFF_FFFF_FFFF


def expected_metadata() -> MetaData:
    """Every table the migrations must produce: the bot's own and the Slack OAuth stores'."""
    combined = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(combined)
    SQLAlchemyInstallationStore.build_installations_table(combined, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(combined, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(combined, "slack_oauth_states")
    return combined


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "bot/migrations/versions has no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` in one transaction, one replica at a time."""
    # Alembic narrates every connection at INFO; the one line logged below says what matters.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held until this transaction ends; the next replica then sees the schema at head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
        before = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()
        command.upgrade(alembic_config(connection), revision)
        after = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()
    if before != after:
        log.info("database migrated from %s to %s", before or "empty", after)


def create_schema(engine: Engine) -> None:
    """Create or upgrade the tables to head: what every server and command does before it uses the database."""
    upgrade_engine(engine)


def upgrade_database(url: str) -> None:
    """What the server calls at start: the database at `url` (SQLite or PostgreSQL) brought to head."""
    engine = make_engine(url)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()


def add_db_command(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="the database schema: `notesbot db upgrade` migrates DATABASE_URL to head")
    actions = db.add_subparsers(title="actions", required=True)
    upgrade = actions.add_parser("upgrade", help="create or upgrade the tables (safe to run again)")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(run=_run_upgrade)
    current = actions.add_parser("current", help="print the revision the database is at")
    current.set_defaults(run=_run_current)


def _run_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        upgrade_engine(engine, args.revision)
        print(f"database at {current_revision(engine)} ({_shown(engine)})")
    finally:
        engine.dispose()
    return 0


def _run_current(_args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        revision = current_revision(engine)
        print(f"{revision or 'empty (never migrated)'}; head is {head_revision()} ({_shown(engine)})")
    finally:
        engine.dispose()
    return 0


def _shown(engine: Engine) -> str:
    """The database URL without its password, fit for a terminal or a log."""
    return engine.url.render_as_string(hide_password=True)
