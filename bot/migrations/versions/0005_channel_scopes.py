"""Channel scopes: the folders and front-matter tags each channel's answers, previews and digest draw from.

Revision ID: 0005_channel_scopes
Revises: 0002_slack_oauth_stores
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_channel_scopes"
down_revision = "0004_thread_memory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_scopes",
        sa.Column("team_id", sa.String(32), primary_key=True, default=""),
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("folders", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("set_by", sa.String(32)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_scopes")
