"""Shared steps of the WeChat stories: 王阿姨 on the service account with an open wish that 小周 (Telegram) claims
and reports done."""

from __future__ import annotations

from collections.abc import Callable

from actions import tasks
from actions.env import Env
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import Actor, WishDraft
from simulator import Person
from simulator.wechat import Received, WeChatPerson
from storage import people
from storage.wishes import Wish
from tests.conftest import START_TIME
from tests.stories.wishflow import approved_volunteers, open_from_list, person_id, wait_for_button


async def claimed_wechat_wish(
    env: Env, wang: WeChatPerson, xiaozhou: Person, description: str, *, then: Callable[[], object] | None = None
) -> tuple[Wish, Actor]:
    """王阿姨 has written to the account and has an open wish (`description`); 小周, an approved volunteer on
    Telegram, has claimed it for today (`then` runs after she wrote, before her wish: e.g. two silent days). Returns
    the wish and 小周 as an actor."""
    await approved_volunteers(env.db, [xiaozhou])
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")
    if then is not None:
        then()
    async with env.db.write() as conn:
        resident = await people.find_person(conn, "wechat", wang.openid)
        assert resident is not None
        wish = await lifecycle.submit_wish(
            conn,
            WishDraft(category="elderly_disabled", description=description),
            resident_id=resident.id,
            now=START_TIME,
            review=False,
            daily_limit=10,
        )
    volunteer = Actor(await person_id(env.db, xiaozhou), frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    await tasks.claim(env, volunteer, wish.id, "today")
    return wish, volunteer


async def start_wechat_wish(wang: WeChatPerson, category: str, description: str | None = None) -> None:
    """王阿姨 opens 许心愿 from the menu and picks `category`; with a `description`, she types it and the form has
    asked for the area."""
    await wang.click("WISH")
    await wang.tap(category)
    await wang.wait_for_text("请用文字描述")
    if description is not None:
        await wang.send_text(description)
        await wang.wait_for_text("哪个镇")


async def skip_to_summary(wang: WeChatPerson) -> Received:
    """From the place step: 跳过 the place, the photo and the phone; the summary she is asked to check."""
    for asked in ("具体在哪里", "照片", "留个电话"):
        await wang.wait_for_text(asked)
        await wang.send_text("跳过")
    return await wang.wait_for_text("请核对")


async def report_done_with_photo(xiaozhou: Person, photo: bytes) -> None:
    """小周 reports W-0001 done on Telegram: 2 hours, `photo` as the proof, no note."""
    await xiaozhou.send_command("/mytasks")
    await open_from_list(xiaozhou, "📋 W-0001")
    await wait_for_button(xiaozhou, "✅ 完成了")
    await xiaozhou.press("✅ 完成了")
    await xiaozhou.wait_for_text("用了多长时间", timeout=15)
    await xiaozhou.press("2 小时")
    await xiaozhou.wait_for_text("完成后的照片")
    await xiaozhou.send_photo(photo)
    await xiaozhou.wait_for_text("留句话")
    await xiaozhou.press("跳过")
    await xiaozhou.wait_for_text("辛苦了")
