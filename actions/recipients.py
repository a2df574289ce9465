"""Who hears of something by role: the recipients actions queue notices for.

Coordinators are the people holding the role plus the admins of `ADMIN_IDS` who have written to the bot
(Telegram refuses a chat the person never opened). Notices to them are written under the condition that
the recipient still holds the role when the notice's turn comes (`actions.notices.holds_role`).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncConnection

from rules.roles import Role
from storage import users
from storage.errors import NotFound


async def coordinator_ids(conn: AsyncConnection, admin_ids: Collection[int]) -> list[int]:
    """Coordinators, and admins the bot has met, by id."""
    ids = set(await users.ids_with_role(conn, Role.COORDINATOR))
    for admin_id in admin_ids:
        try:
            await users.get_user(conn, admin_id)
        except NotFound:
            continue
        ids.add(admin_id)
    return sorted(ids)
