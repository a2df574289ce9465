"""The resident's journeys on WeChat, on the same actions as Telegram: the wish (category as a menu, description,
area, location as a location message or a typed address, photo, phone, summary with 提交/修改/取消), 我的心愿 with
confirm and rate, privacy (隐私 / 我的数据 / 删除我的数据, the same as Telegram's /privacy, /mydata, /deleteme;
erasing asks for a confirmation first; blocked people may still use them), 帮助, and /link (绑定).

Everything a person sends becomes an `Input`: a press (a tapped msgmenu item's `bizmsgmenuid`, a typed number
of the last menu, a custom-menu click), text, a location or a photo. The conversation (step, draft, the last
menu's choices) lives in the database (`storage.wechat`), so a restart loses no step. Each input gives a few
`Reply`s, which the channel sends as customer-service messages.

The wish form is the one written once (`conversations/wish.py`); this module only turns WeChat's inputs into the
layer's and its outcomes into replies (`channels/wechat/steps.py`). A photo is downloaded (WeChat keeps it three
days) only where the step asks for one.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from actions import links
from actions import privacy as privacy_actions
from actions import wishes as wish_actions
from actions.buttons import Act, Button, Press
from actions.env import Env
from channels import wish_cards
from channels.wechat import activities, render, steps, subscriptions, volunteering
from channels.wechat import pages as wechat_pages
from channels.wechat.render import Choice, Reply
from channels.wechat.roles import CLICK_LEAD, RoleMenus
from channels.wechat.uploads import PhotoBytes, Uploads
from conversations import base as talk
from conversations import pages
from conversations.activities import CHECKIN_SCENE, CheckIn
from conversations.not_yet import NotYet
from conversations.pages import Page
from conversations.registration import Registration
from conversations.task_done import TaskDone
from conversations.task_release import TaskRelease
from conversations.tip import TipAnswer, TipConversation
from conversations.wish import WishConversation
from core.i18n import Catalogues
from rules.roles import Role, effective_roles
from rules.text import is_help, is_leave
from rules.wishes import Actor, InvalidInput, WishStatus
from storage import media, people, privacy, wechat
from storage.errors import Conflict, NotAllowed, NotFound
from storage.users import User
from storage.wishes import Wish

log = logging.getLogger(__name__)
TASK_DONE = TaskDone()
TASK_RELEASE = TaskRelease()
NOT_YET = NotYet()
CHECK_IN = CheckIn()

WECHAT = "wechat"
LINK_PATTERN = re.compile(r"^\s*(?:/link|绑定|link)\s*(\d{6})\s*$", re.IGNORECASE)
WISH_WORDS = frozenset({"/wish", "许心愿", "许愿", "提交心愿", "心愿", "make a wish", "wish"})
MINE_WORDS = frozenset({"/mywishes", "我的心愿", "my wishes"})
REGISTER_WORDS = frozenset({"/volunteer", "志愿者登记", "登记志愿者", "我想当志愿者", "报名志愿者", "volunteer"})
HELP_WORDS = frozenset({"/help", "帮助", "使用帮助", "help", "?", "？"})
# Privacy words (Telegram's /privacy, /mydata, /deleteme): these work for blocked people too.
PRIVACY_WORDS = {
    "privacy": frozenset({"/privacy", "隐私", "隐私说明", "privacy"}),
    "mydata": frozenset({"/mydata", "我的数据", "my data"}),
    "deleteme": frozenset({"/deleteme", "删除我的数据", "删除数据", "delete my data"}),
}
PRIVACY_PRESSES = {
    Act.PRIVACY_DATA: "mydata",
    Act.PRIVACY_ERASE: "deleteme",
    Act.ERASE_YES: "erase",
    Act.ERASE_NO: "keep",
}
MYDATA_MESSAGES = 3  # of a customer-service window's 5 messages per callback, what /mydata may use
# Custom-menu click keys (set at start by `menu`).
CLICK_WISH = "WISH"
CLICK_MINE = "MYWISHES"
CLICK_HELP = "HELP"
CLICK_PRIVACY = "PRIVACY"
CLICK_SUBSCRIBE = "SUBSCRIBE"  # not a menu item: the follow event
# Messages that carry something other than words, a photo or a place (a voice WeChat did not recognise as text).
OTHER_MESSAGES = frozenset({"voice", "video", "shortvideo", "file", "link", "music"})

Download = Callable[[str], Awaitable[bytes]]
# The wishes whose card (我的心愿) is followed by the volunteer's proof photo: reported done, and confirmed.
PROOF_SHOWN = frozenset({WishStatus.DONE, WishStatus.CONFIRMED})


@dataclass(frozen=True)
class Input:
    """What a person sent, whatever WeChat called it."""

    press: Press | None = None
    text: str | None = None
    location: tuple[float, float] | None = None
    label: str | None = None
    image: str | None = None  # WeChat media_id
    kind: str = ""  # the message's MsgType (a voice, a video, a file… where a step needs a photo or words)
    click: str | None = None
    scene: str | None = None  # a parametric QR code's scene (its scan, or a follow by scanning it)


# The event pushes that are the person acting on the account: a menu button, following it, scanning its code. Every
# other event is WeChat reporting something (a location the client reports, a template's delivery receipt, an
# unsubscribe, a menu link opened) or a menu picker whose location or photo follows as a message of its own: they
# get no reply (WeChat would refuse it, or the form would ask twice), change nothing and open no window.
ACTING_EVENTS = frozenset({"click", "scancode_push", "scancode_waitmsg", "subscribe", "scan"})


def is_silent(data: dict[str, Any]) -> bool:
    """Whether a parsed callback is an event that is not the person acting (`ACTING_EVENTS`)."""
    return str(data.get("MsgType", "")).lower() == "event" and str(data.get("Event", "")).lower() not in ACTING_EVENTS


def quota_opened(data: dict[str, Any]) -> str | None:
    """Which customer-service quota a parsed callback opens (storage/wechat.py): a message the person sent, 5 in 48
    hours (`wechat.MESSAGE`); a menu click, follow, QR scan or a tap on a menu-message item (a text carrying its
    `bizmsgmenuid`), 3 in 1 minute (`wechat.CLICK`); an event that is not the person acting, none."""
    if str(data.get("MsgType", "")).lower() == "event":
        return None if is_silent(data) else wechat.CLICK
    if data.get("bizmsgmenuid"):
        return wechat.CLICK
    return wechat.MESSAGE


def input_of(data: dict[str, Any], choices: dict[str, str]) -> Input:
    """The input behind a parsed callback (`wechatpy` message data), with the last menu's `choices` for numbers."""
    kind = str(data.get("MsgType", "")).lower()
    if kind == "text":
        content = str(data.get("Content") or "").strip()
        menu_id = data.get("bizmsgmenuid")
        if menu_id:
            return Input(press=render.decode(str(menu_id)), text=content)
        if content in choices:
            return Input(press=render.decode(choices[content]), text=content)
        return Input(text=content)
    if kind == "voice":
        # With speech recognition switched on for the account, WeChat sends what was said as text.
        return Input(text=str(data.get("Recognition") or "").strip() or None)
    if kind == "location":
        return Input(
            location=(float(data.get("Location_X", 0)), float(data.get("Location_Y", 0))),
            label=str(data.get("Label") or "") or None,
        )
    if kind == "image":
        return Input(image=str(data.get("MediaId") or ""))
    if kind == "event":
        event = str(data.get("Event", "")).lower()
        if event == "click":
            return Input(click=str(data.get("EventKey") or ""))
        key = str(data.get("EventKey") or "")
        if event == "subscribe":
            # Following by scanning a parametric QR code: EventKey "qrscene_<scene>" (接收事件推送).
            scene = key.removeprefix("qrscene_") if key.startswith("qrscene_") else None
            return Input(click=CLICK_SUBSCRIBE, scene=scene or None)
        if event == "scan":
            return Input(scene=key or None)
    return Input()


def privacy_intent(given: Input) -> str | None:
    """What a privacy input asks for ("privacy", "mydata", "deleteme", "erase", "keep"), or None."""
    if given.press is not None:
        return PRIVACY_PRESSES.get(given.press.act)
    if given.click == CLICK_PRIVACY:
        return "privacy"
    said = (given.text or "").strip().lower()
    return next((intent for intent, words in PRIVACY_WORDS.items() if said in words), None)


def data_messages(document: dict[str, list[dict[str, Any]]], intro: str, limit: int) -> tuple[list[str], bool]:
    """A person's data (`storage.privacy.collect_personal_data`) as at most `limit` texts that fit WeChat's
    message size, and whether something was left out."""
    lines = [intro]
    for table, rows in document.items():
        for row in rows:
            shown = [
                f"{name}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
                for name, value in row.items()
                if value not in (None, "", [], {})
            ]
            lines.append(f"【{table}】" + "；".join(shown))
    messages: list[str] = []
    current = ""
    for line in lines:
        line = render.clip(line)
        joined = f"{current}\n{line}" if current else line
        if len(joined.encode()) <= render.TEXT_BYTES:
            current = joined
            continue
        messages.append(current)
        current = line
    messages.append(current)
    return messages[:limit], len(messages) > limit


def menu(catalogues: Catalogues, language: str) -> dict[str, Any]:
    """The account's custom menu: 许心愿, 我的心愿, and 更多 (send location, photo, help)."""

    def name(key: str) -> str:
        return render.text(catalogues, language, key)

    return {
        "button": [
            {"type": "click", "name": name("wechat.menu.wish"), "key": CLICK_WISH},
            {"type": "click", "name": name("wechat.menu.mine"), "key": CLICK_MINE},
            {
                "name": name("wechat.menu.more"),
                "sub_button": [
                    {"type": "location_select", "name": name("wechat.menu.location"), "key": "LOCATION"},
                    {"type": "pic_photo_or_album", "name": name("wechat.menu.photo"), "key": "PHOTO"},
                    {"type": "click", "name": name("wechat.menu.privacy"), "key": CLICK_PRIVACY},
                    {"type": "click", "name": name("wechat.menu.help"), "key": CLICK_HELP},
                ],
            },
        ]
    }


class Conversation:
    """Handles one account's inputs in order (the channel serialises them per account)."""

    def __init__(
        self,
        env: Env,
        catalogues: Catalogues,
        download: Download,
        media_dir: Path,
        role_menus: RoleMenus | None = None,
        uploads: Uploads | None = None,
        photo_bytes: PhotoBytes | None = None,
    ) -> None:
        self._env = env
        self.uploads = uploads  # images the replies carry (a certificate), uploaded once within their life
        self.photo_bytes = photo_bytes  # a stored photo's bytes (the proof photo, maybe Telegram's copy)
        self._catalogues = catalogues
        self._download = download
        self._media_dir = media_dir
        self._role_menus = role_menus

    # -- entry ------------------------------------------------------------------------------------------------------

    async def person_of(self, openid: str) -> User:
        """The person behind the account (created on first contact)."""
        env = self._env
        async with env.db.read() as conn:
            person = await people.find_person(conn, WECHAT, openid)
        if person is None or person.unreachable:
            async with env.db.write() as conn:
                person = await people.person_for_identity(
                    conn,
                    WECHAT,
                    openid,
                    first_name=person.first_name if person else "微信用户",
                    language=person.language if person else env.settings.default_language,
                    now=env.now(),
                )
        return person

    async def handle(self, openid: str, data: dict[str, Any]) -> list[Reply]:
        """Answer one callback; the replies to send (none to an event that is not the person acting)."""
        if (decision := subscriptions.decision_of(data)) is not None:
            # Her choice in a subscription popup or in her 服务通知 settings: which notices may reach her outside the
            # customer-service quota (`channels.wechat.transport`).
            async with self._env.db.write() as conn:
                await wechat.record_consent(
                    conn, openid, accepted=decision.accepted, withdrawn=decision.withdrawn, now=self._env.now()
                )
        if is_silent(data):
            return []
        person = await self.person_of(openid)
        lang = person.language
        async with self._env.db.read() as conn:
            state = await wechat.conversation_of(conn, openid) or {}
            telegram_id = await people.telegram_id_of(conn, person.id)
        choices = {str(k): str(v) for k, v in (state.get("choices") or {}).items()}
        given = replace(input_of(data, choices), kind=str(data.get("MsgType", "")).lower())
        if person.blocked and privacy_intent(given) is None:
            # Blocked people may still read the privacy notice, get their data and erase it.
            return [Reply(self._t(lang, "blocked.notice"))]
        roles = effective_roles(person.roles, telegram_id, self._env.settings.admin_ids)
        actor = Actor(person.id, roles)
        step = _Step(self, openid, actor, lang, dict(state))
        replies = await step.run(given)
        if step.state is not None:
            shown = {str(n): c.press for r in replies for n, c in enumerate(r.choices, start=1)}
            step.state["choices"] = shown if shown or not step.same_menu else choices
        async with self._env.db.write() as conn:
            await wechat.save_conversation(conn, openid, step.state if step.state else None)
        if self._role_menus is not None:
            # The menu of the person's roles as they are now (an invite scanned here may have changed them).
            async with self._env.db.read() as conn:
                now_stored = await people.find_person(conn, WECHAT, openid)
            await self._role_menus.sync(self._env.db, openid, now_stored.roles if now_stored else ())
        return replies

    def _t(self, language: str, key: str, /, **values: object) -> str:
        return render.text(self._catalogues, language, key, **values)

    async def save_photo(self, media_id: str, owner: int | None) -> int:
        """Download a photo at once (WeChat keeps it 3 days), keep its bytes, and record it as media sent by `owner`
        (erased with them, and forgotten after 7 days if no wish takes it: `storage.privacy`)."""
        content = await self._download(media_id)
        path = await self.write_file(content, f"{uuid.uuid4().hex}.jpg")
        async with self._env.db.write() as conn:
            stored = await media.add_media(
                conn, kind="photo", channel=WECHAT, file_ref=media_id, now=self._env.now(), draft_of=owner
            )
            await media.add_ref(conn, stored, "file", path)
        return stored

    async def write_file(self, content: bytes, name: str) -> str:
        """Save bytes under the media folder's `wechat/`; the path kept as a media row's "file" reference."""
        folder = self._media_dir / "wechat"

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)

        await asyncio.to_thread(write)
        return str(Path("wechat") / name)


class _Step:
    """One input against the conversation state; `state` None afterwards ends the conversation."""

    def __init__(self, owner: Conversation, openid: str, actor: Actor, language: str, state: dict[str, Any]) -> None:
        self.owner = owner
        self.env = owner._env
        self.openid = openid
        self.actor = actor
        self.lang = language
        self.state: dict[str, Any] | None = state
        self.same_menu = False  # the form stayed at its step without a menu: typed numbers keep their meaning
        self.form = WishConversation(owner._env.settings.categories, owner._env.settings.areas)
        self.talks: dict[str, talk.Conversation] = {
            self.form.name: self.form,
            TASK_DONE.name: TASK_DONE,
            TASK_RELEASE.name: TASK_RELEASE,
            NOT_YET.name: NOT_YET,
            CHECK_IN.name: CHECK_IN,
        }
        self.registration = Registration(owner._env.settings.categories, owner._env.settings.areas)
        self.talks[self.registration.name] = self.registration
        self.tip = TipConversation()
        self.talks[self.tip.name] = self.tip
        self.tip_answer = TipAnswer()
        self.talks[self.tip_answer.name] = self.tip_answer

    def t(self, key: str, /, **values: object) -> str:
        return self.owner._t(self.lang, key, **values)

    def choice(self, key: str, act: Act, subject: int | None = None, arg: str | None = None) -> Choice:
        return render.choices_of(self.owner._catalogues, self.lang, [[Button(key, act, subject, arg)]])[0]

    def page(self, page: Page) -> list[Reply]:
        """A page of a list (`conversations.pages`) as WeChat shows every list (`channels.wechat.pages`)."""
        return wechat_pages.replies(self.owner._catalogues, self.lang, page)

    def menu_reply(self, text: str, choices: list[Choice]) -> Reply:
        # Every choice, numbered as shown: past the menu's ten items they are listed as text (`custom_message`).
        return Reply(text, tuple(choices), tail=self.t("wechat.choose_tail"))

    @property
    def layer(self) -> talk.State | None:
        """Where the person is in a conversation written once (None: in none)."""
        return steps.layer_state(self.state, self.talks)

    # -- dispatch -------------------------------------------------------------------------------------------------

    async def run(self, given: Input) -> list[Reply]:
        intent = privacy_intent(given)
        if intent is not None:
            return await self.privacy(intent)
        text = (given.text or "").strip()
        form = self.layer
        if form is not None and given.press is None and text and (is_help(text) or is_leave(text)):
            return await self.converse(form, given)  # in the form: the layer's leave and help words
        if given.press is None and (text.lower() in HELP_WORDS or is_help(text)):
            return self.help()
        if given.press is None and text:
            if (match := LINK_PATTERN.match(text)) is not None:
                return await self.link(match.group(1))
            if is_leave(text) and self.state and self.state.get("step"):
                self.state = None
                return [Reply(self.t("wish.left"))]
            if text.lower() in WISH_WORDS:
                return await self.start_wish()
            if text.lower() in MINE_WORDS:
                return await self.mine()
            if text.lower() in REGISTER_WORDS:
                return await self.start_registration()
        if given.scene is not None and given.scene.startswith(CHECKIN_SCENE):
            return await activities.scanned(self, given.scene.removeprefix(CHECKIN_SCENE))
        if given.scene is not None:
            return await volunteering.scanned(self, given.scene)
        activity_word = activities.wanted(text) if given.press is None and form is None else None
        if activity_word is not None:
            return await activities.clicked(self, activity_word, text)
        if given.click in activities.CLICKS:
            return await activities.clicked(self, given.click)
        if given.press is not None and given.press.act in activities.PRESSES:
            return await activities.pressed(self, given.press)
        volunteer_word = volunteering.wanted(text) if given.press is None else None
        if volunteer_word == CLICK_LEAD:  # anyone may send the newsroom a lead, as with Telegram's /tip
            return await volunteering.clicked(self, volunteer_word)
        if volunteer_word is not None and Role.VOLUNTEER in self.actor.roles:
            return await volunteering.clicked(self, volunteer_word)
        if given.click in volunteering.CLICKS:
            return await volunteering.clicked(self, given.click)
        in_lead = form is not None and form.conversation == self.tip.name
        if form is not None and in_lead and given.press is not None and given.press.act in self.tip.acts:
            return await self.converse(form, given)  # the lead's own items (its 提交, 取消, categories)
        if given.press is not None and given.press.act in volunteering.PRESSES:
            return await volunteering.pressed(self, given.press)
        if given.click == CLICK_WISH:
            return await self.start_wish()
        if given.click == CLICK_MINE:
            return await self.mine()
        if given.click == CLICK_HELP:
            return self.help()
        if given.click == CLICK_SUBSCRIBE:
            return self.welcome()
        press = given.press
        if form is not None and (press is None or press.act in self.talks[form.conversation].acts):
            return await self.converse(form, given)
        if press is not None:
            try:
                return await self.pressed(press, given)
            except (NotFound, NotAllowed):
                return [Reply(self.t("wish.not_found"))]
            except Conflict as exc:
                status = wish_actions.status_words(self.t, exc.current, owner=False) if exc.current else "-"
                return [Reply(self.t("wish.stale", status=status))]
            except InvalidInput:
                return [Reply(self.t("wish.not_found"))]
        step = (self.state or {}).get("step")
        if step:
            return await self.answer(str(step), given)
        if Role.REPORTER in self.actor.roles and given.image:
            return await self.start_tip(given)  # a reporter's photo outside any form starts a lead with it
        if Role.REPORTER in self.actor.roles and text:
            # Outside any form a reporter's words are not passed on: how to send a lead.
            return volunteering.reporter_aside(self)
        return self.welcome()

    def welcome(self) -> list[Reply]:
        self.state = {}
        return [
            self.menu_reply(
                self.t("wechat.welcome"),
                [self.choice("wechat.menu.wish", Act.WISH_NEW), self.choice("wechat.menu.mine", Act.WISH_MINE)],
            )
        ]

    def help(self) -> list[Reply]:
        """帮助: the words that work here, 绑定 included."""
        self.state = {}
        return [
            self.menu_reply(
                self.t("wechat.help"),
                [self.choice("wechat.menu.wish", Act.WISH_NEW), self.choice("wechat.menu.mine", Act.WISH_MINE)],
            )
        ]

    async def pressed(self, press: Press, given: Input) -> list[Reply]:
        act = press.act
        if act == Act.WISH_NEW:
            return await self.start_wish()
        if act in (Act.WISH_MINE, Act.WISH_MINE_PAGE):
            return await self.mine(press.id or 0)
        if act == Act.WISH_SHOW:
            return await self.show_wish(press.id)
        if act == Act.WISH_CONFIRM:
            await wish_actions.confirm(self.env, self.actor, press.id)
            return [self.rate_menu(press.id)]
        if act == Act.WISH_RATE:
            await wish_actions.rate(self.env, self.actor, press.id, int(press.arg or 0))
            return [Reply(self.t("wish.rated"))]
        if act == Act.WISH_NOT_YET:  # what is missing: the form written once (conversations/not_yet.py)
            return self.outcome(await NOT_YET.start(self.env, self.actor, press.id))
        if act == Act.WISH_CANCEL:
            await wish_actions.cancel(self.env, self.actor, press.id)
            return [Reply(self.t("wish.cancelled"))]
        step = (self.state or {}).get("step")
        if step:
            return await self.answer(str(step), given)
        return self.welcome()

    # -- the wish ---------------------------------------------------------------------------------------------------

    async def start_wish(self) -> list[Reply]:
        return self.outcome(await self.form.start(self.env, self.actor))

    async def start_registration(self) -> list[Reply]:
        """志愿者登记, or the scan of a volunteer invite's QR code: the registration written once
        (conversations/registration.py), with the invite a scan brought (`storage.wechat.invite_of`)."""
        async with self.env.db.read() as conn:
            invite = await wechat.invite_of(conn, self.openid)
        return self.outcome(await self.registration.start(self.env, self.actor, invite=invite))

    async def start_tip(self, given: Input | None = None) -> list[Reply]:
        """报料 (the menu button or the word), or a reporter's photo outside any form (`given`): the lead written
        once (conversations/tip.py), the photo its first."""
        outcome = await self.tip.start(self.env, self.actor)
        if given is None or outcome.state is None:
            return self.outcome(outcome)
        return await self.converse(outcome.state, given)

    async def converse(self, form: talk.State, given: Input) -> list[Reply]:
        """One input in a conversation written once (the wish form, a task done, a lead): a photo is downloaded
        first where the step asks for one (a lead takes photos at every step, up to its limit)."""
        conversation = self.talks[form.conversation]
        said = talk.Input(press=given.press, text=given.text, location=given.location, label=given.label)
        other = given.kind in OTHER_MESSAGES and given.text is None
        if conversation in (self.tip, self.tip_answer) and given.press is None and (given.image or other):
            return await self.lead_file(conversation, form, given)
        if given.image and any(s.expect == talk.Expect.PHOTO for s in conversation.ask(form)):
            try:
                said = talk.Input(photo_media=await self.owner.save_photo(given.image, self.actor.user_id))
            except Exception:
                log.warning("a WeChat photo could not be downloaded", exc_info=True)
                return [Reply(self.t("wechat.photo_failed"))]
        outcome = await talk.run(conversation, self.env, self.actor, form, said)
        if conversation is self.registration and outcome.state is None:
            async with self.env.db.write() as conn:  # the invite a QR code brought is used (or given up)
                await wechat.keep_invite(conn, self.openid, None)
        self.same_menu = outcome.state is not None and outcome.state.step == form.step
        return self.outcome(outcome)

    async def lead_file(self, conversation: talk.Conversation, form: talk.State, given: Input) -> list[Reply]:
        """A photo for a lead or for the answer to an editor's question, downloaded at once (WeChat keeps it three
        days) and kept as media of the draft, unless the lead is full (it is refused without fetching it); a voice, a
        video, a file or a link is no file either takes here (a voice's words, where WeChat recognised them, are
        text)."""
        if not given.image:
            file = talk.Attachment("other")
        elif TipConversation.full(form):
            file = talk.Attachment("photo")
        else:
            try:
                file = talk.Attachment("photo", media_id=await self.owner.save_photo(given.image, self.actor.user_id))
            except Exception:
                log.warning("a WeChat photo for a lead could not be downloaded", exc_info=True)
                self.same_menu = True  # nothing changed: the step's numbers still hold
                return [Reply(self.t("wechat.tip.photo_failed"))]
        outcome = await talk.run(conversation, self.env, self.actor, form, talk.Input(attachment=file))
        self.same_menu = outcome.state is not None and outcome.state.step == form.step  # its numbers still hold
        return self.outcome(outcome)

    def outcome(self, outcome: talk.Outcome) -> list[Reply]:
        """Keep the conversation's state and render what it says (also how a press starts one: `step.outcome(await
        TASK_DONE.start(step.env, step.actor, wish_id))`)."""
        self.state = {"layer": outcome.state.to_json()} if outcome.state is not None else None
        return steps.replies(self.owner._catalogues, self.lang, outcome)

    async def answer(self, step: str, given: Input) -> list[Reply]:
        """An input at a step kept outside the conversations written once: only the erase confirmation."""
        if step == "erase":
            return [Reply(self.t("wechat.erase_again")), self.erase_ask()]
        return self.welcome()

    # -- 我的心愿 ---------------------------------------------------------------------------------------------------

    async def mine(self, page: int = 0) -> list[Reply]:
        """我的心愿: a page of her wishes (`conversations.pages.my_wishes`), an item each for its card and buttons."""
        self.state = {}
        found = await wish_actions.mine(self.env, self.actor, page)
        if not found.wishes:
            return [
                self.menu_reply(self.t("wish.mine.none"), [self.choice("wechat.menu.wish", Act.WISH_NEW)]),
            ]
        return self.page(pages.my_wishes(found))

    async def show_wish(self, wish_id: int) -> list[Reply]:
        """One of her wishes from 我的心愿: its card (as Telegram's) with what its status allows her."""
        wish = await wish_actions.own_wish(self.env, self.actor, wish_id)
        if wish is None:
            return [Reply(self.t("error.not_allowed"))]
        card = wish_cards.resident_card(self.t, wish, await wish_actions.referral(self.env, wish))
        choices = render.choices_of(self.owner._catalogues, self.lang, pages.wish_buttons(wish))
        shown = self.menu_reply(html.unescape(card), choices) if choices else Reply(html.unescape(card))
        proof = await self.proof_photo(wish) if wish.status in PROOF_SHOWN else None
        return [shown, *([Reply("", image=proof)] if proof else [])]

    async def proof_photo(self, wish: Wish) -> str | None:
        """WeChat's id of the volunteer's photo of the finished wish, or None (the card goes alone). She opens her
        wish here when the done notice came as a template or subscription notice, which carry no photo."""
        return None if wish.proof_media_id is None else await self.uploaded_photo(wish.proof_media_id)

    async def uploaded_photo(self, media_id: int) -> str | None:
        """WeChat's id of a stored photo (uploaded once within its life), or None when it cannot be read or uploaded
        (erased meanwhile, or WeChat refused it): what it goes with is sent alone."""
        if self.owner.photo_bytes is None or self.owner.uploads is None:
            return None
        try:
            content = await self.owner.photo_bytes(media_id)
            if not content:
                return None  # erased
            return await self.owner.uploads.media_id(media_id, content)
        except Exception:
            log.warning("a stored photo could not be sent on WeChat", exc_info=True)
            return None

    def rate_menu(self, wish_id: int) -> Reply:
        # 1 星 … 5 星 in that order: the number she types is the stars she gives (items are numbered as shown).
        return self.menu_reply(
            self.t("wish.confirmed_rate"),
            [
                Choice(render.encode(Act.WISH_RATE, wish_id, str(n)), self.t("wechat.rate_choice", n=n))
                for n in range(1, 6)
            ],
        )

    # -- privacy (Telegram's /privacy, /mydata, /deleteme) ---------------------------------------------------------

    async def privacy(self, intent: str) -> list[Reply]:
        if intent == "privacy":
            self.state = {}
            return [
                self.menu_reply(
                    self.t("privacy.notice"),
                    [
                        self.choice("wechat.privacy.mydata", Act.PRIVACY_DATA),
                        self.choice("wechat.privacy.deleteme", Act.PRIVACY_ERASE),
                    ],
                )
            ]
        if intent == "mydata":
            return await self.my_data()
        if intent == "deleteme":
            return [self.erase_ask()]
        if intent == "keep" or (self.state or {}).get("step") != "erase":
            # "Keep", or a confirmation from an old menu: nothing is erased without asking now.
            if intent == "keep":
                self.state = None
                return [Reply(self.t("privacy.erase_kept"))]
            return [self.erase_ask()]
        await self.erase()
        self.state = None
        return [Reply(self.t("privacy.erased"))]

    def erase_ask(self) -> Reply:
        # A wish being written is kept until the answer: its photo is erased too if she confirms.
        form = (self.state or {}).get("layer")
        self.state = {"step": "erase", **({"kept": form} if form else {})}
        return self.menu_reply(
            self.t("privacy.erase_ask"),
            [
                self.choice("privacy.erase_confirm_button", Act.ERASE_YES),
                self.choice("privacy.erase_keep_button", Act.ERASE_NO),
            ],
        )

    async def my_data(self) -> list[Reply]:
        self.state = {}
        person_id = self.actor.user_id
        assert person_id is not None
        async with self.env.db.read() as conn:
            document = await privacy.collect_personal_data(conn, person_id)
        intro = self.t("wechat.mydata.intro") if document else self.t("wechat.mydata.nothing")
        texts, cut = data_messages(document, intro, MYDATA_MESSAGES)
        replies = [Reply(text) for text in texts]
        if cut:
            replies.append(Reply(self.t("wechat.mydata.more")))
        return replies

    async def erase(self) -> None:
        """Erase the person (the same action as Telegram's /deleteme), and a photo of an unsent wish draft."""
        person_id = self.actor.user_id
        assert person_id is not None
        kept = self.form.state_from_json((self.state or {}).get("kept"))
        draft_photo = self.form.form(kept).photo_media if kept is not None else None
        async with self.env.db.read() as conn:
            draft_file = await media.file_ref(conn, int(draft_photo), "file") if draft_photo else None
        await privacy_actions.erase(self.env, person_id)
        if draft_file is not None:
            privacy.remove_saved_files(self.env.settings.media_dir, [draft_file])

    # -- /link ------------------------------------------------------------------------------------------------------

    async def link(self, code: str) -> list[Reply]:
        self.state = None
        redeemed = await links.redeem(self.env, code, channel=WECHAT, external_id=self.openid)
        return [Reply(self.t(f"wechat.link.{redeemed.outcome}", minutes=redeemed.minutes))]
