"""The role matrix: every staff command and staff button, for every role, allowed exactly where the spec says.

The expectation is written out here from the spec (DESIGN.md, issue 6), not read from the code's table,
so a change to `rules/staff.py` that widens or narrows access fails this test.
"""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.people import Person
from storage import users
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import person_id

ROLES = ("resident", "volunteer", "reporter", "monitor", "editor", "coordinator", "admin")
STAFF = {"monitor", "editor", "coordinator", "admin"}
SPEC: dict[str, set[str]] = {
    "grant": {"admin"},
    "revoke": {"admin"},
    "audit": {"admin"},
    "staff": STAFF,
    "block": STAFF,
    "unblock": STAFF,
    "stats": STAFF,
    "hot": {"monitor", "editor", "coordinator", "admin"},
    "export": {"coordinator", "admin"},
    "broadcast": {"coordinator", "admin"},
    "whistle": {"coordinator", "admin"},
    # Buttons (callback data is crafted: a refused person must be refused by the server).
    "button:hot:wish:1": {"coordinator", "admin"},
    "button:hot:lead:1": {"editor", "admin"},
    "button:bc:send": {"coordinator", "admin"},
    "button:whistle:1": {"coordinator", "admin"},  # the 📣 button of the scheduler's "unclaimed" notice
}
REFUSAL = "没有权限"


async def person_with(sim: BotApiSimulator, bot: TongxinApp, role: str) -> Person:
    person = sim.person(f"测试{role}", user_id=ADMIN_ID if role == "admin" else None)
    await person.send_command("/start")
    await person.next_message()
    if role not in ("resident", "admin"):
        async with bot.bot_data.db.write() as conn:
            await users.grant_role(
                conn, await person_id(conn, person), role, granted_by=None, now=bot.bot_data.clock.now()
            )
    return person


@pytest.mark.parametrize("role", ROLES)
async def test_every_staff_action_for_one_role(bot: TongxinApp, sim: BotApiSimulator, role: str) -> None:
    person = await person_with(sim, bot, role)
    outcomes: dict[str, bool] = {}
    for action in SPEC:
        if action.startswith("button:"):
            query_id = sim.callback_query(person, person.messages[-1], action.removeprefix("button:"))
            outcomes[action] = REFUSAL not in await answer_to(sim, query_id)
        else:
            seen = len(person.chat.bot_messages)
            await person.send_command(f"/{action}")
            await person.wait_for(lambda seen=seen: len(person.chat.bot_messages) > seen)
            if action == "stats" and "数据统计" in (person.chat.bot_messages[seen].text or ""):
                await person.wait_for(lambda seen=seen: any(m.kind == "photo" for m in person.chat.bot_messages[seen:]))
            await sim.settle()
            replies = [m.text or "" for m in person.chat.bot_messages[seen:]]
            outcomes[action] = not any(REFUSAL in text for text in replies)
            if action == "broadcast" and outcomes[action]:
                await person.send_command("/cancel")
                await person.wait_for_text("已取消")
    expected = {action: role in allowed for action, allowed in SPEC.items()}
    assert outcomes == expected


async def answer_to(sim: BotApiSimulator, query_id: str) -> str:
    """The text the bot answered a button press with (every press must be answered)."""

    def answers() -> list[str]:
        return [
            str(r.params.get("text", ""))
            for r in sim.records
            if r.method == "answerCallbackQuery" and str(r.params.get("callback_query_id")) == query_id
        ]

    await sim.wait_until(lambda: answers(), 10.0, what=f"an answer to button press {query_id}")
    return answers()[0]
