"""Story leads from confirmed wishes: one case across the centres.

Effects:
  offer (inside the action that confirms a wish with a proof photo): a `story_leads` row `asked` for the
    wish (once per wish) and a notice to its volunteer asking consent, with Yes / No buttons, true while the
    lead is still offered (a later answer supersedes it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.buttons import Act, Button
from actions.messages import Notice
from rules import tips as tip_rules
from rules.wishes import said, wish_ref
from storage.wishes import Wish


async def offer_story_lead(conn: AsyncConnection, wish: Wish, *, now: dt.datetime) -> bool:
    """Offer the confirmed wish's proof photo as a story lead, asking its volunteer; False if there is
    nothing to offer (no photo, no volunteer) or it was offered before."""
    if not wish.proof_file_id or wish.claimed_by is None:
        return False
    lead = await tip_rules.offer_story_lead(
        conn,
        wish_ref_no=wish.ref_no,
        volunteer_id=wish.claimed_by,
        photo_file_id=wish.proof_file_id,
        summary=said(wish),
        now=now,
    )
    if lead is None:
        return False
    await notices.queue(
        conn,
        wish.claimed_by,
        Notice(
            "lead.ask_consent",
            {"wish": wish_ref(wish.ref_no)},
            buttons=(
                (
                    Button("lead.button_yes", Act.LEAD_YES, wish.ref_no),
                    Button("lead.button_no", Act.LEAD_NO, wish.ref_no),
                ),
            ),
            media=wish.proof_media_id,
        ),
        now=now,
        dedupe_key=f"lead:ask:{wish.ref_no}",
    )
    return True
