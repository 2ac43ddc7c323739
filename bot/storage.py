"""The database at the edge: tables every process of the bot shares, on SQLite or PostgreSQL.

SQLite (a file) is the embedded default for one process; PostgreSQL (`DATABASE_URL`) is what several
replicas share. The same SQLAlchemy Core tables and statements serve both; `dialect_insert` gives the one
statement where they differ (INSERT ... ON CONFLICT). The tables are created and changed by the
migrations of `bot.migrate`, which imports this module (this one imports nothing of the bot).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite

metadata = MetaData()

# Every acknowledged question until it is answered (bot.slack.durable; its SQL in bot.slack.pending): recorded before
# the ack, replayed by any process once its owner stops heartbeating. A row is also its delivery's claim: a second
# delivery (an event re-delivered by Slack, a request re-sent by a proxy; any process) finds it and is not answered.
pending_answers = Table(
    "pending_answers",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("work", String(128), nullable=False),  # the name the deferred work is registered under
    Column("delivery_id", String(128)),  # Slack's id of what it sent: an event's event_id, else the trigger_id
    Column("body", Text, nullable=False),  # the payload Bolt received, as JSON
    Column("status", String(16), nullable=False),  # pending, posting, done, unknown, expired, dropped
    Column("owner", String(128)),  # the process answering it; NULL once released for anyone to take
    Column("taken_at", DateTime(timezone=True), nullable=False),  # recorded, or claimed by its owner
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),  # answering posts attempted
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("work", "delivery_id", name="uq_pending_answers_delivery"),
)
Index("ix_pending_answers_status_taken", pending_answers.c.status, pending_answers.c.taken_at)

# The processes answering questions, each stamping its heartbeat every second or so; one that stops is dead.
answer_workers = Table(
    "answer_workers",
    metadata,
    Column("worker_id", String(128), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)

# One row per (team, channel, local date): the claim that makes a digest post happen once.
digest_claims = Table(
    "digest_claims",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team_id", String(32), nullable=False, default=""),
    Column("channel_id", String(32), nullable=False),
    Column("local_date", String(10), nullable=False),
    Column("claimed_by", String(128), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("note_path", Text),
    Column("heading", Text),
    Column("message_ts", String(32)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False, default="claimed"),
    UniqueConstraint("team_id", "channel_id", "local_date", name="uq_digest_claim_day"),
)

# Channels subscribed from Slack with `/notes digest on HH:MM Zone`.
digest_subscriptions = Table(
    "digest_subscriptions",
    metadata,
    Column("team_id", String(32), primary_key=True, default=""),
    Column("channel_id", String(32), primary_key=True),
    Column("time_of_day", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("days", String(32), nullable=False, default="mon-sun"),
    Column("created_by", String(32)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Notes already featured in a channel during its current cycle through the vault.
digest_featured = Table(
    "digest_featured",
    metadata,
    Column("team_id", String(32), primary_key=True, default=""),
    Column("channel_id", String(32), primary_key=True),
    Column("note_path", String(1024), primary_key=True),
    Column("cycle", Integer, primary_key=True, default=0),
    Column("featured_on", String(10), nullable=False),
)

# What people asked and how good the answer was, for `notesbot report`.
queries = Table(
    "queries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("team_id", String(32)),
    Column("kind", String(16), nullable=False),
    Column("query", Text, nullable=False),
    Column("hits", Integer, nullable=False),
    Column("top_score", Float),
    Column("top_note", Text),
    Column("top_heading", Text),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("given_at", DateTime(timezone=True), nullable=False),
    Column("team_id", String(32)),
    Column("user_id", String(32)),
    Column("query", Text, nullable=False),
    Column("note_path", Text),
    Column("heading", Text),
    Column("helpful", Integer, nullable=False),
    # The button press rated (Slack's trigger_id for it): a press is recorded once, however often its answer is run
    Column("press_id", String(64)),
    Index("feedback_press", "press_id", unique=True),
)

# What the bot was asked and showed in each thread (bot.slack.thread_memory), one row per answer, so that a
# follow-up reaching any process is read in its thread's context. Rows expire (`expires_at`).
thread_turns = Table(
    "thread_turns",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("team_id", String(32), nullable=False, default=""),
    Column("channel_id", String(32), nullable=False),
    Column("thread_ts", String(32), nullable=False),  # "" for a direct conversation's messages outside threads
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("query", Text, nullable=False),
    Column("in_context", Integer, nullable=False),  # 1: read with the thread's earlier questions
    Column("hits", Text, nullable=False),  # JSON list of the hits shown, best first: {"note", "heading"}
    Index("ix_thread_turns_thread", "team_id", "channel_id", "thread_ts"),
)


# The part of the vault a channel draws from (`/notes scope ...`): folders and front-matter tags, as JSON
# lists of strings; a channel without a row draws from the whole vault.
channel_scopes = Table(
    "channel_scopes",
    metadata,
    Column("team_id", String(32), primary_key=True, default=""),
    Column("channel_id", String(32), primary_key=True),
    Column("folders", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("set_by", String(32)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets a busy timeout so that concurrent writers wait, not fail."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def dialect_insert(engine: Engine, table: Table) -> Any:
    """An INSERT into `table` with the ON CONFLICT clauses of the engine's database (PostgreSQL or SQLite)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
