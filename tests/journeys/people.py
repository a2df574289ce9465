"""People on a channel, for stories written once and run on every channel (issue 26).

A story takes a `Town` and asks it for people: `town.person("王阿姨")` is on the story's channel, `town.person("小周",
on=town.other)` on the other one. A person has the verbs a person has, whatever the channel:

- `say(text)` types a message;
- `choose(label)` takes a choice the bot offered since the person's last action: on Telegram the inline button with
  that label, on WeChat the menu-message item (its number and any ✅ aside; an exact label first, else one that
  contains it);
- `send_photo()`, `send_location(lat, lon)`; `menu(name)`: the Telegram command or the WeChat menu button (`MENU`);
- `open_invite(invite)`: the invite's link on Telegram, its QR code scanned on WeChat (a coordinator's volunteer
  invite, or an activity's check-in code: `volunteer_invite`, `checkin_code`);
- `ask(request)`: a request with no menu button (mydata, deleteme): Telegram's command, or the words the WeChat
  account tells people to type (`WORDS`);
- `verify_certificate(code)`: the certificate's verification by its code (the QR's link on Telegram, 核验 typed on
  WeChat);
- `sees(*texts)` waits for a message received since the person's last action that shows every text (in its text,
  caption or choices: what is on the screen), `sees_photo()` a photo; `everything_seen()` is all they were ever
  sent.

What happened before a story (a volunteer approved earlier, a role granted by staff, an open wish) is set up by
`Town.volunteer`, `Town.with_role`, `Town.staff` and `Town.given_wish`; everything in the story itself goes through
the real Application against the simulators over HTTP.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import pytest

from bot.app import TongxinApp
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import WishDraft
from simulator import BotApiSimulator
from simulator.people import Person as TelegramUser
from simulator.state import BotMessage
from simulator.wechat import Received, WeChatPerson, WeChatSimulator
from storage import people, users
from storage.db import Database
from storage.wishes import Wish
from tests.conftest import BACKENDS, START_TIME
from tests.stories.wishflow import ADDRESS, DESCRIPTION, approved_volunteers, everything_sent_to, mint_volunteer_invite
from tests.wechat.test_wechat_volunteers import make_volunteer

TELEGRAM, WECHAT = "telegram", "wechat"
CHANNELS = (TELEGRAM, WECHAT)
# A menu-message item is shown numbered ("2. 东城社区"), a ticked choice with ✅.
_SHOWN_PREFIX = re.compile(r"^\s*(\d+\.\s*)?(✅\s*)?")


def journey_runs(*, telegram_on: str, transport: str = "polling") -> list[object]:
    """The runs of a journey, for `parametrize(("channel", "story_db", "transport"), …, indirect=["story_db",
    "transport"])`: once per channel, the two channels on different databases when PostgreSQL is there
    (`telegram_on` says which Telegram takes). One journey gives Telegram SQLite and the next PostgreSQL, so every
    journey and every channel runs on both databases without running every pair twice (`make test`'s time).
    `transport`: how the bot gets Telegram's updates in both runs (polling, or webhook delivery)."""
    backends = BACKENDS if telegram_on == BACKENDS[0] else BACKENDS[::-1]
    telegram_db, wechat_db = backends[0], backends[-1]  # both SQLite without TEST_POSTGRES_URL
    return [
        pytest.param(TELEGRAM, telegram_db, transport, id=f"{TELEGRAM}-{telegram_db}-{transport}"),
        pytest.param(WECHAT, wechat_db, transport, id=f"{WECHAT}-{wechat_db}-{transport}"),
    ]


JOURNEY = ("channel", "story_db", "transport")
INDIRECT = ["story_db", "transport"]


@dataclass(frozen=True)
class Seen:
    """A message as its person sees it: the text (or caption) and the choices under it."""

    text: str
    choices: tuple[str, ...]
    kind: str  # text | photo | image | msgmenu | template | …

    @property
    def screen(self) -> str:
        """Everything shown: the text and every choice."""
        return "\n".join((self.text, *self.choices))


@dataclass(frozen=True)
class Invite:
    """A coordinator's invite or an activity's check-in code as it reaches people: a Telegram /start link and a
    WeChat QR code."""

    payload: str
    qr: bytes


def _matching(label: str, choices: list[str]) -> str | None:
    """The choice `label` names among those shown: equal to it (numbering and ✅ aside), else containing it."""
    bare = [_SHOWN_PREFIX.sub("", choice) for choice in choices]
    for choice, plain in zip(choices, bare, strict=True):
        if plain == label:
            return choice
    for choice, plain in zip(choices, bare, strict=True):
        if label in plain:
            return choice
    return None


class Person(ABC):
    """Someone in a story, on one channel."""

    channel: ClassVar[str]
    WORDS: ClassVar[dict[str, str]]  # what a person types for a request with no menu button (`ask`)
    name: str

    @abstractmethod
    async def say(self, text: str) -> None:
        """Type `text` and send it."""

    @abstractmethod
    async def choose(self, label: str) -> None:
        """Take the choice `label` the bot offered since the last action (waiting for it to be offered)."""

    @abstractmethod
    async def send_photo(self, data: bytes = b"\xff\xd8\xff\xe0 photo") -> None:
        """Send a photo."""

    @abstractmethod
    async def send_location(self, latitude: float, longitude: float, label: str = "") -> None:
        """Share a location (`label`: the place's name, which WeChat sends with it and Telegram does not)."""

    @abstractmethod
    async def menu(self, name: str) -> None:
        """Open `name` (wish, mywishes, tasks, mytasks, hours, help, privacy) from the channel's menu."""

    @abstractmethod
    async def open_invite(self, invite: Invite) -> None:
        """Follow a coordinator's invite the way the channel carries it."""

    @abstractmethod
    async def ask(self, request: str) -> None:
        """Make `request` (mydata, deleteme) the way the channel tells people to: `WORDS[request]`."""

    @abstractmethod
    async def verify_certificate(self, code: str) -> None:
        """Ask whether the certificate with verification code `code` is genuine, the way the channel offers it."""

    @abstractmethod
    async def sees(self, *texts: str, timeout: float = 10.0) -> Seen:  # noqa: ASYNC109
        """The first message received since the last action that shows every one of `texts` (waiting for it)."""

    @abstractmethod
    async def sees_photo(self, timeout: float = 10.0) -> bytes:  # noqa: ASYNC109
        """The bytes of the first photo received since the last action (waiting for it)."""

    @abstractmethod
    def everything_seen(self) -> str:
        """All the bot ever sent this person, as one string (for what must never have reached them)."""

    @property
    @abstractmethod
    def account(self) -> str:
        """Their account on the channel (Telegram user id, WeChat openid)."""

    async def person_id(self, db: Database) -> int:
        """The person behind the account (who has written to the bot, or was set up as if they had)."""
        async with db.read() as conn:
            found = await people.find_person(conn, self.channel, self.account)
        assert found is not None, f"{self.name} never wrote to the bot"
        return found.id


class OnTelegram(Person):
    """A Telegram user in a private chat with the bot (the Bot API simulator)."""

    channel = TELEGRAM
    MENU: ClassVar[dict[str, str]] = {
        "wish": "/wish",
        "mywishes": "/mywishes",
        "tasks": "/tasks",
        "mytasks": "/mytasks",
        "hours": "/hours",
        "help": "/help",
        "privacy": "/privacy",
        "tip": "/tip",
        "activities": "/activities",
        "certificate": "/certificate",
    }
    WORDS: ClassVar[dict[str, str]] = {"mydata": "/mydata", "deleteme": "/deleteme"}

    def __init__(self, sim: BotApiSimulator, user: TelegramUser) -> None:
        self.sim = sim
        self.user = user
        self.name = user.first_name
        self._since = sim.seq  # what the person received after this counts as new

    def _acted(self) -> None:
        self._since = self.sim.seq

    def _new(self) -> list[BotMessage]:
        return [m for m in self.user.chat.bot_messages if not m.deleted and m.seq_updated > self._since]

    async def say(self, text: str) -> None:
        """Type `text` (a reply keyboard's button sends its own text the same way)."""
        await self.user.send_text(text)
        self._acted()

    async def choose(self, label: str) -> None:
        """Press the inline button `label` on the newest message received since the last action that has it."""
        found: list[tuple[BotMessage, str]] = []

        def offered() -> bool:
            for message in reversed(self._new()):
                if (choice := _matching(label, [b for row in message.inline_buttons for b in row])) is not None:
                    found.append((message, choice))
                    return True
            return False

        await self.user.wait_for(offered, timeout=10, what=f"a button {label!r}")
        message, choice = found[0]
        await self.user.press(choice, message=message)
        self._acted()

    async def send_photo(self, data: bytes = b"\xff\xd8\xff\xe0 photo") -> None:
        await self.user.send_photo(data)
        self._acted()

    async def send_location(self, latitude: float, longitude: float, label: str = "") -> None:
        """Share a location (Telegram's attachment menu; the label is WeChat's, Telegram sends none)."""
        await self.user.send_location(latitude, longitude)
        self._acted()

    async def menu(self, name: str) -> None:
        await self.user.send_command(self.MENU[name])
        self._acted()

    async def open_invite(self, invite: Invite) -> None:
        """Open the invite's t.me link: /start with its payload."""
        await self.user.send_command("/start", invite.payload)
        self._acted()

    async def ask(self, request: str) -> None:
        await self.user.send_command(self.WORDS[request])
        self._acted()

    async def verify_certificate(self, code: str) -> None:
        """Open the certificate QR's t.me link: /start verify_CODE."""
        await self.user.send_command("/start", f"verify_{code}")
        self._acted()

    async def sees(self, *texts: str, timeout: float = 10.0) -> Seen:  # noqa: ASYNC109
        found: list[Seen] = []

        def shown() -> bool:
            for message in self._new():
                seen = Seen(message.text or "", tuple(b for row in message.inline_buttons for b in row), message.kind)
                if all(text in seen.screen for text in texts):
                    found.append(seen)
                    return True
            return False

        await self.user.wait_for(shown, timeout=timeout, what=f"a message showing {texts}")
        return found[0]

    async def sees_photo(self, timeout: float = 10.0) -> bytes:  # noqa: ASYNC109
        photos: list[bytes] = []

        def arrived() -> bool:
            photos.extend(m.photo_bytes for m in self._new() if m.kind == "photo" and m.photo_bytes is not None)
            return bool(photos)

        await self.user.wait_for(arrived, timeout=timeout, what="a photo")
        return photos[0]

    def everything_seen(self) -> str:
        return everything_sent_to(self.sim, self.user)

    @property
    def account(self) -> str:
        return str(self.user.user_id)


class OnWeChat(Person):
    """A follower of the service account (the WeChat simulator)."""

    channel = WECHAT
    MENU: ClassVar[dict[str, str]] = {
        "wish": "WISH",
        "mywishes": "MYWISHES",
        "tasks": "TASKS",
        "mytasks": "MYTASKS",
        "hours": "HOURS",
        "help": "HELP",
        "privacy": "PRIVACY",
        "tip": "LEAD",
        "activities": "ACTIVITIES",
        "certificate": "CERTIFICATE",
    }
    WORDS: ClassVar[dict[str, str]] = {"mydata": "我的数据", "deleteme": "删除我的数据"}  # as 隐私 says them

    def __init__(self, wx: WeChatSimulator, follower: WeChatPerson) -> None:
        self.wx = wx
        self.follower = follower
        self.name = follower.name
        self._since = len(follower.inbox)

    def _acted(self) -> None:
        self._since = len(self.follower.inbox)

    async def say(self, text: str) -> None:
        await self.follower.send_text(text)
        self._acted()

    async def choose(self, label: str) -> None:
        """Tap the item `label` of the newest menu message received since the last action that has it."""
        since = self._since

        def choice_in(received: Received) -> str | None:
            return _matching(label, [content for _, content in received.items])

        await self.follower.wait_for(lambda r: choice_in(r) is not None, after=since)
        received = next(r for r in reversed(self.follower.inbox[since:]) if choice_in(r) is not None)
        menu_id, content = next(item for item in received.items if item[1] == choice_in(received))
        await self.follower.tap_item(menu_id, content)
        self._acted()

    async def send_photo(self, data: bytes = b"\xff\xd8\xff\xe0 photo") -> None:
        await self.follower.send_photo(data)
        self._acted()

    async def send_location(self, latitude: float, longitude: float, label: str = "") -> None:
        """Share a location from the + panel, with the place's name WeChat shows under it."""
        await self.follower.send_location(latitude, longitude, label)
        self._acted()

    async def menu(self, name: str) -> None:
        await self.follower.click(self.MENU[name])
        self._acted()

    async def open_invite(self, invite: Invite) -> None:
        """Scan the invite's QR code."""
        assert await self.follower.scan(invite.qr) is not None, "the invite's QR code had expired"
        self._acted()

    async def ask(self, request: str) -> None:
        await self.say(self.WORDS[request])

    async def verify_certificate(self, code: str) -> None:
        """Type 核验 and the code (the account's way; the certificate's link opens a web page)."""
        await self.say(f"核验 {code}")

    @staticmethod
    def _seen(received: Received) -> Seen:
        text = "\n".join([received.text, received.tail, *received.fields.values()])
        return Seen(text, tuple(content for _, content in received.items), received.kind)

    async def sees(self, *texts: str, timeout: float = 10.0) -> Seen:  # noqa: ASYNC109
        found = await self.follower.wait_for(
            lambda r: all(text in self._seen(r).screen for text in texts), timeout, after=self._since
        )
        return self._seen(found)

    async def sees_photo(self, timeout: float = 10.0) -> bytes:  # noqa: ASYNC109
        image = await self.follower.wait_for(lambda r: r.kind == "image", timeout, after=self._since)
        return self.wx.media[image.text][0]

    def everything_seen(self) -> str:
        return "\n".join(self._seen(received).screen for received in self.follower.inbox)

    @property
    def account(self) -> str:
        return self.follower.openid


class Town:
    """The story's people: on its channel by default, or on the other one (`other`)."""

    def __init__(self, channel: str, bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator) -> None:
        assert channel in CHANNELS
        self.channel = channel
        self.other = WECHAT if channel == TELEGRAM else TELEGRAM
        self.env = bot.bot_data.env
        self.sim = sim
        self.wx = wx

    def person(self, name: str, *, on: str | None = None) -> Person:
        """A resident who has not written yet, on `on` (the story's channel unless said)."""
        if (on or self.channel) == TELEGRAM:
            return OnTelegram(self.sim, self.sim.person(name))
        return OnWeChat(self.wx, self.wx.person(name))

    async def volunteer(self, name: str, *, on: str | None = None) -> Person:
        """A volunteer who registered and was approved earlier (set up in the database), with the volunteer's menu."""
        if (on or self.channel) == TELEGRAM:
            user = self.sim.person(name)
            await approved_volunteers(self.env.db, [user])
            return OnTelegram(self.sim, user)
        follower = self.wx.person(name)
        await make_volunteer(self.env, follower)
        return OnWeChat(self.wx, follower)

    async def with_role(self, person: Person, role: Role) -> Person:
        """`person` has written to the bot and is given `role` by staff; they write again, so the menu of the role
        is theirs from then on (WeChat's menu follows a person's roles when they write)."""
        await person.say("你好")
        await person.sees("您好")
        async with self.env.db.write() as conn:
            found = await people.find_person(conn, person.channel, person.account)
            assert found is not None
            await users.grant_role(conn, found.id, role, granted_by=None, now=START_TIME)
        await person.say("你好")
        await person.sees()  # answered as someone with the role
        return person

    async def staff(self, name: str, role: Role) -> TelegramUser:
        """A member of staff holding `role`, on Telegram (their WeCom side has its stories in tests/wecom)."""
        user = self.sim.person(name)
        await self.with_role(OnTelegram(self.sim, user), role)
        return user

    async def given_wish(
        self, resident: Person, *, phone: str = "13800001234", location: tuple[float, float] | None = None
    ) -> Wish:
        """An approved, open wish of `resident` (助老助残 in 东城社区, with an address, her phone and the `location`
        she shared if any), set up in the database as if she had made it earlier."""
        async with self.env.db.write() as conn:
            person = await people.person_for_identity(
                conn, resident.channel, resident.account, first_name=resident.name, language="zh-CN", now=START_TIME
            )
            return await lifecycle.submit_wish(
                conn,
                WishDraft(
                    category="elderly_disabled",
                    description=DESCRIPTION,
                    area="东城社区",
                    address=ADDRESS,
                    location=location,
                    phone=phone,
                ),
                resident_id=person.id,
                now=START_TIME,
                review=False,
                daily_limit=10,
            )


async def volunteer_invite(admin: TelegramUser) -> Invite:
    """The admin (a coordinator too) mints a volunteer invite that approves at once; it comes as a /start link and
    as the WeChat QR code."""
    payload = await mint_volunteer_invite(admin)
    await admin.wait_for(lambda: any(m.kind == "photo" for m in admin.messages), what="the invite's QR code")
    qr = next(m.photo_bytes for m in admin.messages if m.kind == "photo" and m.photo_bytes is not None)
    return Invite(payload, qr)


async def checkin_code(organizer: TelegramUser) -> Invite:
    """The organizer's /checkin at the site: the activity's check-in code, as Telegram's QR (its /start ck_ link) and
    as WeChat's parametric QR code (微信签到码), both sent to the organizer on Telegram."""
    photos = len([m for m in organizer.messages if m.kind == "photo"])
    await organizer.send_command("/checkin")

    def both() -> list[BotMessage]:
        new = [m for m in organizer.messages if m.kind == "photo"][photos:]
        return new if len(new) >= 2 else []

    await organizer.wait_for(lambda: bool(both()), what="the check-in QR codes")
    telegram_qr = next(m for m in both() if "start=ck_" in (m.text or ""))
    wechat_qr = next(m for m in both() if "微信签到码" in (m.text or ""))
    payload = re.search(r"start=(ck_\d{6})", telegram_qr.text or "")
    assert payload is not None
    assert wechat_qr.photo_bytes is not None
    return Invite(payload.group(1), wechat_qr.photo_bytes)
