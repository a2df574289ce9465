"""A volunteer's own hours, as /hours (Telegram) and 时长 (WeChat) show them: confirmed wish hours and tasks,
activity hours verified by check-in, this month's hours and rank. A read, no effects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from actions.env import Env
from rules import wishes as lifecycle
from storage import wishes as store


@dataclass(frozen=True, slots=True)
class Hours:
    """The figures of one volunteer."""

    reported: float  # self-reported wish hours, confirmed by the residents
    tasks: int
    verified: float  # activity hours from check-in and check-out
    activities: int
    month: float
    rank: int | None  # this month's place, None without confirmed hours this month


async def of_volunteer(env: Env, volunteer_id: int) -> Hours:
    """The volunteer's hours now (the month in the bot's time zone)."""
    since, until = lifecycle.month_bounds(env.now(), env.settings.tz)
    async with env.db.read() as conn:
        reported, tasks = await store.volunteer_hours(conn, volunteer_id)
        verified, held = await store.activity_hours(conn, volunteer_id)
        month = sum(
            [
                (await store.volunteer_hours(conn, volunteer_id, since=since, until=until))[0],
                (await store.activity_hours(conn, volunteer_id, since=since, until=until))[0],
            ]
        )
        rank = await store.hours_rank(conn, volunteer_id, since=since, until=until)
    return Hours(reported, tasks, verified, held, month, rank)


def describe(t: Callable[..., str], hours: Hours) -> str:
    """The figures in the reader's words (`t`: the channel's catalogue lookup)."""

    def shown(value: float) -> str:
        return f"{value:g}"

    text = t("hours.mine", hours=shown(hours.reported + hours.verified), tasks=hours.tasks)
    if hours.activities:
        text += "\n" + t(
            "hours.verified_split",
            verified=shown(hours.verified),
            activities=hours.activities,
            reported=shown(hours.reported),
        )
    text += "\n" + (
        t("hours.month_rank", hours=shown(hours.month), rank=hours.rank)
        if hours.rank is not None
        else t("hours.month_none")
    )
    return text
