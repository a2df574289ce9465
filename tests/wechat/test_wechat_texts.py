"""Texts on WeChat never tell people to type a Telegram command: every catalogue text the WeChat channel can show
(its conversation, the notices a WeChat-only person can be sent) is rendered the way WeChat renders it, in both
languages, and no "/command" may be left in it. 帮助 explains the words that work, 绑定 included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from actions.messages import Notice
from bot.app import TongxinApp
from channels.wechat import render
from core.i18n import Catalogues
from core.settings import LANGUAGES
from simulator.wechat import WeChatSimulator

ROOT = Path(__file__).resolve().parents[2]
COMMAND = re.compile(r"(?<![\w/:.])/[a-z][a-z_]+")
# Families the conversation builds with f-strings.
FAMILIES = ("category.", "wish.status.", "wish.field.")
# Notices a person who is only on WeChat (a resident) can be sent: to the resident of a wish, to someone who
# joined a wish, to everyone (broadcasts), to a person whose role or account changed.
RESIDENT_NOTICES = (
    "wish.notice_approved",
    "wish.notice_rejected",
    "wish.notice_claimed",
    "wish.notice_done",
    "wish.notice_done_note",
    "wish.notice_released",
    "remind.confirm_ask",
    "remind.auto_confirmed",
    "remind.expired",
    "similar.notice_claimed",
    "similar.notice_done",
    "similar.notice_confirmed",
    "similar.notice_cancelled",
    "similar.notice_expired",
    "broadcast.message",
    "staff.you_were_granted",
    "staff.you_were_revoked",
    "privacy.erased_notice",
)
# Notices a volunteer or a roving reporter who is only on WeChat can be sent (issue 26: they work there too).
VOLUNTEER_NOTICES = (
    "whistle.notice",
    "volunteer.notice_approved",
    "volunteer.notice_rejected",
    "digest.volunteer",
    "remind.due_soon",
    "remind.overdue",
    "remind.offer",
    "remind.offer_held",
    "remind.auto_released",
    "remind.auto_confirmed_volunteer",
    "task.no_longer_yours",
    "task.card_done",
    "task.notice_cancelled",
    "task.notice_confirmed",
    "task.notice_rated",
    "lead.ask_consent",
    "reporter.you_are_approved",
    "reporter.you_are_rejected",
    "tip.notice_accepted",
    "tip.notice_declined",
    "tip.notice_more_info",
    "tip.notice_published",
    "activity.invitation",
    "activity.promoted",
    "activity.remind_day",
    "activity.remind_hour",
    "activity.called_off",
    "activity.moved",
    "activity.hours_confirmed",
)


def reachable_keys(catalogues: Catalogues, language: str) -> set[str]:
    """Every key WeChat can show: the quoted keys in the channel's code, their families, the resident notices."""
    defined = catalogues.keys(language)
    folders = (ROOT / "channels" / "wechat", ROOT / "conversations")  # the form WeChat renders is written once
    code = "\n".join(path.read_text() for folder in folders for path in folder.glob("*.py"))
    quoted = set(re.findall(r'"([a-z_]+(?:\.[a-z_0-9]+)+)"', code)) & defined
    families = {key for key in defined if key.startswith(FAMILIES)}
    notices = set(RESIDENT_NOTICES) | set(VOLUNTEER_NOTICES)
    return (quoted | families | notices) - {k for k in defined if k.endswith(render.VARIANT)}


def test_the_resident_notices_listed_are_the_ones_the_code_queues() -> None:
    code = "\n".join(
        path.read_text() for folder in ("actions", "scheduler", "storage") for path in (ROOT / folder).glob("*.py")
    )
    missing = [key for key in (*RESIDENT_NOTICES, *VOLUNTEER_NOTICES) if f'"{key}"' not in code]
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_wechat_can_show_names_a_telegram_command(language: str) -> None:
    catalogues = Catalogues()
    keys = reachable_keys(catalogues, language)
    assert {"wish.submitted_open", "wish.mine.none", "privacy.notice", "wechat.help", "remind.expired"} <= keys
    found = {}
    for key in sorted(keys):
        shown = render.text(catalogues, language, key)
        notice = render.render_notice(catalogues, language, Notice(key, {})).text
        for text in (shown, notice):
            if COMMAND.search(text):
                found[key] = COMMAND.findall(text)
    assert found == {}


def test_the_wechat_wording_is_used_only_where_one_exists() -> None:
    catalogues = Catalogues()
    mine = render.text(catalogues, "zh-CN", "wish.mine.none")
    assert "/wish" not in mine
    assert "许心愿" in mine
    # Telegram keeps its own wording.
    assert "/wish" in catalogues.text("zh-CN", "wish.mine.none")
    # A key without a variant is shown as it is.
    assert render.text(catalogues, "zh-CN", "wish.ask_category") == catalogues.text("zh-CN", "wish.ask_category")


async def test_help_on_wechat_explains_the_words_and_linking(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    wang = wx.person("王阿姨")
    await wang.send_text("帮助")
    shown = await wang.wait_for_text("使用帮助")
    assert "绑定" in shown.text
    assert "隐私" in shown.text
    assert "删除我的数据" in shown.text
    assert not COMMAND.search(shown.text)
    # The same from the 更多 menu.
    count = len(wang.inbox)
    await wang.click("HELP")
    await wang.wait_for_text("使用帮助", after=count)
    # A code that does not exist: told where to get one, without a command to type.
    await wang.send_text("绑定 123456")
    invalid = await wang.wait_for_text("绑定码无效")
    assert not COMMAND.search(invalid.text)


def test_my_data_fits_wechat_messages_and_says_when_it_is_cut() -> None:
    from channels.wechat.conversation import data_messages

    document = {"wishes": [{"id": n, "description": "想请人帮忙" * 40} for n in range(40)]}
    texts, cut = data_messages(document, "以下是我们保存的关于您的全部数据：", 3)
    assert cut
    assert len(texts) == 3
    assert all(len(text.encode()) <= render.TEXT_BYTES for text in texts)
    texts, cut = data_messages({"users": [{"id": 1, "phone": None}]}, "intro", 3)
    assert (texts, cut) == (["intro\n【users】id: 1"], False)


def test_link_is_in_the_telegram_menu_for_staff_and_volunteers_only() -> None:
    from channels.telegram.commands import commands_for
    from rules.roles import Role

    def names(*roles: Role) -> list[str]:
        return [command.name for command in commands_for(roles)]

    assert "link" in names(Role.VOLUNTEER)
    assert "link" in names(Role.COORDINATOR)
    assert "link" in names(Role.EDITOR)
    assert "link" not in names(Role.RESIDENT)
    assert "link" not in names()
