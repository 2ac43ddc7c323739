"""The bot's own tables: handled events, digest claims, subscriptions and featured notes, queries, feedback.

Revision ID: 0001_notesbot_tables
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_notesbot_tables"
down_revision = None
branch_labels = None
depends_on = None

# An auto-increment 64-bit key; SQLite only auto-increments a column declared exactly INTEGER.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "handled_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_handled_events_expires_at", "handled_events", ["expires_at"])
    op.create_table(
        "digest_claims",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("local_date", sa.String(10), nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note_path", sa.Text),
        sa.Column("heading", sa.Text),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.UniqueConstraint("team_id", "channel_id", "local_date", name="uq_digest_claim_day"),
    )
    op.create_table(
        "digest_subscriptions",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("time_of_day", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("days", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(32)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "digest_featured",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("note_path", sa.String(1024), primary_key=True),
        sa.Column("cycle", sa.Integer, primary_key=True),
        sa.Column("featured_on", sa.String(10), nullable=False),
    )
    op.create_table(
        "queries",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(32)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("top_score", sa.Float),
        sa.Column("top_note", sa.Text),
        sa.Column("top_heading", sa.Text),
    )
    op.create_table(
        "feedback",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(32)),
        sa.Column("user_id", sa.String(32)),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("note_path", sa.Text),
        sa.Column("heading", sa.Text),
        sa.Column("helpful", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("feedback", "queries", "digest_featured", "digest_subscriptions", "digest_claims"):
        op.drop_table(table)
    op.drop_index("ix_handled_events_expires_at", table_name="handled_events")
    op.drop_table("handled_events")
