"""Stories of the scheduler: notices reach people through the outbox, once, in their language and at the
right time; quiet hours hold the non-urgent; a person who blocked the bot stops getting bulk; digests fire
once at their local time; /digest turns one's own digest off and on."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from actions.digests import Occurrence, register
from actions.messages import Notice
from bot.app import TongxinApp
from core.clock import ManualClock
from rules import tips as tip_rules
from rules import wishes
from rules.roles import Role
from rules.tips import TipAction
from rules.wishes import Actor
from scheduler import digests, setup, sweep
from simulator import BotApiSimulator, Person
from storage import digests as digest_storage
from storage import outbox, people, users
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import approved_volunteers, open_wish, person_id

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


async def meet(person: Person) -> None:
    """The person says hello first, so the bot knows them (and their language)."""
    await person.send_command("/start")
    await person.next_message()


async def grant(bot: TongxinApp, person: Person, role: Role) -> None:
    async with bot.bot_data.db.write() as conn:
        await users.grant_role(
            conn, await person_id(conn, person), role.value, granted_by=None, now=bot.bot_data.clock.now()
        )


async def rows_of(bot: TongxinApp, person: Person) -> list[dict[str, object]]:
    async with bot.bot_data.db.read() as conn:
        return await outbox.messages_for(conn, await person_id(conn, person))


async def test_a_notice_reaches_the_person_in_their_language_once(bot: TongxinApp, sim: BotApiSimulator) -> None:
    bob = sim.person("Bob", language_code="en")
    await meet(bob)
    notice = Notice("digest.now_off")
    await bot.bot_data.notifier.notify(
        await person_id(bot.bot_data.db, bob), notice, lane="normal", dedupe_key="story:1"
    )
    await bot.bot_data.notifier.notify(
        await person_id(bot.bot_data.db, bob), notice, lane="normal", dedupe_key="story:1"
    )
    message = await bob.next_message()
    assert message.text.startswith("Your digest is off")
    await sim.settle()
    assert len(bob.messages) == 2
    [row] = await rows_of(bot, bob)
    assert row["status"] == "sent"
    assert row["sent_at"] == bot.bot_data.clock.now()


async def test_quiet_hours_hold_normal_and_bulk_but_not_urgent(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    alice = sim.person("王阿姨")
    await meet(alice)
    clock.set(shanghai(26, 23, 0))
    notifier = bot.bot_data.notifier
    await notifier.notify(
        await person_id(bot.bot_data.db, alice), Notice("digest.now_on"), lane="bulk", dedupe_key="q:bulk"
    )
    await notifier.notify(
        await person_id(bot.bot_data.db, alice), Notice("digest.now_off"), lane="normal", dedupe_key="q:normal"
    )
    await notifier.notify(
        await person_id(bot.bot_data.db, alice), Notice("command.digest"), lane="urgent", dedupe_key="q:urgent"
    )
    assert (await alice.next_message()).text == "关闭或开启摘要"
    await sweep.run_once(bot)
    await sim.settle()
    assert len(alice.messages) == 2

    clock.set(shanghai(27, 7, 59))
    await sweep.run_once(bot)
    await sim.settle()
    assert len(alice.messages) == 2

    clock.set(shanghai(27, 8, 0))
    await sweep.run_once(bot)
    first, second = await alice.next_message(), await alice.next_message()
    assert "摘要已关闭" in first.text  # normal before bulk
    assert "摘要已重新开启" in second.text


async def test_a_person_who_blocked_the_bot_is_marked_and_gets_no_more_bulk(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    carol = sim.person("Carol", language_code="en")
    await meet(carol)
    sim.block(carol.user_id)
    notifier = bot.bot_data.notifier
    await notifier.notify(
        await person_id(bot.bot_data.db, carol), Notice("digest.now_on"), lane="bulk", dedupe_key="b:1"
    )
    await sim.wait_until(lambda: any(r.error_code == 403 for r in sim.records), what="the 403")
    await sim.settle()
    async with bot.bot_data.db.read() as conn:
        assert (await users.get_user(conn, await person_id(conn, carol))).unreachable
    await notifier.notify(
        await person_id(bot.bot_data.db, carol), Notice("digest.now_on"), lane="bulk", dedupe_key="b:2"
    )
    await sim.settle()
    statuses = [(row["dedupe_key"], row["status"]) for row in await rows_of(bot, carol)]
    assert statuses == [("b:1", "failed"), ("b:2", "dropped")]
    assert sum(1 for r in sim.records if r.error_code == 403) == 1


async def test_a_refused_message_is_recorded_and_not_retried(bot: TongxinApp, sim: BotApiSimulator) -> None:
    stranger_chat = 4_242_424  # a Telegram account that never opened the chat: Telegram answers "chat not found"
    async with bot.bot_data.db.write() as conn:
        stranger = await people.person_for_identity(
            conn, people.TELEGRAM, stranger_chat, first_name="陌生人", language="zh-CN", now=bot.bot_data.clock.now()
        )
    stranger_id = stranger.id
    await bot.bot_data.notifier.notify(stranger_id, Notice("digest.now_on"), lane="urgent", dedupe_key="r:1")
    await sim.wait_until(lambda: any(r.chat_id == stranger_chat for r in sim.records), what="the attempt")
    await sweep.run_once(bot)
    await sim.settle()
    async with bot.bot_data.db.read() as conn:
        [row] = await outbox.messages_for(conn, stranger_id)
    assert row["status"] == "failed"
    assert str(row["last_error"]).startswith("400")
    refused = [r for r in sim.records if r.chat_id == stranger_chat]
    assert len(refused) == 1
    # The one refusal this story provokes on purpose is not a bug of the bot.
    sim.records.remove(refused[0])


async def test_the_sweep_job_runs_every_minute_under_a_fixed_name(bot: TongxinApp) -> None:
    assert bot.job_queue is not None
    [job] = bot.job_queue.get_jobs_by_name(sweep.JOB_NAME)
    assert job.job.trigger.interval == dt.timedelta(minutes=1)
    assert job.job.misfire_grace_time is None
    assert job.job.coalesce is True
    assert setup.sender_of(bot) is not None


async def weekly_hello(conn: AsyncConnection, reader_id: int, period: Occurrence) -> Notice | None:
    """Test content: everyone but Telegram user 1_000_999 has something to hear about."""
    if await people.telegram_id_of(conn, reader_id) == 1_000_999:
        return None
    return Notice(
        "digest.volunteer",
        {"date": period.local_date.isoformat(), "open": 2, "tasks": "W-0001, W-0002", "hours": 3},
    )


# A digest of its own (on the volunteers' weekly occurrence), so it does not replace what volunteers read.
register("hello", weekly_hello)
WEEKLY = digests.Digest("hello", Role.VOLUNTEER, digests.DIGESTS[2].occurrence, admins_read=False)


async def test_the_weekly_digest_fires_once_on_monday_morning(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    vera, wang = sim.person("Vera", language_code="en"), sim.person("王师傅")
    quiet = sim.person("Quiet", user_id=1_000_999)
    for person in (vera, wang, quiet):
        await meet(person)
        await grant(bot, person, Role.VOLUNTEER)
    services = bot.bot_data

    # Thursday 10:00: last Monday's digest is days old, nothing is due.
    assert await digests.queue_due(services, clock.now(), [WEEKLY]) == 0
    clock.set(shanghai(30, 8, 59))
    assert await digests.queue_due(services, clock.now(), [WEEKLY]) == 0
    clock.set(shanghai(30, 9, 0))
    assert await digests.queue_due(services, clock.now(), [WEEKLY]) == 2
    # Every later sweep that morning, or after a restart, finds it already written.
    clock.advance(dt.timedelta(minutes=1))
    assert await digests.queue_due(services, clock.now(), [WEEKLY]) == 0
    async with services.db.read() as conn:
        # Written when everyone had their row (09:00), not again by a sweep that found nobody new.
        assert await digest_storage.decided(conn, ["volunteer:2026-11-30"]) == {
            "volunteer:2026-11-30": shanghai(30, 9, 0)
        }
    # Those sweeps read only who became a reader since; a volunteer approved at 10:00 still gets this Monday's.
    late = sim.person("晚到的志愿者")
    await meet(late)
    clock.set(shanghai(30, 10, 0))
    await grant(bot, late, Role.VOLUNTEER)
    clock.advance(dt.timedelta(minutes=1))
    assert await digests.queue_due(services, clock.now(), [WEEKLY]) == 1
    assert await digests.queue_due(services, clock.now(), [WEEKLY]) == 0
    await sweep.run_once(bot)
    assert "本周摘要" in (await late.wait_for_text("本周摘要")).text

    assert "Your week (2026-11-30)" in (await vera.next_message()).text
    assert "本周摘要" in (await wang.next_message()).text
    await sim.settle()
    assert len(quiet.messages) == 1  # only the welcome: nothing to say, nothing sent
    async with services.db.read() as conn:
        keys = await outbox.used_keys(conn, "digest:volunteer:2026-11-30:")
    assert f"digest:volunteer:2026-11-30:{await person_id(services.db, vera)}" in keys

    clock.set(shanghai(30 + 7 - 30, 9, 0).replace(month=12))  # the next Monday, 7 December
    assert await digests.queue_due(services, clock.now(), [WEEKLY]) == 3


async def test_digest_command_turns_ones_own_digest_off_and_on(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    vera = sim.person("Vera", language_code="en")
    await meet(vera)
    await vera.send_command("/digest")
    assert "not allowed" in (await vera.next_message()).text
    await grant(bot, vera, Role.VOLUNTEER)
    await vera.send_command("/digest")
    assert (await vera.wait_for_text("Your digest is off")).text
    clock.set(shanghai(30, 9, 0))
    assert await digests.queue_due(bot.bot_data, clock.now(), [WEEKLY]) == 0
    await vera.send_command("/digest")
    assert (await vera.wait_for_text("Your digest is on again")).text
    assert await digests.queue_due(bot.bot_data, clock.now(), [WEEKLY]) == 1


async def test_coordinators_get_the_daily_digest_at_half_past_eight_once(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    admin = sim.person("管理员", user_id=ADMIN_ID)
    resident = sim.person("王阿姨")
    for person in (admin, resident):
        await meet(person)
    async with bot.bot_data.db.write() as conn:
        await wishes.submit_wish(
            conn,
            wishes.WishDraft("free_clinic", "请帮我量血压，谢谢志愿者", area="城关镇"),
            resident_id=await person_id(conn, resident),
            now=clock.now(),
            review=True,
            daily_limit=5,
        )
    clock.set(shanghai(27, 8, 29))
    await sweep.run_once(bot)
    # The wish has waited for review longer than PENDING_REVIEW_ALERT_HOURS: a reminder (held overnight).
    await admin.wait_for(lambda: having(admin, "已等待审核"), what="the review reminder")
    await sim.settle()
    assert len(admin.messages) == 2

    clock.set(shanghai(27, 8, 30))
    await sweep.run_once(bot)
    await admin.wait_for(lambda: having(admin, "每日摘要"), what="the daily digest")
    [digest] = having(admin, "每日摘要")
    assert "新增：1" in digest
    assert "待审核：1" in digest
    assert "城关镇 1" in digest
    clock.advance(dt.timedelta(minutes=5))
    await sweep.run_once(bot)
    await sim.settle()
    assert len(admin.messages) == 3
    # The editors' digest at 9:00 has nothing to say (no tips): nothing is sent.
    clock.set(shanghai(27, 9, 0))
    await sweep.run_once(bot)
    await sim.settle()
    assert len(admin.messages) == 3


@pytest.mark.parametrize("settings_overrides", [{"coordinator_digest_time": dt.time(7, 0)}])
async def test_a_digest_held_by_the_quiet_hours_says_what_is_true_when_it_is_sent(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    admin, resident = sim.person("管理员", user_id=ADMIN_ID), sim.person("王阿姨")
    for person in (admin, resident):
        await meet(person)
    async with db.write() as conn:
        resident_id = await person_id(conn, resident)
        made = [
            await wishes.submit_wish(
                conn,
                wishes.WishDraft("free_clinic", text, area="城关镇"),
                resident_id=resident_id,
                now=clock.now(),
                review=True,
                daily_limit=5,
            )
            for text in ("请帮我量血压，谢谢志愿者", "想请医生来家里看看老伴的腿")
        ]

    # 07:00, still quiet: the digest is queued with the figures of now (two waiting for review) and held.
    clock.set(shanghai(27, 7, 0))
    await sweep.run_once(bot)
    await sim.settle()
    [row] = [r for r in await rows_of(bot, admin) if str(r["dedupe_key"]).startswith("digest:coord:")]
    assert (row["status"], row["lane"]) == ("pending", "bulk")
    assert row["payload"]["values"]["pending"] == 2  # type: ignore[index]
    assert having(admin, "每日摘要") == []

    # 07:30 the admin approves one of them; at 08:00 the digest says what is true then.
    clock.set(shanghai(27, 7, 30))
    async with db.write() as conn:
        admin_actor = Actor(await person_id(conn, admin), frozenset({Role.ADMIN}))
        await wishes.approve_wish(conn, made[0].id, actor=admin_actor, now=clock.now())
    clock.set(shanghai(27, 8, 0))
    await sweep.run_once(bot)
    await admin.wait_for(lambda: having(admin, "每日摘要"), what="the daily digest")
    [digest] = having(admin, "每日摘要")
    assert "新增：2" in digest
    assert "待审核：1" in digest
    clock.advance(dt.timedelta(minutes=5))
    await sweep.run_once(bot)
    await sim.settle()
    assert len(having(admin, "每日摘要")) == 1


async def test_reminders_held_by_the_quiet_hours_are_dropped_when_the_wish_moved_on(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    alice, xiaoli = sim.person("王阿姨"), sim.person("小李")
    await approved_volunteers(db, [xiaoli])
    wish = await open_wish(db, alice)
    volunteer = Actor(await person_id(db, xiaoli), frozenset({Role.VOLUNTEER}))
    async with db.write() as conn:
        await wishes.claim_wish(conn, wish.id, actor=volunteer, now=clock.now(), due_at=shanghai(27, 1, 0))

    # 22:00 "due soon" and 01:00 "overdue" are written at night and wait for the morning.
    for moment in (shanghai(26, 22, 0), shanghai(27, 1, 0)):
        clock.set(moment)
        await sweep.run_once(bot)
    await sim.settle()
    reminders = [r for r in await rows_of(bot, xiaoli) if str(r["dedupe_key"]).startswith("remind:")]
    assert [r["status"] for r in reminders] == ["pending", "pending"]

    # 07:00 小李 reports it done; at 08:00 neither reminder is sent, and the outbox says why.
    clock.set(shanghai(27, 7, 0))
    async with db.write() as conn:
        await wishes.finish_wish(conn, wish.id, actor=volunteer, now=clock.now(), hours=1)
    clock.set(shanghai(27, 8, 0))
    await sweep.run_once(bot)
    for _ in range(100):  # the sender takes each row in turn; a superseded one makes no request to wait for
        reminders = [r for r in await rows_of(bot, xiaoli) if str(r["dedupe_key"]).startswith("remind:")]
        if all(r["status"] != "pending" for r in reminders):
            break
        await asyncio.sleep(0.05)
    await sim.settle()
    assert [(r["status"], r["last_error"]) for r in reminders] == [("superseded", f"wish {wish.id} is done")] * 2
    assert having(xiaoli, "⏰") == []
    assert having(xiaoli, "原定") == []


def having(person: Person, text: str) -> list[str]:
    """The texts of the bot's messages to the person containing `text`."""
    return [m.text for m in person.messages if text in (m.text or "")]


async def test_editors_get_the_days_tips_and_hot_topics_at_nine_and_one_hot_alert(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    editor, reporter = sim.person("赵编辑"), sim.person("记者小王")
    for person in (editor, reporter):
        await meet(person)
    await grant(bot, editor, Role.EDITOR)
    said = ("幸福路小区停水三天了", "东城社区停水，居民排队打水", "停水影响老人做饭，希望尽快恢复")
    async with bot.bot_data.db.write() as conn:
        made = [
            await tip_rules.create_tip(
                conn,
                reporter_id=await person_id(conn, reporter),
                by_reporter=True,
                category="livelihood",
                description=text,
                location=None,
                media=[],
                now=clock.now(),
            )
            for text in said
        ]
        # The week before, people wrote about other things: 停水 is new, so it is rising.
        for text in ("路灯坏了好几天", "菜市场门口垃圾没人清理", "公交站台的顶棚漏雨"):
            await tip_rules.create_tip(
                conn,
                reporter_id=await person_id(conn, reporter),
                by_reporter=True,
                category="livelihood",
                description=text,
                location=None,
                media=[],
                now=clock.now() - dt.timedelta(days=8),
            )
        for tip in made[:2]:
            await tip_rules.transition(
                conn,
                tip.id,
                TipAction.ACCEPT,
                actor_id=await person_id(conn, editor),
                actor_roles=[Role.EDITOR],
                now=clock.now(),
            )
        await tip_rules.transition(
            conn,
            made[1].id,
            TipAction.PUBLISH,
            actor_id=await person_id(conn, editor),
            actor_roles=[Role.EDITOR],
            now=clock.now(),
            link="https://news.example.cn/1",
        )

    clock.set(shanghai(27, 8, 59))
    await sweep.run_once(bot)
    await sim.settle()
    assert having(editor, "编辑部摘要") == []

    clock.set(shanghai(27, 9, 0))
    await sweep.run_once(bot)
    await editor.wait_for(lambda: having(editor, "编辑部摘要") and having(editor, "热点预警"), what="digest and alert")
    [digest] = having(editor, "编辑部摘要")
    assert "新线索：3 · 已采用：2 · 已发布：1" in digest
    # The week's topics, the rising one first with its rise against the four weeks before and an example.
    assert "本周热点：\n🔺 停水 · 3 · ↑2 · 东城社区「停水影响老人做饭，希望尽快恢复」\n" in digest
    [alert] = having(editor, "热点预警")
    assert "停水" in alert
    # Sweeps later that morning (or after a restart) send neither again.
    for minutes in (1, 30, 120):
        clock.set(shanghai(27, 9, 0) + dt.timedelta(minutes=minutes))
        await sweep.run_once(bot)
    await sim.settle()
    assert len(having(editor, "编辑部摘要")) == 1
    assert len(having(editor, "热点预警")) == 1


async def test_volunteers_weekly_digest_lists_open_tasks_matching_them_and_their_hours(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    alice, xiaoli = sim.person("王阿姨"), sim.person("小李")
    await approved_volunteers(db, [xiaoli], skills=("elderly_disabled",), area="东城社区")
    served = await open_wish(db, alice, description="请帮忙把米扛上楼")
    await open_wish(db, alice, description="陪老人去医院复查")
    await open_wish(db, alice, description="帮忙修一下老人家的水龙头")
    await open_wish(db, alice, description="义诊需要帮忙排队", category="free_clinic")
    volunteer, resident = (
        Actor(await person_id(db, xiaoli), frozenset({Role.VOLUNTEER})),
        Actor(await person_id(db, alice)),
    )
    async with db.write() as conn:
        await wishes.claim_wish(conn, served.id, actor=volunteer, now=clock.now(), due_at=clock.now())
        await wishes.finish_wish(conn, served.id, actor=volunteer, now=clock.now(), hours=2.5)
        await wishes.confirm_wish(conn, served.id, actor=resident, now=clock.now())

    clock.set(shanghai(30, 8, 59))
    await sweep.run_once(bot)
    await sim.settle()
    assert having(xiaoli, "本周摘要") == []
    clock.set(shanghai(30, 9, 0))
    await sweep.run_once(bot)
    await xiaoli.wait_for(lambda: having(xiaoli, "本周摘要"), what="the weekly digest")
    [digest] = having(xiaoli, "本周摘要")
    assert "与您匹配的待认领任务：2" in digest
    assert "W-0002, W-0003" in digest
    assert "W-0004" not in digest  # a free clinic is not among 小李's skills
    assert "您目前的服务时长：2.5" in digest
    clock.advance(dt.timedelta(hours=1))
    await sweep.run_once(bot)
    await sim.settle()
    assert len(having(xiaoli, "本周摘要")) == 1
