"""Steps the wish stories share: a resident writes a wish, an admin mints an invite, a volunteer registers."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncConnection

from rules import applications as application_rules
from rules import wishes as lifecycle
from rules.applications import ApplicationAction
from rules.wishes import WishDraft
from simulator import BotApiSimulator
from simulator.people import Person
from simulator.state import BotMessage
from storage import applications, people
from storage.db import Database
from storage.wishes import Wish
from tests.conftest import START_TIME

DESCRIPTION = "家里老人行动不便，想请人帮忙买菜和打扫卫生"
ADDRESS = "幸福路12号3单元402"


async def person_id(db: Database | AsyncConnection, person: Person) -> int:
    """The person id behind a simulated Telegram user (who has written to the bot), read through `db` or an open
    connection. Telegram ids in the simulator start at 1,000,001 and person ids at 1: never use `person.user_id`
    where the database wants a person (it is their Telegram id and private chat id)."""
    if isinstance(db, AsyncConnection):
        found = await people.person_ids_for(db, people.TELEGRAM, [person.user_id])
    else:
        async with db.read() as conn:
            found = await people.person_ids_for(conn, people.TELEGRAM, [person.user_id])
    assert found, f"{person.first_name} never wrote to the bot"
    return found[0]


async def given_person(conn: AsyncConnection, person: Person, *, language: str = "zh-CN") -> int:
    """Set up a simulated person in the database as if they had written to the bot; returns their person id."""
    user = await people.person_for_identity(
        conn, people.TELEGRAM, person.user_id, first_name=person.first_name, language=language, now=START_TIME
    )
    return user.id


async def write_wish(alice: Person, *, submit: bool = True) -> None:
    """/wish through every step in Chinese: category, description, area, address, photo, phone, submit."""
    await alice.send_command("/wish")
    await alice.wait_for_text("请选择")
    await alice.press("助老助残")
    await alice.wait_for_text("请用文字描述")
    await alice.send_text(DESCRIPTION)
    await alice.wait_for_text("哪个镇")
    await alice.press("东城社区")
    await alice.wait_for_text("具体在哪里")
    await alice.send_text(ADDRESS)
    await alice.wait_for_text("照片")
    await alice.send_photo(b"\x89PNG wish photo")
    await alice.wait_for_text("留个电话")
    await alice.press_reply_button("📞 分享我的手机号")
    await wait_for_button(alice, "✅ 提交")
    if submit:
        await alice.press("✅ 提交")


async def mint_volunteer_invite(admin: Person) -> str:
    """The admin (a coordinator too) mints a team invite; returns its /start payload."""
    await admin.send_command("/invite", "volunteer")
    await wait_for_button(admin, "直接通过")
    await admin.press("直接通过")
    reply = await admin.wait_for_text("start=vinv_")
    match = re.search(r"start=(vinv_\S+)", reply.text)
    assert match is not None
    return match.group(1)


async def register_by_invite(
    volunteer: Person, payload: str, *, skill: str = "助老助残", area: str = "东城社区", share_location: bool = True
) -> None:
    """A volunteer opens the invite link and fills in the profile; approved at once."""
    await volunteer.send_command("/start", payload)
    await volunteer.wait_for_text("请输入您希望显示的姓名")
    await volunteer.press(f"使用“{volunteer.first_name}”")
    await volunteer.wait_for_text("留个电话")
    await volunteer.press_reply_button("跳过")
    await volunteer.wait_for_text("您能提供哪些服务")
    await volunteer.press(skill)
    await volunteer.wait_for(lambda: any(f"✅ {skill}" in str(m.inline_buttons) for m in volunteer.messages))
    await volunteer.press("选好了")
    await volunteer.wait_for_text("哪个镇")
    await volunteer.press(area)
    await volunteer.wait_for_text("分享一下您的位置")
    if share_location:
        await volunteer.press_reply_button("📍 发送我的位置")
    else:
        await volunteer.press_reply_button("跳过")
    await volunteer.wait_for_text("欢迎成为志愿者")


async def wait_for_button(person: Person, label: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Until some message in the person's chat shows an inline button labelled `label`."""
    await person.wait_for(
        lambda: any(label in str(m.inline_buttons) for m in person.messages), timeout=timeout, what=f"button {label}"
    )


def everything_sent_to(sim: BotApiSimulator, person: Person) -> str:
    """Every text, caption and button label the bot ever sent to a person (edits included), as one string."""
    parts: list[str] = []
    for record in sim.records:
        if str(record.chat_id) == str(person.user_id):
            parts.append(str(record.params))
    parts += person.callback_answers
    for message in person.chat.bot_messages:
        parts.append(message.text or "")
        parts.append(str(message.inline_buttons))
    return "\n".join(parts)


async def approved_volunteers(
    db: Database,
    volunteer_people: list[Person],
    *,
    skills: tuple[str, ...] = ("elderly_disabled",),
    area: str = "东城社区",
    location: tuple[float, float] | None = None,
) -> None:
    """Given volunteers who registered and were approved earlier (set up in the database, not replayed)."""
    async with db.write() as conn:
        for person in volunteer_people:
            person_id = await given_person(conn, person)
            await approved_volunteer(conn, person_id, person.first_name, skills=skills, area=area, location=location)


async def approved_volunteer(
    conn: AsyncConnection,
    person_id: int,
    name: str,
    *,
    skills: tuple[str, ...] = ("elderly_disabled",),
    area: str = "东城社区",
    location: tuple[float, float] | None = None,
) -> None:
    """A person (on any channel) who registered as a volunteer and was approved earlier."""
    await application_rules.register_volunteer(
        conn,
        user_id=person_id,
        name=name,
        phone=None,
        skills=skills,
        area=area,
        location=location,
        invite_code=None,
        now=START_TIME,
    )
    application = await applications.find_application(conn, person_id, "volunteer")
    assert application is not None
    await application_rules.transition(conn, application.id, ApplicationAction.APPROVE, actor_id=None, now=START_TIME)


async def open_wish(
    db: Database,
    resident: Person,
    *,
    description: str = DESCRIPTION,
    category: str = "elderly_disabled",
    location: tuple[float, float] | None = None,
    photo_file_id: str | None = None,
) -> Wish:
    """Given an approved, open wish of `resident` (set up in the database), with her photo when given (a file the
    simulator holds: `sim.files.add`)."""
    async with db.write() as conn:
        resident_id = await given_person(conn, resident)
        return await lifecycle.submit_wish(
            conn,
            WishDraft(
                category=category,
                description=description,
                area="东城社区",
                address=ADDRESS,
                location=location,
                phone=resident.phone,
                photo_file_id=photo_file_id,
            ),
            resident_id=resident_id,
            now=START_TIME,
            review=False,
            daily_limit=100,
        )


async def claim_from_tasks(volunteer: Person, ref: str = "W-0001", when: str = "今天认领") -> None:
    """The volunteer opens /tasks, views the wish and presses a claim button."""
    await volunteer.send_command("/tasks")
    await volunteer.wait_for_text(ref)
    await volunteer.press(f"查看 {ref}")
    await wait_for_button(volunteer, when)
    await volunteer.press(when)


async def open_from_list(person: Person, prefix: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """On a list message (/pending, /mywishes, /mytasks), tap the first item whose button starts with `prefix`
    (e.g. "📋 W-0001", "🙋")."""
    found: list[str] = []

    def listed() -> bool:
        for message in reversed(person.messages):
            for row in message.inline_buttons:
                for label in row:
                    if label.startswith(prefix):
                        found.append(label)
                        return True
        return False

    await person.wait_for(listed, timeout=timeout, what=f"a list button starting with {prefix!r}")
    await person.press(found[0])


async def review_tip(person: Person, reference: str) -> BotMessage:
    """An editor sends /review, taps the tip `reference` (e.g. "T-0001") on the list and gets its card (under its
    media): returns the card, with the decisions its status allows."""
    await person.send_command("/review")
    await open_from_list(person, f"📋 {reference}")
    return await person.wait_for_text("类别：")


def button_data(message: BotMessage, label: str) -> str:
    """The callback data of the button `label` on the message as it shows now."""
    return str(
        next(b for row in message.reply_markup["inline_keyboard"] for b in row if b["text"] == label)["callback_data"]
    )


async def press_again_quietly(sim: BotApiSimulator, person: Person, message: BotMessage, data: str) -> None:
    """Press a button whose page `message` already shows once more (a double tap; `data` taken with `button_data`
    before the first press): the press is answered and the message is not redrawn (Telegram would refuse that edit
    as "not modified", which `sim.invalid_requests` would show)."""
    edits = sum(r.method == "editMessageText" for r in sim.records)
    answers = len(person.callback_answers)
    sim.callback_query(person, message, data)
    await person.wait_for(lambda: len(person.callback_answers) > answers, what="the repeated press answered")
    await sim.settle(quiet=0.3)  # the handler answers first: an edit would come after the answer
    assert sum(r.method == "editMessageText" for r in sim.records) == edits
    assert sim.invalid_requests == []
