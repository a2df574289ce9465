"""A press that waits behind its chat's earlier replies is still answered while Telegram takes an answer, and what
its handler had to say reaches the person.

Telegram takes `answerCallbackQuery` only for a short while after the press (about ten seconds; the simulator
refuses later answers as "query is too old"). The times here are shortened (the simulator takes answers for 2.5 s,
the bot answers a waiting press after 1 s) so the story runs in seconds; the proportions are those of production
(10 s and 4 s).
"""

from __future__ import annotations

import asyncio

from bot.app import TongxinApp
from channels.telegram.limits import SharedRateLimiter
from core.clock import Timer
from simulator import BotApiSimulator
from storage.db import Database
from tests.stories.wishflow import approved_volunteers, claim_from_tasks, open_wish, wait_for_button

ANSWER_WITHIN = 2.5
ANSWER_AFTER = 1.0


async def test_a_press_behind_a_slow_reply_is_answered_in_time_and_its_alert_arrives_as_a_message(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, timer: Timer
) -> None:
    sim.answer_within = ANSWER_WITHIN
    limiter = bot.bot.rate_limiter
    assert isinstance(limiter, SharedRateLimiter)
    limiter.taps.answer_after = ANSWER_AFTER
    xiaoli, xiaozhou, alice = sim.person("小李"), sim.person("小周"), sim.person("王阿姨")
    await approved_volunteers(story_db, [xiaoli, xiaozhou])
    await open_wish(story_db, alice)
    # 小李 looks at the wish and its claim buttons; 小周 claims it first.
    await xiaoli.send_command("/tasks")
    await xiaoli.wait_for_text("W-0001")
    await xiaoli.press("查看 W-0001")
    await wait_for_button(xiaoli, "今天认领")
    card = next(m for m in reversed(xiaoli.messages) if m.find_inline_button("今天认领") is not None)
    await claim_from_tasks(xiaozhou)
    await xiaozhou.wait_for_text("您认领了 W-0001")

    # 小李's chat is busy: Telegram holds the answer to the bot's reply to her /help for longer than it takes
    # answers to presses. Meanwhile she presses 今天认领 on the card she still has.
    held = sim.hold_answer("sendMessage", xiaoli.chat_id)
    await xiaoli.send_command("/help")
    await asyncio.wait_for(held.taken.wait(), 10)
    button = card.find_inline_button("今天认领")
    assert button is not None
    sim.callback_query(xiaoli, card, str(button["callback_data"]))
    # Answered (the spinner stops) while the reply before it is still in flight, within Telegram's time.
    await xiaoli.wait_for(lambda: not sim.unanswered_callback_queries(), timeout=ANSWER_WITHIN, what="the answer")
    assert xiaoli.callback_answers[-1] == ""
    await timer.sleep(ANSWER_WITHIN)  # the press is too old for another answer now
    held.release()

    # Her press is handled once the reply is through: the wish was taken, and the alert that says so, too late
    # for an answer, comes as a message.
    await xiaoli.wait_for_text("手慢了一步")
    assert not any("手慢了一步" in answer for answer in xiaoli.callback_answers)
    # No answer was sent twice or too late (the bot fixture also checks that Telegram refused nothing).
    assert [r.error_code for r in sim.records if r.method == "answerCallbackQuery" and r.error_code] == []
