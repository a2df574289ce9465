"""Menus per role on the service account: WeChat user tags and conditional menus (个性化菜单).

A volunteer sees 任务 · 志愿 (我的任务, 活动, 时长, 证明) · 更多 (许心愿, 我的心愿, 发送位置, 使用帮助); a reporter
报料 · 许心愿 · 更多 (我的心愿, 发送位置, 拍照/相册, 隐私, 使用帮助); someone who is both, the volunteer's menu with
报料 under 更多 in place of 我的心愿. WeChat's limits (自定义菜单): 3 top buttons of at most 16 bytes, 5 sub-buttons
each of at most 60 bytes. Everyone else sees the default menu (`conversation.menu`).

WeChat matches a follower against the conditional menus newest first, and a follower with several tags by the tag
put on them last (个性化菜单接口); so each person carries at most one of our tags (`MENU_TAGS`), the one of their
roles, and a change of role takes the old tag off before the new one goes on.

`RoleMenus.setup` runs at start and is idempotent: the tags are found by name or created, and a role's conditional
menu is left alone when WeChat already shows it as it should be, replaced otherwise (a new wording after an update).
`RoleMenus.sync` puts a person's tag right; the channel calls it after handling what the person sent, and the sender
before a notice goes to them (an approval on Telegram reaches a WeChat volunteer with the menu already theirs). The
tag a person was given is kept (`storage.wechat.menu_tag_of`), so an unchanged role costs no API call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from channels.wechat import render
from channels.wechat.api import WeChatApi, WeChatError
from core.i18n import Catalogues
from rules.roles import Role
from storage import wechat
from storage.db import Database

log = logging.getLogger(__name__)

# Click keys of the role menus' buttons (the default menu's are in `channels.wechat.conversation`).
CLICK_TASKS = "TASKS"
CLICK_MY_TASKS = "MYTASKS"
CLICK_HOURS = "HOURS"
CLICK_LEAD = "LEAD"
CLICK_ACTIVITIES = "ACTIVITIES"
CLICK_CERTIFICATE = "CERTIFICATE"
# One tag per role menu; WeChat's names (at most 30 bytes), prefixed so a tag the account's staff made by hand is
# never taken for ours.
VOLUNTEER, REPORTER, BOTH = "volunteer", "reporter", "both"
MENU_TAGS = {VOLUNTEER: "同心·志愿者", REPORTER: "同心·报料人", BOTH: "同心·志愿者·报料人"}
TAG_TAKEN = 45157
RETRY_SETUP = dt.timedelta(minutes=10)
MENU_MISSING = 46003


def menu_kind(roles: Iterable[str]) -> str | None:
    """Which role menu a person with these stored roles sees (None: the default menu)."""
    held = set(roles)
    volunteer, reporter = Role.VOLUNTEER.value in held, Role.REPORTER.value in held
    if volunteer and reporter:
        return BOTH
    return VOLUNTEER if volunteer else REPORTER if reporter else None


def role_menu(catalogues: Catalogues, language: str, kind: str) -> dict[str, Any]:
    """The conditional menu of a role (`VOLUNTEER`, `REPORTER`, `BOTH`), without its match rule. Words still reach
    what a role menu leaves out (隐私, 我的心愿: `conversation`)."""

    def button(key: str, name: str, kind: str = "click") -> dict[str, Any]:
        return {"type": kind, "name": render.text(catalogues, language, name), "key": key}

    wish = button("WISH", "wechat.menu.wish")
    mine = button("MYWISHES", "wechat.menu.mine")
    help_ = button("HELP", "wechat.menu.help")
    lead = button(CLICK_LEAD, "wechat.menu.lead")
    location = button("LOCATION", "wechat.menu.location", "location_select")
    more = render.text(catalogues, language, "wechat.menu.more")
    if kind == REPORTER:
        photo = button("PHOTO", "wechat.menu.photo", "pic_photo_or_album")
        privacy = button("PRIVACY", "wechat.menu.privacy")
        return {"button": [lead, wish, {"name": more, "sub_button": [mine, location, photo, privacy, help_]}]}
    service = [
        button(CLICK_MY_TASKS, "wechat.menu.my_tasks"),
        button(CLICK_ACTIVITIES, "wechat.menu.activities"),
        button(CLICK_HOURS, "wechat.menu.hours"),
        button(CLICK_CERTIFICATE, "wechat.menu.certificate"),
    ]
    tail = [lead, wish, location, help_] if kind == BOTH else [wish, mine, location, help_]
    return {
        "button": [
            button(CLICK_TASKS, "wechat.menu.tasks"),
            {"name": render.text(catalogues, language, "wechat.menu.service"), "sub_button": service},
            {"name": more, "sub_button": tail},
        ]
    }


def _shape(buttons: Any) -> list[tuple[Any, ...]]:
    """Buttons as comparable tuples (WeChat's menu/get adds empty `sub_button` lists and other fields)."""
    shaped: list[tuple[Any, ...]] = []
    for button in buttons or []:
        subs = button.get("sub_button")
        subs = _shape(subs.get("list") if isinstance(subs, dict) else subs)
        shaped.append((button.get("type"), button.get("name"), button.get("key"), button.get("url"), tuple(subs)))
    return shaped


class RoleMenus:
    """The account's role tags and conditional menus."""

    def __init__(
        self, api: WeChatApi, catalogues: Catalogues, language: str, *, now: Callable[[], dt.datetime]
    ) -> None:
        self._api = api
        self._catalogues = catalogues
        self._language = language
        self._now = now
        self._tried: dt.datetime | None = None  # the last setup that failed
        self._setting_up = asyncio.Lock()
        self.tag_ids: dict[str, int] = {}

    async def setup(self) -> None:
        """Find or create the tags, and make each role's conditional menu what it should be (idempotent)."""
        async with self._setting_up:
            await self._attempt()

    async def _attempt(self) -> None:
        try:
            await self._setup()
        except WeChatError:
            self.tag_ids = {}
            self._tried = self._now()
            raise
        self._tried = None

    async def _ready(self) -> bool:
        """Whether the tags are known; a setup that failed (WeChat down at start) is tried again every
        `RETRY_SETUP`, by one follower's callback while the others wait for its result."""
        if self.tag_ids:
            return True
        async with self._setting_up:
            if self.tag_ids:
                return True
            if self._tried is not None and self._now() - self._tried < RETRY_SETUP:
                return False
            try:
                await self._attempt()
            except WeChatError as exc:
                log.warning("the WeChat role menus could not be set up: %s", exc)
                return False
        return True

    async def _setup(self) -> None:
        tags = await self._api.tags()
        for kind, name in MENU_TAGS.items():
            if name not in tags:
                try:
                    tags[name] = await self._api.create_tag(name)
                except WeChatError as exc:
                    if exc.errcode != TAG_TAKEN:
                        raise
                    tags = await self._api.tags()  # another instance created it in between
            self.tag_ids[kind] = tags[name]
        try:
            current = await self._api.menus()
        except WeChatError as exc:
            if exc.errcode != MENU_MISSING:
                raise
            current = {}
        existing = current.get("conditionalmenu") or []
        for kind, tag_id in self.tag_ids.items():
            wanted = role_menu(self._catalogues, self._language, kind)
            mine = [m for m in existing if str((m.get("matchrule") or {}).get("tag_id", "")) == str(tag_id)]
            if len(mine) == 1 and _shape(mine[0].get("button")) == _shape(wanted["button"]):
                continue
            for old in mine:
                await self._api.delete_conditional_menu(str(old["menuid"]))
            await self._api.add_conditional_menu(wanted, tag_id)

    async def sync(self, db: Database, openid: str, roles: Iterable[str]) -> None:
        """Give the follower the tag of their roles' menu (and take any other of ours off); a failure is logged and
        tried again the next time."""
        if not await self._ready():
            return  # WeChat refused the setup: everyone sees the default menu until it works
        kind = menu_kind(roles)
        wanted = self.tag_ids[kind] if kind is not None else None
        async with db.read() as conn:
            had = await wechat.menu_tag_of(conn, openid)
        if had == wanted:
            return
        try:
            if had is not None:
                await self._api.untag_users(had, [openid])
            if wanted is not None:
                await self._api.tag_users(wanted, [openid])
        except WeChatError as exc:
            log.warning("a WeChat follower's menu tag could not be set: %s", exc)
            return
        async with db.write() as conn:
            await wechat.set_menu_tag(conn, openid, wanted)
