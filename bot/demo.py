"""The demo (`python -m bot demo`): the real bot against the built-in Telegram simulator, in a browser page.

One process runs three things on one event loop: the Bot API simulator (on a free local port), the
real bot application polling it, and the web chat page (`simulator.webchat`) on `--port`. The bot gets
its settings in code (a demo token, the simulator's URLs, a SQLite file under the data folder, 陈主任 as
admin), so nothing from `.env` or the internet is needed. The first start seeds the district
(`bot.seed`); later starts keep what was done, `--fresh` starts over. Time is a ticking `ManualClock`
shared by the bot and the simulator's message dates, so the page can jump an hour, a day or a week
ahead and the scheduler's sweep runs at once to deliver what fell due. A new demo's clock starts at the
next 09:00 local (the page shows it), so the demo behaves the same at any hour it is tried. The chats the panes
show are kept in the data folder too (`simulator.keep`), so a restarted demo shows what was said before it, and
each pane opens with a first hint of what that person can try (`demo.po`, by role).

The bot's WeCom application (企业微信 自建应用) runs against the WeCom simulator too (`simulator.wecom`, settings set
here like the WeChat ones). 陈主任 works there as well: the WeCom member `chenzhuren`, granted the coordinator role
when the demo is seeded, is a person of his own, not joined to the Telegram 陈主任. Joined, he would hear only on
Telegram (the outbox reaches a person on the first channel he has: Telegram, then WeCom), and the WeCom pane would
never get a review card; as a coordinator who works only in WeCom — the case the WeCom channel is for — he gets each
wish's card with 通过 / 退回 while the Telegram 陈主任 gets his notice; a later press on either is told who decided. His
pane (`simulator.wecom_page`, `webchat_static/wecom.js`) takes the place of his Telegram pane when switched to
企业微信.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import TongxinApp, run_on_fast_loop, running, start_screen
from bot.seed import ADMIN_IDS, CAST, CHEN_ZHUREN, SEED_PHOTOS, XIAO_ZHOU, ZHANG_JIZHE, is_seeded, seed_district
from bot.seed_departments import departments_seeded, seed_departments
from core.clock import ManualClock
from core.i18n import Catalogues
from core.settings import Settings, load_settings
from rules.roles import Role
from simulator import BotApiSimulator, Person, wechat_page, wecom_page
from simulator.keep import FILES as KEPT_FILES
from simulator.keep import STATE_FILE as KEPT_CHATS
from simulator.keep import ChatKeeper
from simulator.webchat import LANGUAGE_CODES, SAMPLES_DIR, WebChat
from simulator.wechat import WeChatSimulator
from simulator.wecom import WeComSimulator
from storage import people, users
from storage.db import Database
from storage.migrate import upgrade
from storage.people import WECOM

DEMO_TOKEN = "7000000000:DEMO-tongxin-local-simulator"
BOT_USERNAME = "tongxin_demo_bot"
DATABASE_FILE = "tongxin.db"
PEOPLE_FILE = "people.json"  # people added on the page, recreated at the next start
CLOCK_FILE = "clock.json"  # how far the demo's time was moved ahead of the real time
PANES_FILE = "panes.json"  # who had a chat pane, in page order, so a restart shows the same page
FIRST_ADDED_ID = 7_100_001
LANGUAGE_REPLY_TIMEOUT = 10.0
# 王阿姨 on WeChat: the demo's service account runs in safe mode (AES) against the WeChat simulator.
DEMO_AES_KEY = "TongxinDemoEncodingAESKey0123456789abcdefgh"
WECHAT_WANG_OPENID = "o_demo_wang_ayi"
# 小周 (volunteer) and 张记者 (reporter) on WeChat too: their WeChat accounts joined to their seeded people, so the
# pane switched to them shows their role's menu and walks their loops (issue 26).
WECHAT_XIAOZHOU_OPENID = "o_demo_xiaozhou"
WECHAT_ZHANG_OPENID = "o_demo_zhang_jizhe"
WECHAT_LINKED = {XIAO_ZHOU: WECHAT_XIAOZHOU_OPENID, ZHANG_JIZHE: WECHAT_ZHANG_OPENID}
# 陈主任 in the WeCom application: a member of his own with the coordinator role (see the module's docstring).
WECOM_CHEN_USERID = "chenzhuren"
WECOM_CHEN_NAME = "陈主任"
DEMO_WECOM_AES_KEY = "TongxinDemoWeComAESKey0123456789abcdefghijk"
# The demo's command-centre screen: /screen?token=demo, on the port after the page's (a free one with port 0).
DEMO_SCREEN_TOKEN = "demo"
DEMO_START = dt.time(9, 0)  # a new demo's clock starts at the next 09:00 local
# Whose hint a pane shows, most specific first (陈主任 is coordinator and admin, 老李 volunteer and department).
HINT_ROLES = (
    Role.COORDINATOR.value,
    Role.EDITOR.value,
    Role.DEPARTMENT.value,
    Role.REPORTER.value,
    Role.VOLUNTEER.value,
)
HINT_LANGUAGES = ("zh-CN", "en")

log = logging.getLogger(__name__)


@dataclass
class Demo:
    """A running demo: what tests and the command line reach into."""

    sim: BotApiSimulator
    application: TongxinApp
    webchat: WebChat
    clock: ManualClock
    settings: Settings
    data_dir: Path
    wechat: WeChatSimulator | None = None
    screen_url: str = ""  # the command-centre screen, token included
    wecom: WeComSimulator | None = None

    @property
    def url(self) -> str:
        """The page's address."""
        return self.webchat.url

    def person(self, name: str) -> Person:
        """A simulated person by first name."""
        return next(p for p in self.sim.people.values() if p.first_name == name)


class DemoTime:
    """The page's clock control: move the shared clock, remember the jump, and sweep at once."""

    def __init__(self, clock: ManualClock, data_dir: Path) -> None:
        self.clock = clock
        self.data_dir = data_dir
        self.application: TongxinApp | None = None

    def now(self) -> dt.datetime:
        return self.clock.now()

    async def advance(self, delta: dt.timedelta) -> None:
        self.clock.advance(delta)
        offset = self.clock.now() - dt.datetime.now(dt.UTC)
        (self.data_dir / CLOCK_FILE).write_text(json.dumps({"offset_seconds": offset.total_seconds()}))
        if self.application is not None:
            await run_scheduler_now(self.application)


async def run_scheduler_now(application: TongxinApp) -> None:
    """After the clock moved: let the scheduler find what fell due (reminders, digests) right away."""
    from scheduler.sweep import run_once

    await run_once(application)


def _prepare(data_dir: Path, *, fresh: bool) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    if fresh:
        kept = (PEOPLE_FILE, CLOCK_FILE, PANES_FILE, KEPT_CHATS)
        for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm", *kept):
            (data_dir / name).unlink(missing_ok=True)
        for file in (data_dir / KEPT_FILES).glob("*"):
            file.unlink()
    return data_dir


def hint_role(roles: list[str], preset: str | None) -> str:
    """The role whose first hint a person's pane shows: the most specific they hold, else the page's preset."""
    held = set(roles) | ({Role.COORDINATOR.value} if Role.ADMIN.value in roles else set())
    return next((role for role in HINT_ROLES if role in held), preset if preset in HINT_ROLES else "resident")


def pane_hint(catalogues: Catalogues, role: str) -> dict[str, Any]:
    """A pane's first hint in each page language: what this role can do, and what to type first."""
    return {
        language: {
            "text": catalogues.text(language, f"demo.hint.{role}"),
            "tries": catalogues.text(language, f"demo.try.{role}").splitlines(),
        }
        for language in HINT_LANGUAGES
    }


def next_morning(now: dt.datetime, tz: ZoneInfo, at: dt.time = DEMO_START) -> dt.datetime:
    """The next `at` (09:00) local after `now`, in UTC: when a fresh demo's day begins."""
    local = now.astimezone(tz)
    start = dt.datetime.combine(local.date(), at, tzinfo=tz)
    if start <= local:
        start = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, tzinfo=tz)
    return start.astimezone(dt.UTC)


def _load_clock(data_dir: Path, tz: ZoneInfo) -> ManualClock:
    """The demo's ticking clock: as far ahead of the real time as it was moved before; a new demo starts at the
    next 09:00 local, so whatever the hour it is tried at, notices are not held by quiet hours, the day's
    digests are still ahead and "+1 天" lands on a morning again."""
    clock = ManualClock(ticking=True)
    try:
        offset = float(json.loads((data_dir / CLOCK_FILE).read_text())["offset_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        offset = (next_morning(dt.datetime.now(dt.UTC), tz) - dt.datetime.now(dt.UTC)).total_seconds()
        (data_dir / CLOCK_FILE).write_text(json.dumps({"offset_seconds": offset}))
    if offset > 0:
        clock.advance(dt.timedelta(seconds=offset))
    return clock


def _load_added_people(data_dir: Path) -> list[dict[str, object]]:
    try:
        people = json.loads((data_dir / PEOPLE_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [p for p in people if isinstance(p, dict)] if isinstance(people, list) else []


def _first_panes(data_dir: Path, added: list[dict[str, object]]) -> list[int]:
    """The panes the page opens with: those of the last run, or the cast's five and the people added."""
    try:
        kept = json.loads((data_dir / PANES_FILE).read_text())
    except (OSError, ValueError):
        kept = None
    if isinstance(kept, list):
        return [user_id for user_id in kept if isinstance(user_id, int)]
    ids = [resident.user_id for resident in CAST if resident.on_page]
    for entry in added:
        with contextlib.suppress(KeyError, ValueError, TypeError):
            ids.append(int(str(entry["id"])))
    return ids


def _keep_panes(data_dir: Path, panes: list[int]) -> None:
    (data_dir / PANES_FILE).write_text(json.dumps(panes))


def _register_seed_photos(sim: BotApiSimulator) -> None:
    for name, file_id in SEED_PHOTOS.items():
        sim.files.add((SAMPLES_DIR / name).read_bytes(), kind="photo", mime_type="image/jpeg", file_id=file_id)


async def _link_wechat(db: Database, *, now: dt.datetime) -> None:
    """Join 小周's and 张记者's WeChat accounts to their seeded people (once; a restart finds them joined)."""
    async with db.write() as conn:
        for telegram_id, openid in WECHAT_LINKED.items():
            if await people.find_person(conn, "wechat", openid) is not None:
                continue
            found = await people.person_ids_for(conn, people.TELEGRAM, [telegram_id])
            if found:
                await people.add_identity(conn, found[0], "wechat", openid, now=now)


async def _seed_wecom(db: Database, *, now: dt.datetime) -> None:
    """陈主任 in the WeCom application: a member of his own, granted the coordinator role by the Telegram 陈主任 (the
    demo's admin), as `/grant 协调员 wecom:chenzhuren` would (once; a restart finds him)."""
    async with db.write() as conn:
        if await people.find_person(conn, WECOM, WECOM_CHEN_USERID) is not None:
            return
        member = await people.person_for_identity(
            conn, WECOM, WECOM_CHEN_USERID, first_name=WECOM_CHEN_NAME, language="zh-CN", now=now
        )
        admin = await people.person_ids_for(conn, people.TELEGRAM, [CHEN_ZHUREN])
        await users.grant_role(conn, member.id, Role.COORDINATOR, granted_by=admin[0] if admin else None, now=now)


def _demo_settings(sim: BotApiSimulator, data_dir: Path, wx: WeChatSimulator, wc: WeComSimulator) -> Settings:
    return load_settings(
        **wx.settings(callback_port=0),
        **wc.settings(callback_port=0),
        bot_token=DEMO_TOKEN,
        database_url=f"sqlite+aiosqlite:///{(data_dir / DATABASE_FILE).resolve()}",
        admin_ids=list(ADMIN_IDS),
        telegram_api_url=sim.api_url,
        telegram_file_url=sim.file_url,
        media_dir=data_dir / "media",
        screen_token=DEMO_SCREEN_TOKEN,
        _env_file=None,
    )


@contextlib.asynccontextmanager
async def demo_running(
    *, port: int = 8080, data_dir: str | Path = "demo-data", fresh: bool = False, host: str = "127.0.0.1"
) -> AsyncIterator[Demo]:
    """Start the simulator, the seeded bot and the page; stop all three on exit."""
    folder = _prepare(Path(data_dir), fresh=fresh)
    clock = _load_clock(folder, ZoneInfo(Settings.model_fields["timezone"].default))
    sim = BotApiSimulator(
        token=DEMO_TOKEN,
        bot_username=BOT_USERNAME,
        bot_name="同心 Tongxin",
        clock=lambda: clock.now().timestamp(),
    )
    await sim.start(host="127.0.0.1", port=0)
    wx = WeChatSimulator(aes_key=DEMO_AES_KEY, now=clock.now)
    await wx.start()
    wang_on_wechat = wx.person("王阿姨", openid=WECHAT_WANG_OPENID)
    xiaozhou_on_wechat = wx.person("小周", openid=WECHAT_XIAOZHOU_OPENID)
    zhang_on_wechat = wx.person("张记者", openid=WECHAT_ZHANG_OPENID)
    wc = WeComSimulator(aes_key=DEMO_WECOM_AES_KEY, now=clock.now)
    await wc.start()
    chen_on_wecom = wc.member(WECOM_CHEN_NAME, WECOM_CHEN_USERID)
    time = DemoTime(clock, folder)
    wecom_log = wecom_page.PaneLog()  # 陈主任's own side of his WeCom chat, kept with the chats
    keeper = ChatKeeper(folder, sim, wx, wc, wecom_log)
    db: Database | None = None
    webchat: WebChat | None = None
    try:
        _register_seed_photos(sim)
        for resident in CAST:
            person = sim.person(
                resident.name, user_id=resident.user_id, language_code=resident.language, phone=resident.phone
            )
            person.location = resident.location
        added = _load_added_people(folder)
        for entry in added:
            with contextlib.suppress(KeyError, ValueError, TypeError):
                sim.person(str(entry["name"]), user_id=int(str(entry["id"])), language_code=str(entry["language"]))
        keeper.load()  # before the bot polls: its old cards are there to edit, new messages follow their ids
        keeper.watch()
        settings = _demo_settings(sim, folder, wx, wc)
        db = Database(settings.database_url)
        await upgrade(db)
        if not await is_seeded(db):
            await seed_district(db, now=clock.now())
        if not await departments_seeded(db):
            await seed_departments(db, now=clock.now())
        await _link_wechat(db, now=clock.now())
        await _seed_wecom(db, now=clock.now())
        database = db

        async def roles_of(user_id: int) -> list[str]:
            # What was granted, plus admin: an admin's implied staff roles would only crowd the pane's badges.
            async with database.read() as conn:
                person = await people.find_person(conn, people.TELEGRAM, user_id)
            if person is None:
                return []
            roles = set(person.roles) | ({Role.ADMIN.value} if user_id in settings.admin_ids else set())
            return sorted(roles)

        def new_person(name: str, language: str) -> Person:
            user_id = max([FIRST_ADDED_ID - 1, *sim.people]) + 1
            person = sim.person(name, user_id=user_id, language_code=LANGUAGE_CODES[language])
            added.append({"id": user_id, "name": name, "language": LANGUAGE_CODES[language]})
            (folder / PEOPLE_FILE).write_text(json.dumps(added, ensure_ascii=False))
            return person

        async with running(settings, db=db, clock=clock, poll_timeout=1) as application:
            time.application = application
            catalogues = application.bot_data.catalogues
            if (channel := application.bot_data.wechat) is not None:
                wx.callback_url = f"http://127.0.0.1:{channel.port}/wechat"
                for openid in WECHAT_LINKED.values():  # their role's menu before they first write
                    async with db.read() as conn:
                        linked = await people.find_person(conn, "wechat", openid)
                    await channel.role_menus.sync(db, openid, linked.roles if linked else ())
            if (wecom := application.bot_data.wecom) is not None:
                wc.callback_url = f"http://127.0.0.1:{wecom.port}/wecom"
            webchat = WebChat(
                sim,
                tz=settings.tz,
                time=time,
                switch_language=switch_language,
                roles_of=roles_of,
                new_person=new_person,
                presets={r.user_id: r.role for r in CAST},
                hint_of=lambda roles, preset: pane_hint(catalogues, hint_role(roles, preset)),
                on_panes=lambda panes: _keep_panes(folder, panes),
                extra_routes=[
                    wechat_page.routes(
                        wx,
                        [wang_on_wechat, xiaozhou_on_wechat, zhang_on_wechat],
                        SAMPLES_DIR,
                        pane_hint(catalogues, "wechat"),
                        roles={WECHAT_XIAOZHOU_OPENID: "志愿者", WECHAT_ZHANG_OPENID: "流动记者"},
                        hints={
                            WECHAT_XIAOZHOU_OPENID: pane_hint(catalogues, "wechat_volunteer"),
                            WECHAT_ZHANG_OPENID: pane_hint(catalogues, "wechat_reporter"),
                        },
                    ),
                    wecom_page.routes(
                        wc,
                        [chen_on_wecom],
                        SAMPLES_DIR,
                        roles={WECOM_CHEN_USERID: "协调员"},
                        switch_for={WECOM_CHEN_USERID: WECOM_CHEN_NAME},
                        hints={WECOM_CHEN_USERID: pane_hint(catalogues, "wecom")},
                        log=wecom_log,
                    ),
                ],
            )
            for user_id in _first_panes(folder, added):
                if user_id in sim.people:
                    webchat.show(sim.people[user_id])
            await webchat.start(host=host, port=port)
            screen = await start_screen(application, port + 1 if port else 0)
            screen_url = f"http://{host}:{screen.port}/screen?token={DEMO_SCREEN_TOKEN}"
            try:
                yield Demo(sim, application, webchat, clock, settings, folder, wx, screen_url, wc)
            finally:
                await screen.stop()
                await webchat.stop()
    finally:
        keeper.close()
        if db is not None:
            await db.dispose()
        await wc.stop()
        await wx.stop()
        await sim.stop()


async def switch_language(person: Person, language: str) -> None:
    """Do what a person would: send /language and press the language's button when the bot offers it."""
    data = f"lang:{language}"
    before = len(person.chat.bot_messages)
    await person.send_command("/language")

    def offered() -> object:
        return next(
            (
                m
                for m in person.chat.bot_messages[before:]
                if not m.deleted
                and any(
                    b.get("callback_data") == data
                    for row in (m.reply_markup or {}).get("inline_keyboard", [])
                    for b in row
                )
            ),
            None,
        )

    try:
        await person.wait_for(offered, timeout=LANGUAGE_REPLY_TIMEOUT, what="the language buttons")
    except TimeoutError:
        log.warning("%s: the bot offered no language buttons (busy in a conversation?)", person.first_name)
        return
    message = offered()
    assert message is not None
    person.sim.callback_query(person, message, data)  # type: ignore[arg-type]


async def _serve(port: int, data_dir: str, fresh: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with demo_running(port=port, data_dir=data_dir, fresh=fresh) as demo:
        print(f"同心 Tongxin demo: open {demo.url} in your browser", flush=True)
        print(f"  command-centre screen: {demo.screen_url}", flush=True)
        print(f"  data: {demo.data_dir.resolve()}  (start over with --fresh; stop with Ctrl-C)", flush=True)
        await stop.wait()
        print("stopping…", flush=True)


def run_demo(*, port: int, data_dir: str, fresh: bool) -> int:
    """Run the demo until Ctrl-C; the exit code for the command line."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run_on_fast_loop(_serve(port, data_dir, fresh))
    except OSError as exc:
        print(f"tongxin: cannot start the demo on port {port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
