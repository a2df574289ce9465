"""Who hears of something by role: the recipients actions queue notices for.

Coordinators are the people holding the role plus the admins of `ADMIN_IDS` who have written to the bot
(Telegram refuses a chat the person never opened). `ADMIN_IDS` are Telegram ids: they are mapped to person
ids through `identities`, and every id returned here is a person id. Notices to them are written under the
condition that the recipient still holds the role when the notice's turn comes (`actions.notices.holds_role`).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncConnection

from rules.roles import Role
from storage import people, users


async def coordinator_ids(conn: AsyncConnection, admin_ids: Collection[int]) -> list[int]:
    """Coordinators, and admins the bot has met, by person id (`admin_ids`: the Telegram ids of ADMIN_IDS)."""
    ids = set(await users.ids_with_role(conn, Role.COORDINATOR))
    ids.update(await people.admin_person_ids(conn, admin_ids))
    return sorted(ids)
