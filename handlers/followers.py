"""Similar open wishes for residents: before a /wish is submitted, an open wish like it nearby is shown
with "Join that one" or "Submit anyway"; who joins follows that wish and is told when it is claimed,
done, confirmed, cancelled or expired (by the actions that move it: `actions.followers`), and finds it
in their /mywishes.

The wish form offers the similar wish and joins it (`conversations/wish.py`); /mywishes shows
`joined_section`.
"""

from __future__ import annotations

from actions import followers as follower_actions
from channels import wish_cards
from channels.telegram.context import TongxinContext
from rules.wishes import wish_ref
from storage.wishes import Wish

# Which progress of a followed wish its followers hear about (one table, the action's).
PROGRESS_KEYS = follower_actions.PROGRESS_KEYS


def joined_section(context: TongxinContext, joined: list[Wish]) -> str | None:
    """For /mywishes: the wishes the person joined, each with its status in words (HTML); None if none."""
    if not joined:
        return None
    lines = [context.t("similar.mine_title", count=len(joined))]
    lines += [
        context.t(
            "similar.mine_line",
            ref=wish_ref(wish.ref_no),
            summary=wish_cards.short_description(wish),
            # "Done, waiting for your confirmation" is the resident's to give, not the follower's.
            status=context.t("similar.status_done")
            if wish.status == "done"
            else wish_cards.status_words(context.t, wish.status),
        )
        for wish in joined
    ]
    return "\n".join(lines)
