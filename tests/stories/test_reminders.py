"""Stories of the wish reminders: the clock moves (hours, days, a week), the sweep runs, and each reminder
reaches the right person once at the right time; auto-release and auto-confirm change the wish as the
system and say so in its history."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from actions import lapses
from bot.app import TongxinApp
from core.clock import ManualClock
from rules import wishes as lifecycle
from rules.roles import Role
from rules.similar import join_wish
from rules.wishes import SYSTEM, Actor
from scheduler import sweep
from simulator import BotApiSimulator, Person
from storage import outbox, users
from storage import wishes as store
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import (
    approved_volunteers,
    claim_from_tasks,
    given_person,
    open_wish,
    person_id,
    wait_for_button,
)

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """No quiet hours here (test_scheduler shows them), so each reminder arrives at the moment it is due."""
    return {"quiet_hours_start": dt.time(0, 0), "quiet_hours_end": dt.time(0, 0)}


def shanghai(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def having(person: Person, text: str) -> list[str]:
    """The texts of the bot's messages to the person containing `text`."""
    return [m.text for m in person.messages if text in (m.text or "")]


async def sweep_at(bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock, moment: dt.datetime) -> None:
    """Move the clock, sweep twice (as a restart would), and let the sender deliver everything due."""
    clock.set(moment)
    await sweep.run_once(bot)
    await sweep.run_once(bot)
    await delivered(bot, sim)


async def delivered(bot: TongxinApp, sim: BotApiSimulator) -> None:
    """Until the outbox holds nothing pending or on the wire (the sender paces each chat at 1/s)."""
    while True:
        await sim.settle(quiet=0.05)
        async with bot.bot_data.db.read() as conn:
            counts = await outbox.count_by_status(conn)
        if not counts.get("pending") and not counts.get("sending"):
            return
        answered = len(sim.records)
        await sim.wait_until(lambda n=answered: len(sim.records) > n, timeout=10, what=f"the sender ({counts})")


async def meet(person: Person) -> None:
    await person.send_command("/start")
    await person.next_message()


async def test_a_claim_is_reminded_before_and_after_its_time_then_released_and_offered(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    admin, alice = sim.person("李主任", user_id=ADMIN_ID), sim.person("王阿姨")
    xiaoli, wang = sim.person("小李"), sim.person("王师傅")
    await meet(admin)
    await approved_volunteers(db, [xiaoli, wang])
    wish = await open_wish(db, alice)

    # Thursday 10:00: 小李 promises it for today (23:59).
    await claim_from_tasks(xiaoli, when="今天认领")
    await xiaoli.wait_for_text("您认领了")

    await sweep_at(bot, sim, clock, shanghai(26, 20, 58))
    assert having(xiaoli, "⏰ 提醒") == []
    await sweep_at(bot, sim, clock, shanghai(26, 20, 59))
    [soon] = having(xiaoli, "⏰ 提醒")
    assert "W-0001" in soon
    assert "11-26 23:59" in soon

    # One minute past the due time: a reminder with Done and Release (the volunteers' own buttons).
    await sweep_at(bot, sim, clock, shanghai(27, 0, 0))
    [late] = [m for m in xiaoli.messages if "原定" in (m.text or "")]
    assert late.inline_buttons == [["✅ 完成了", "↩️ 放弃"]]
    assert late.reply_markup is not None
    assert [b["callback_data"] for b in late.reply_markup["inline_keyboard"][0]] == [
        f"task:done:{wish.id}",
        f"task:release:{wish.id}",
    ]
    assert having(admin, "已逾期") == []

    # Twelve hours overdue: the coordinators hear of it.
    await sweep_at(bot, sim, clock, shanghai(27, 11, 58))
    assert having(admin, "已逾期") == []
    await sweep_at(bot, sim, clock, shanghai(27, 11, 59))
    [told] = having(admin, "已逾期")
    assert "小李" in told
    assert "11-28 23:59" in told  # when it will be released

    # Overdue by AUTO_RELEASE_HOURS (48): released by the system, offered to 王师傅 at once.
    await sweep_at(bot, sim, clock, shanghai(28, 23, 59))
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == "claimed"
    await sweep_at(bot, sim, clock, shanghai(29, 0, 0))
    async with db.read() as conn:
        released = await store.get_wish(conn, wish.id)
        events = await store.events_of(conn, wish.id)
    assert (released.status, released.claimed_by, released.due_at) == ("open", None, None)
    assert (events[-1].from_status, events[-1].to_status, events[-1].actor_id) == ("claimed", "open", None)
    assert events[-1].note is not None
    assert events[-1].note.startswith("auto-release")
    assert len(having(xiaoli, "已重新开放给其他志愿者")) == 1
    assert len(having(alice, "心愿已重新开放")) == 1
    [offer] = [m for m in wang.messages if "急需帮忙" in (m.text or "")]
    assert offer.inline_buttons == [["今天认领", "明天认领", "本周内认领"]]
    assert having(xiaoli, "急需帮忙") == []  # not offered back to whoever let it lapse
    async with db.read() as conn:
        [row] = [
            r
            for r in await outbox.messages_for(conn, await person_id(conn, wang))
            if r["dedupe_key"].startswith("remind:offer")
        ]
    assert row["lane"] == "urgent"

    # 王师傅 takes it from the offer; the new claim gets reminders of its own.
    await wang.press("今天认领", message=offer)
    await wang.wait_for_text("您认领了")
    await delivered(bot, sim)
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).claimed_by == await person_id(conn, wang)
    await sweep_at(bot, sim, clock, shanghai(29, 20, 59))
    assert len(having(wang, "⏰ 提醒")) == 1
    assert len(having(xiaoli, "⏰ 提醒")) == 1
    # The resident withdraws the wish; a week of sweeps later nobody has heard anything more.
    async with db.write() as conn:
        await lifecycle.cancel_wish(conn, wish.id, actor=Actor(await person_id(conn, alice)), now=clock.now())
    await delivered(bot, sim)
    before = [len(p.messages) for p in (admin, alice, xiaoli, wang)]
    for day in range(1, 8):
        await sweep_at(bot, sim, clock, shanghai(29, 20, 59) + dt.timedelta(days=day))
    assert [len(p.messages) for p in (admin, alice, xiaoli, wang)] == before


async def test_coordinators_hear_of_wishes_waiting_for_review_and_open_too_long(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    admin, alice = sim.person("李主任", user_id=ADMIN_ID), sim.person("王阿姨")
    await meet(admin)
    unclaimed = await open_wish(db, alice)
    async with db.write() as conn:
        pending = await lifecycle.submit_wish(
            conn,
            lifecycle.WishDraft("free_clinic", "想请医生来量量血压", area="城关镇"),
            resident_id=await person_id(conn, alice),
            now=clock.now(),
            review=True,
            daily_limit=10,
        )
    start = clock.now()

    await sweep_at(bot, sim, clock, start + dt.timedelta(hours=11, minutes=59))
    assert having(admin, "等待审核") == []
    await sweep_at(bot, sim, clock, start + dt.timedelta(hours=12))
    [review] = [m for m in admin.messages if "等待审核" in (m.text or "")]
    assert "W-0002" in review.text
    assert "12 小时" in review.text
    assert review.reply_markup is not None
    assert review.reply_markup["inline_keyboard"][0][0]["callback_data"] == "pending:list"

    await sweep_at(bot, sim, clock, start + dt.timedelta(hours=23, minutes=59))
    assert having(admin, "还没有志愿者认领") == []
    await sweep_at(bot, sim, clock, start + dt.timedelta(hours=24))
    [alert] = [m for m in admin.messages if "还没有志愿者认领" in (m.text or "")]
    assert "W-0001" in alert.text
    assert "东城社区" in alert.text
    assert alert.inline_buttons == [["📣 吹哨"]]
    assert alert.reply_markup is not None
    assert alert.reply_markup["inline_keyboard"][0][0]["callback_data"] == f"whistle:{unclaimed.id}"

    # A week on, still open and still pending: nobody is told again.
    await sweep_at(bot, sim, clock, start + dt.timedelta(days=7, hours=1))
    assert len(having(admin, "还没有志愿者认领")) == 1
    assert len(having(admin, "等待审核")) == 1
    assert pending.status == "pending_review"


async def test_a_done_wish_is_asked_about_once_then_confirmed_by_the_system(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    alice, bob, zhao = sim.person("王阿姨"), sim.person("Bob", language_code="en"), sim.person("赵大爷")
    await approved_volunteers(db, [bob])
    async with db.write() as conn:
        await users.set_language(conn, await person_id(conn, bob), "en")
    wish = await open_wish(db, alice)
    async with db.write() as conn:  # 赵大爷 joined the wish instead of writing the same one
        await join_wish(conn, wish.id, user_id=await given_person(conn, zhao), now=clock.now())
    volunteer = Actor(await person_id(db, bob), frozenset({Role.VOLUNTEER}))
    async with db.write() as conn:
        await lifecycle.claim_wish(
            conn, wish.id, actor=volunteer, now=clock.now(), due_at=clock.now() + dt.timedelta(days=1)
        )
        done = await lifecycle.finish_wish(conn, wish.id, actor=volunteer, now=clock.now(), hours=2)
    assert done.done_at is not None

    await sweep_at(bot, sim, clock, done.done_at + dt.timedelta(hours=71, minutes=59))
    assert having(alice, "办好了吗") == []
    await sweep_at(bot, sim, clock, done.done_at + dt.timedelta(hours=72))
    [ask] = [m for m in alice.messages if "办好了吗" in (m.text or "")]
    assert "W-0001" in ask.text
    assert ask.inline_buttons == [["已完成，谢谢！", "还没办好"]]
    assert ask.reply_markup is not None
    assert [b["callback_data"] for b in ask.reply_markup["inline_keyboard"][0]] == [
        f"wish:confirm:{wish.id}",
        f"wish:notyet:{wish.id}",
    ]

    await sweep_at(bot, sim, clock, done.done_at + dt.timedelta(hours=143, minutes=58))
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == "done"
    assert len(having(alice, "办好了吗")) == 1
    await sweep_at(bot, sim, clock, done.done_at + dt.timedelta(hours=144))
    async with db.read() as conn:
        confirmed = await store.get_wish(conn, wish.id)
        events = await store.events_of(conn, wish.id)
        hours, tasks = await store.volunteer_hours(conn, await person_id(conn, bob))
    assert confirmed.status == "confirmed"
    assert confirmed.confirmed_at == done.done_at + dt.timedelta(hours=144)
    assert (events[-1].from_status, events[-1].to_status, events[-1].actor_id) == ("done", "confirmed", None)
    assert (hours, tasks) == (2.0, 1)
    assert len(having(alice, "现已视为完成")) == 1
    assert len(having(zhao, "您加入的心愿 W-0001 已确认办好")) == 1
    [thanks] = having(bob, "now counts as done")
    assert "2 h were added" in thanks

    # The resident's old button now finds the wish confirmed and changes nothing.
    await alice.press("已完成，谢谢！", message=ask)
    await delivered(bot, sim)
    async with db.read() as conn:
        assert len(await store.events_of(conn, wish.id)) == len(events)
    await sweep_at(bot, sim, clock, done.done_at + dt.timedelta(days=14))
    assert len(having(alice, "办好了吗")) == 1
    assert len(having(bob, "now counts as done")) == 1
    assert len(having(zhao, "已确认办好")) == 1


async def test_offers_after_an_auto_release_wait_for_the_morning_in_quiet_hours(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    alice, xiaoli, wang = sim.person("王阿姨"), sim.person("小李"), sim.person("王师傅")
    await approved_volunteers(db, [xiaoli, wang])
    wish = await open_wish(db, alice)
    settings = bot.bot_data.settings.model_copy(
        update={"quiet_hours_start": dt.time(22, 0), "quiet_hours_end": dt.time(8, 0)}
    )
    async with db.write() as conn:
        claimed = await lifecycle.claim_wish(
            conn,
            wish.id,
            actor=Actor(await person_id(conn, xiaoli), frozenset({Role.VOLUNTEER})),
            now=clock.now(),
            due_at=clock.now(),
        )
        released = await lifecycle.release_wish(conn, wish.id, actor=SYSTEM, now=clock.now())
        lanes = {
            hour: [
                (r.recipient_id, r.lane)
                for r in await lapses.release_notices(conn, claimed, released, settings, shanghai(27, hour))
                if r.key.startswith("remind:offer:")
            ]
            for hour in (23, 10)
        }
    assert lanes == {23: [(await person_id(db, wang), "normal")], 10: [(await person_id(db, wang), "urgent")]}


async def test_an_auto_released_wish_is_held_for_the_volunteers_it_was_offered_to(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    alice, xiaoli, wang, zhao = sim.person("王阿姨"), sim.person("小李"), sim.person("王师傅"), sim.person("小赵")
    await approved_volunteers(db, [xiaoli, wang])
    await approved_volunteers(db, [zhao], area="西城社区")  # same skill, another community: not offered
    wish = await open_wish(db, alice)

    # 小赵 looks at the wish while it is open; 小李 takes it first, for today, and lets it lapse.
    await zhao.send_command("/tasks")
    await zhao.wait_for_text("W-0001")
    await zhao.press("查看 W-0001")
    await wait_for_button(zhao, "明天认领")
    [card] = [m for m in zhao.messages if "明天认领" in str(m.inline_buttons)]
    async with db.write() as conn:
        await lifecycle.claim_wish(
            conn,
            wish.id,
            actor=Actor(await person_id(conn, xiaoli), frozenset({Role.VOLUNTEER})),
            now=clock.now(),
            due_at=clock.now(),
        )
    released_at = clock.now() + dt.timedelta(hours=48, minutes=1)
    await sweep_at(bot, sim, clock, released_at)
    async with db.read() as conn:
        held = await store.get_wish(conn, wish.id)
    assert (held.status, held.held_until) == ("open", released_at + dt.timedelta(minutes=60))
    until = (released_at + dt.timedelta(minutes=60)).astimezone(SHANGHAI).strftime("%H:%M")
    [offer] = having(wang, "急需帮忙")
    assert f"{until} 前只留给您" in offer
    assert having(zhao, "急需帮忙") == []

    # During the hold 小赵 does not find it in /tasks, and his old button is refused with the time it ends.
    clock.set(released_at + dt.timedelta(minutes=59))
    await zhao.send_command("/tasks")
    listing = await zhao.wait_for_text("目前没有符合您技能的任务")
    assert "W-0001" not in listing.text
    await zhao.press("明天认领", message=card)
    await sim.settle()
    assert (
        zhao.callback_answers[-1]
        == f"这个任务在 {until} 前留给收到邀请的志愿者认领。到时如果还没有人认领，您可以在 /tasks 里认领。"
    )
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == "open"

    # Nobody offered took it within the hour: now 小赵 sees it and can claim it.
    clock.set(released_at + dt.timedelta(minutes=60))
    await zhao.send_command("/tasks")
    await zhao.wait_for_text("W-0001")
    await zhao.press("明天认领", message=card)
    await zhao.wait_for_text("您认领了 W-0001")
    async with db.read() as conn:
        claimed = await store.get_wish(conn, wish.id)
    assert (claimed.status, claimed.claimed_by, claimed.held_until) == ("claimed", await person_id(db, zhao), None)
    await delivered(bot, sim)
    # 王师傅's offer is now stale: his button says it was taken.
    await wang.press("今天认领")
    await sim.settle()
    assert wang.callback_answers[-1] == "手慢了一步，这个任务刚刚被其他志愿者认领了。"


async def test_an_open_wish_nobody_claims_for_thirty_days_expires_and_the_resident_is_told(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    alice = sim.person("王阿姨")
    await meet(alice)
    wish = await open_wish(db, alice)
    start = clock.now()

    await sweep_at(bot, sim, clock, start + dt.timedelta(days=30) - dt.timedelta(minutes=1))
    assert having(alice, "已关闭") == []
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == "open"

    await sweep_at(bot, sim, clock, start + dt.timedelta(days=30))
    [told] = having(alice, "已关闭")
    assert "W-0001" in told
    assert "30 天" in told
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == "expired"
        last = (await store.events_of(conn, wish.id))[-1]
    assert (last.from_status, last.to_status, last.actor_id) == ("open", "expired", None)

    # Later sweeps change nothing and say nothing more.
    await sweep_at(bot, sim, clock, start + dt.timedelta(days=31))
    assert len(having(alice, "已关闭")) == 1


async def test_a_wish_whistled_lately_is_not_offered_the_whistle_again(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    """The coordinator whistled two hours after it opened; a day on, nobody has claimed it: the alert says the whistle
    called the volunteers and points to a department, instead of "可以吹哨" (a newcomer found that untrue)."""
    db = bot.bot_data.db
    admin, alice, xiaoli = sim.person("李主任", user_id=ADMIN_ID), sim.person("王阿姨"), sim.person("小李")
    await meet(admin)
    await approved_volunteers(db, [xiaoli])
    await open_wish(db, alice)
    start = clock.now()
    clock.set(start + dt.timedelta(hours=2))
    await admin.send_command("/whistle", "W-0001")
    await admin.wait_for_text("已为 W-0001 吹哨")

    await sweep_at(bot, sim, clock, start + dt.timedelta(hours=24))
    [alert] = [m for m in admin.messages if "仍没有人认领" in (m.text or "")]
    assert "吹哨召集了 1 位志愿者" in (alert.text or "")
    assert "/case W-0001" in (alert.text or "")
    assert alert.inline_buttons == []
    assert having(admin, "可以“吹哨”") == []
