"""Acknowledged questions kept until answered (pending_answers), the processes answering them (answer_workers).

`pending_answers` also takes over from `handled_events`: a row is its delivery's claim (an event's event_id, a
command's or a button's trigger_id), so a re-delivered event is answered once; `handled_events` is dropped (its
rows only lived an hour anyway).

Revision ID: 0003_pending_answers
Revises: 0002_slack_oauth_stores
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_pending_answers"
down_revision = "0002_slack_oauth_stores"
branch_labels = None
depends_on = None

# An auto-increment 64-bit key; SQLite only auto-increments a column declared exactly INTEGER.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pending_answers",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("work", sa.String(128), nullable=False),
        sa.Column("delivery_id", sa.String(128)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(128)),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("work", "delivery_id", name="uq_pending_answers_delivery"),
    )
    op.create_index("ix_pending_answers_status_taken", "pending_answers", ["status", "taken_at"])
    op.create_table(
        "answer_workers",
        sa.Column("worker_id", sa.String(128), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.drop_index("ix_handled_events_expires_at", table_name="handled_events")
    op.drop_table("handled_events")


def downgrade() -> None:
    op.create_table(
        "handled_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_handled_events_expires_at", "handled_events", ["expires_at"])
    op.drop_table("answer_workers")
    op.drop_index("ix_pending_answers_status_taken", table_name="pending_answers")
    op.drop_table("pending_answers")
