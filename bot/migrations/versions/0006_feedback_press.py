"""Ratings keyed by their button press: a press whose answer is run again (after its process stopped) counts once.

Revision ID: 0006_feedback_press
Revises: 0005_channel_scopes
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_feedback_press"
down_revision = "0005_channel_scopes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feedback", sa.Column("press_id", sa.String(64)))
    op.create_index("feedback_press", "feedback", ["press_id"], unique=True)


def downgrade() -> None:
    op.drop_index("feedback_press", table_name="feedback")
    op.drop_column("feedback", "press_id")
