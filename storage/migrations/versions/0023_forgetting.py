"""Nothing of a resident survives erasure (issue 25). WeChat keeps a photo only 3 days, so the bot saves it at once,
before it belongs to any wish: `media.draft_of` names who sent it until a row takes it; /deleteme finds it through
that, and one whose draft was abandoned is forgotten after 7 days by the sweep.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, on SQLite too: a batch copy of `media` would drop a table other rows point at.
    op.add_column("media", sa.Column("draft_of", sa.BigInteger))
    op.create_index("ix_media_draft_of_created", "media", ["draft_of", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_media_draft_of_created", table_name="media")
    op.drop_column("media", "draft_of")
