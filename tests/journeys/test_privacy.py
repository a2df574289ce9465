"""The resident's privacy journey, one story on every channel: 王秀英, who has an open wish with her address, phone
and location, reads what is kept and how to have it erased (隐私), asks to erase it and keeps it when asked, then
asks again and confirms: afterwards no table holds her name, phone, address, words or location, and her wish still
counts. What each channel adds (Telegram's JSON file and username, WeChat's menu, saved photos and stale menu
items) has its stories in tests/stories/test_privacy.py and tests/wechat/test_wechat_privacy.py."""

from __future__ import annotations

import pytest

from storage import users
from storage import wishes as store
from tests.journeys.people import INDIRECT, JOURNEY, Town, journey_runs
from tests.stories.test_privacy import traces_of
from tests.stories.wishflow import ADDRESS, DESCRIPTION

NAME = "王秀英"
PHONE = "13800001234"
HOME = (31.2304, 121.4737)


@pytest.mark.parametrize(JOURNEY, journey_runs(telegram_on="postgresql"), indirect=INDIRECT)
async def test_a_resident_reads_what_is_kept_keeps_it_once_then_erases_herself(town: Town) -> None:
    db = town.env.db
    wang = town.person(NAME)
    wish = await town.given_wish(wang, phone=PHONE, location=HOME)
    needles = [NAME, PHONE, ADDRESS, DESCRIPTION]
    before = await traces_of(db, needles, HOME)
    assert {hit.split(".")[0] for hit in before} >= {"users", "wishes"}, before

    # 隐私: what is kept, who sees it, for how long, and what to type to have it erased.
    await wang.menu("privacy")
    await wang.sees("隐私说明", "我们保存什么", "谁能看到", "保存多久", wang.WORDS["mydata"], wang.WORDS["deleteme"])

    # Asked first; 不删除 changes nothing.
    await wang.ask("deleteme")
    await wang.sees("确定要删除", "无法恢复", "确认删除", "不删除")
    await wang.choose("不删除")
    await wang.sees("什么都没有删除")
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).description == DESCRIPTION

    # Asked again and confirmed: nothing that identifies her is left anywhere; her wish still counts.
    await wang.ask("deleteme")
    await wang.choose("确认删除")
    await wang.sees("已删除您的个人信息")
    await town.sim.settle()  # the update that asked is handled: what its handling recorded (update_sends) is gone
    assert await traces_of(db, needles, HOME) == []
    async with db.read() as conn:
        her = await users.get_user(conn, await wang.person_id(db))
        kept = await store.wishes_of_resident(conn, her.id)
    assert her.phone is None
    assert [(w.id, w.category) for w in kept] == [(wish.id, "elderly_disabled")]
