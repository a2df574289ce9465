"""Outbox rows carry the condition they were written under; `superseded` needs a wider status; buttons
in queued payloads become typed actions.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _typed_buttons(rows: list[Any]) -> list[Any]:
    """Rows of `[label, callback data]` (before 0008) as `[label, action, subject, arg]`."""
    from channels.telegram.callbacks import decode

    converted = []
    for row in rows:
        new_row = []
        for button in row:
            if len(button) == 2:
                press = decode(button[1])
                if press is None:
                    continue  # a button this version no longer understands: the text still arrives
                button = [button[0], press.act.value, press.subject, press.arg]
            new_row.append(button)
        if new_row:
            converted.append(new_row)
    return converted


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("condition", sa.JSON))
        batch.alter_column("status", type_=sa.String(16), existing_type=sa.String(8), existing_nullable=False)
    connection = op.get_bind()
    outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("payload", sa.JSON), sa.column("status"))
    pending = connection.execute(sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.status == "pending"))
    for row_id, payload in pending.all():
        data = json.loads(payload) if isinstance(payload, str) else dict(payload)
        if data.get("buttons"):
            data["buttons"] = _typed_buttons(data["buttons"])
            connection.execute(sa.update(outbox).where(outbox.c.id == row_id).values(payload=data))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("status", type_=sa.String(8), existing_type=sa.String(16), existing_nullable=False)
        batch.drop_column("condition")
