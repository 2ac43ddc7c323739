"""Thread memory: what the bot was asked and showed in each thread, for follow-ups read in context.

Revision ID: 0004_thread_memory
Revises: 0002_slack_oauth_stores
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_thread_memory"
down_revision = "0003_pending_answers"
branch_labels = None
depends_on = None

# An auto-increment 64-bit key; SQLite only auto-increments a column declared exactly INTEGER.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "thread_turns",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("thread_ts", sa.String(32), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("in_context", sa.Integer, nullable=False),
        sa.Column("hits", sa.Text, nullable=False),
    )
    op.create_index("ix_thread_turns_expires_at", "thread_turns", ["expires_at"])
    op.create_index("ix_thread_turns_thread", "thread_turns", ["team_id", "channel_id", "thread_ts"])


def downgrade() -> None:
    op.drop_index("ix_thread_turns_thread", table_name="thread_turns")
    op.drop_index("ix_thread_turns_expires_at", table_name="thread_turns")
    op.drop_table("thread_turns")
