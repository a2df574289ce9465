"""The staff's desk in the WeCom application: its menu and the words staff type there.

A WeCom application has one menu for all its members (`menu/create` takes the agent, not a member:
developer.work.weixin.qq.com/document/path/90231; at most 3 buttons of at most 5 items each), so the menu offers
every staff entry — 待审, 案件, and under 更多: 统计, 月报, 导出, 授权, 绑定 (帮助 is typed: five is the most a
sub-menu holds) — and each answer depends on the member's roles now: a member without the role is told which role
it takes and whom to ask. A tap arrives as a `click` event with the item's key (path/90240); the same entries can be
typed (`/stats`, 统计 7天, `/export 心愿 2026-11-01 2026-11-30`, 导出 案件, 月报 2026-11, 授权 2 协调员, 撤销 …,
绑定 123456, 帮助, …).

- 待审 (coordinators): how many wishes and volunteer applications wait, and the oldest wishes' review cards again
  and applications' cards again (`actions.review_queue`, through the outbox like every notice).
- 案件: coordinators get every department's open cases (`conversations.case_overview`, as Telegram's /cases);
  department members the open cases of their departments.
- 统计 (staff): the figures of /stats (`conversations.figures`, the same words as Telegram's) and its chart as an
  image message (`media/upload` type image, then `message/send` msgtype image; path/90253, path/90236).
- 导出 (coordinators): the CSV of /export as a file message (`media/upload` type file, at most 20 MB, path/90253;
  zipped above `actions.exports.ZIP_ABOVE_BYTES`; a longer range is refused with the limit named).
- 月报 [2026-11|上月|本月] (coordinators): the month's figures as text (`conversations.report`, the words of Telegram's
  /report caption and PDF) and the PDF as a file message (the one /report sends).
- 授权 / 撤销 (admins: `WECOM_ADMIN_USERIDS` or an admin person): 授权 lists the members the application can see
  (its visible range, `agent/get` and `user/simplelist`, path/90227 and path/90200) by number; `授权 2 协调员` (or
  a userid for the number) asks to confirm, and 确认 runs `actions.staff.grant_role` — Telegram's /grant, with
  its audit entry and its notice to the member; `撤销 2 协调员` the same with `revoke_role`. Only the roles an admin
  grants (`rules.roles.GRANTABLE_BY_ADMIN`); a member outside the visible range is refused. The pending
  confirmation is the member's open question (`storage.wecom`, 30 minutes; 取消 drops it).
- 绑定 123456: the code from Telegram's /link joins this member to their Telegram person once they say yes there
  (`actions.links`, as WeChat's 绑定).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from actions import activities as activity_actions
from actions import cases as case_actions
from actions import departments as department_actions
from actions import exports, links, review_queue
from actions import report as report_actions
from actions import staff as staff_actions
from actions.env import Env
from channels.wechat import render
from channels.wecom.api import WeComApi, WeComError
from conversations import case_overview
from conversations import figures as figures_text
from conversations import report as report_words
from core.i18n import Catalogues
from core.settings import WECOM_USERID
from rules import stats
from rules.cases import CaseStatus
from rules.exports import ExportError, columns_for, local_range, parse_export
from rules.monthly_report import ReportMonthError
from rules.roles import GRANTABLE_BY_ADMIN, Role
from rules.staff import ROLE_WORDS, may, person_ref
from rules.stats import parse_period, period_start
from rules.wishes import Actor
from storage import people
from storage import wecom as wecom_store
from storage.errors import NotAllowed
from storage.people import WECOM
from storage.users import User

log = logging.getLogger(__name__)

PENDING, CASES, STATS, EXPORT, LINK, HELP = "PENDING", "CASES", "STATS", "EXPORT", "LINK", "HELP"
REPORT, GRANT, REVOKE = "REPORT", "GRANT", "REVOKE"
# What a member may type for each entry (the first word; the rest are its arguments).
WORDS = {
    "待审": PENDING,
    "审核": PENDING,
    "/pending": PENDING,
    "案件": CASES,
    "/cases": CASES,
    "统计": STATS,
    "/stats": STATS,
    "导出": EXPORT,
    "/export": EXPORT,
    "月报": REPORT,
    "月度报告": REPORT,
    "/report": REPORT,
    "授权": GRANT,
    "/grant": GRANT,
    "撤销": REVOKE,
    "/revoke": REVOKE,
    "绑定": LINK,
    "/link": LINK,
    "帮助": HELP,
    "/help": HELP,
}
WORD = re.compile(r"\s*(/?[^\s\d/]+|/[a-z]+)\s*(.*)", re.DOTALL)
ARGS_MAX = 80  # characters of arguments read: a command never needs more
FILE_MAX_BYTES = 20 * 1024 * 1024  # a file message's file (media/upload type file, path/90253)
CASES_SHOWN = 20
LINK_CODE = re.compile(r"\d{6}")
MENU_RETRY = dt.timedelta(minutes=5)  # a refused menu is set again with a callback at most this often
USAGE = "wecom.desk.export_usage"  # Telegram's export.usage speaks of its buttons
MEMBERS_SHOWN = 50  # members listed by 授权 (the rest are named by userid); the list fits one 2048-byte message
CONFIRM_WAIT = dt.timedelta(minutes=30)
VISIBLE_MAX = 10_000  # members read to find one named by userid past the list (one department at a time)
ROLE_QUESTION = {GRANT: "role_grant", REVOKE: "role_revoke"}  # the confirmation asked (storage.wecom, ≤16 chars)
CONFIRM_WORDS = frozenset({"确认", "确定", "confirm", "yes"})
# The word a role is typed as in the confirmation's language: its Chinese name in Chinese, else its value.
ROLE_WORD_ZH = {role: word for word, role in ROLE_WORDS.items() if word != "监测员"}

Say = Callable[[str, str], Awaitable[bool]]
RolesOf = Callable[[str, User], frozenset[Role]]


def menu(catalogues: Catalogues, language: str) -> dict[str, Any]:
    """The application's one menu (path/90231: names at most 16 bytes on the first level, 40 below)."""

    def item(key: str, name_key: str) -> dict[str, str]:
        return {"type": "click", "name": render.text(catalogues, language, name_key), "key": key}

    return {
        "button": [
            item(PENDING, "wecom.menu.pending"),
            item(CASES, "wecom.menu.cases"),
            {
                "name": render.text(catalogues, language, "wecom.menu.more"),
                "sub_button": [
                    item(STATS, "wecom.menu.stats"),
                    item(REPORT, "wecom.menu.report"),
                    item(EXPORT, "wecom.menu.export"),
                    item(GRANT, "wecom.menu.grant"),
                    item(LINK, "wecom.menu.link"),
                ],
            },
        ]
    }


def entry_of(data: dict[str, Any]) -> tuple[str, list[str]] | None:
    """The desk entry a callback asks for and its arguments: a menu tap, or a typed word; None for anything else."""
    if data.get("MsgType") == "event":
        if str(data.get("Event") or "").lower() != "click":
            return None
        key = str(data.get("EventKey") or "")
        return (key, []) if key in WORDS.values() else None
    if data.get("MsgType") != "text":
        return None
    matched = WORD.fullmatch(str(data.get("Content") or "")[: ARGS_MAX + 16])
    if matched is None or (entry := WORDS.get(matched[1].lower())) is None:
        return None
    return entry, matched[2][:ARGS_MAX].split()


class Desk:
    """The menu and the typed entries of one WeCom application."""

    def __init__(self, env: Env, catalogues: Catalogues, api: WeComApi, say: Say, roles_of: RolesOf) -> None:
        self._env = env
        self._catalogues = catalogues
        self._api = api
        self._say = say
        self._roles_of = roles_of
        self._menu_set = False
        self._menu_tried: dt.datetime | None = None

    async def install_menu(self) -> None:
        """Set the application's menu (at start). A refusal is logged and the menu tried again with a later callback
        (WeCom's older page wants the application in callback mode first, which the console sets after the bot
        answered its URL check); the typed entries work meanwhile."""
        self._menu_tried = self._env.now()
        try:
            await self._api.create_menu(menu(self._catalogues, self._env.settings.default_language))
        except WeComError as exc:
            log.warning("the WeCom application's menu was not set: %s", exc)
            return
        self._menu_set = True

    async def handle(self, userid: str, person: User, data: dict[str, Any]) -> bool:
        """Answer a menu tap or a typed entry; False when the callback is not one (someone else answers it)."""
        if not self._menu_set and (self._menu_tried is None or self._env.now() - self._menu_tried >= MENU_RETRY):
            await self.install_menu()
        if (entry := entry_of(data)) is None:
            return False
        key, args = entry
        actor = Actor(person.id, self._roles_of(userid, person))
        lang = person.language
        answers = {
            PENDING: self._pending,
            CASES: self._cases,
            STATS: self._stats,
            EXPORT: self._export,
            LINK: self._link,
            HELP: self._help,
            REPORT: self._report,
            GRANT: self._grant,
            REVOKE: self._revoke,
        }
        await answers[key](userid, lang, actor, args)
        return True

    def _t(self, language: str, key: str, **values: object) -> str:
        return render.text(self._catalogues, language, key, **values)

    async def _need(self, userid: str, lang: str, role: Role) -> None:
        """A member without the role an entry takes: which role, and whom to ask."""
        await self._say(userid, self._t(lang, "wecom.desk.need_role", role=self._t(lang, f"role.{role.value}")))

    async def _pending(self, userid: str, lang: str, actor: Actor, _args: list[str]) -> None:
        """待审: what waits, and the oldest wishes' cards again."""
        try:
            queue = await review_queue.send_again(self._env, actor)
        except NotAllowed:
            await self._need(userid, lang, Role.COORDINATOR)
            return
        if not queue.wishes and not queue.applications:
            await self._say(userid, self._t(lang, "wecom.desk.pending_empty"))
            return
        refs = "、".join(queue.sent_again + queue.applicants_again) or "—"
        await self._say(
            userid,
            self._t(lang, "wecom.desk.pending", wishes=queue.wishes, applications=queue.applications, refs=refs),
        )

    async def _cases(self, userid: str, lang: str, actor: Actor, _args: list[str]) -> None:
        """案件: coordinators get every department's open cases (as Telegram's /cases shows them); department
        members the open cases of their departments."""
        if actor.is_coordinator:
            groups = await department_actions.open_cases_overview(self._env, actor)

            def plain(key: str, **values: object) -> str:
                return self._t(lang, key, **values)

            notice = case_overview.overview(
                plain, self._env.now(), self._env.settings.tz, groups, more="wecom.case.overview_more"
            )
            await self._say(userid, render.clip(render.render_notice(self._catalogues, lang, notice).text))
        if Role.DEPARTMENT not in actor.roles:
            if not actor.is_coordinator:
                await self._need(userid, lang, Role.DEPARTMENT)
            return
        found = await case_actions.open_cases_of_member(self._env, actor)
        if not found:
            await self._say(userid, self._t(lang, "wecom.desk.cases_empty"))
            return
        tz = self._env.settings.tz
        lines = [self._t(lang, "wecom.desk.cases_title", count=len(found))]
        for view in found[:CASES_SHOWN]:
            lines.append(
                self._t(
                    lang,
                    "wecom.desk.case_line",
                    ref=view.ref,
                    department=view.department,
                    status=self._t(lang, "wecom.desk.case_waiting")
                    if view.case.status == CaseStatus.SENT
                    else self._t(lang, "wecom.desk.case_taken", name=view.acknowledged_by or "—"),
                    due=view.case.resolve_due_at.astimezone(tz).strftime("%m-%d %H:%M"),
                    summary=view.case.summary[:40],
                )
            )
        await self._say(userid, render.clip("\n".join(lines)))

    async def _stats(self, userid: str, lang: str, actor: Actor, args: list[str]) -> None:
        """统计 [7天|30天|全部]: the figures as text, then the chart as an image."""
        if not may(actor.roles, "stats"):
            await self._need(userid, lang, Role.COORDINATOR)
            return
        period = parse_period(args[0] if args else None)
        since = period_start(period, self._env.now())
        async with self._env.db.read() as conn:
            figures = await stats.figures(conn, period, since)
        centre = await activity_actions.figures_for(self._env, since)

        def fill(key: str, **values: object) -> str:
            return self._t(lang, key, **values)

        known = self._catalogues.keys(lang)
        text = "\n".join(
            (
                figures_text.stats_text(fill, known, figures) + "\n\n" + fill("wecom.stats.other_periods"),
                fill("activity.figures", **centre.values()),
            )
        )
        await self._say(userid, render.clip(text))
        chart = await asyncio.to_thread(figures_text.stats_chart, fill, fill, known, figures)
        try:
            media_id = await self._api.upload_media("image", "stats.png", chart)
            await self._api.send(userid, "image", {"media_id": media_id})
        except WeComError as exc:
            log.warning("the stats chart did not reach a WeCom member: %s", exc)

    async def _export(self, userid: str, lang: str, actor: Actor, args: list[str]) -> None:
        """导出 KIND [FROM [TO]]: the CSV as a file message; without a kind, how to ask for one."""
        if not may(actor.roles, "export"):
            await self._need(userid, lang, Role.COORDINATOR)
            return
        tz = self._env.settings.tz
        try:
            kind, since, until = parse_export(args, self._env.now(), tz)
        except ExportError as error:
            await self._say(userid, self._t(lang, USAGE if error.reason == "export.usage" else error.reason))
            return
        if kind is None:
            await self._say(userid, self._t(lang, USAGE))
            return
        first_day, last_day = local_range(since, until, tz)
        first, last = first_day.isoformat(), last_day.isoformat()
        columns = columns_for(kind, with_phones=True)  # coordinators only (checked above)
        export = await exports.export_file(
            self._env, kind, since, until, columns, f"tongxin-{kind}-{first}-{last}.csv", limit_bytes=FILE_MAX_BYTES
        )
        try:
            if export.path is None:
                size = round(export.size / 1024 / 1024)
                await self._say(userid, self._t(lang, "wecom.desk.export_too_large", rows=export.rows, size=size))
                return
            media_id = await self._api.upload_media("file", export.filename, export.path)
            await self._api.send(userid, "file", {"media_id": media_id})
            kind_name = self._t(lang, f"export.kind.{kind}")
            caption = self._t(lang, "export.caption", kind=kind_name, rows=export.rows, first=first, last=last)
            await self._say(userid, caption + ("\n" + self._t(lang, "export.zipped") if export.zipped else ""))
        except WeComError as exc:
            log.warning("an export did not reach a WeCom member: %s", exc)
            await self._say(userid, self._t(lang, "wecom.desk.export_failed"))
        finally:
            export.cleanup()

    async def _report(self, userid: str, lang: str, actor: Actor, args: list[str]) -> None:
        """月报 [month]: the month's figures as text, then the PDF as a file message (as /report sends it)."""
        try:
            figures = await report_actions.month_report(self._env, actor, "".join(args) or None)
        except NotAllowed:
            await self._need(userid, lang, Role.COORDINATOR)
            return
        except ReportMonthError as error:
            key = "wecom.report.bad_month" if error.reason == "report.bad_month" else error.reason
            await self._say(userid, self._t(lang, key))
            return
        if figures.empty:
            await self._say(userid, self._t(lang, "report.empty", month=figures.month.label))
            return

        def fill(key: str, **values: object) -> str:
            return self._t(lang, key, **values)

        await self._say(userid, render.clip(report_words.figures_text(fill, fill, figures)))
        settings = self._env.settings
        try:
            pdf = await asyncio.to_thread(
                report_words.pdf, fill, settings.tz, self._env.now(), figures, settings.certificate_font
            )
        except OSError:
            log.exception("cannot draw the report of %s with font %s", figures.month.label, settings.certificate_font)
            await self._say(userid, self._t(lang, "report.error.font"))
            return
        try:
            media_id = await self._api.upload_media("file", report_words.filename(figures), pdf)
            await self._api.send(userid, "file", {"media_id": media_id})
        except WeComError as exc:
            log.warning("a monthly report did not reach a WeCom member: %s", exc)
            await self._say(userid, self._t(lang, "wecom.desk.export_failed"))

    async def _grant(self, userid: str, lang: str, actor: Actor, args: list[str]) -> None:
        """授权 [number|userid role]: the members to choose from, or the confirmation of one grant."""
        await self._role_change(userid, lang, actor, args, GRANT)

    async def _revoke(self, userid: str, lang: str, actor: Actor, args: list[str]) -> None:
        """撤销 number|userid role: the confirmation of taking a role away."""
        await self._role_change(userid, lang, actor, args, REVOKE)

    def _roles_named(self, lang: str) -> str:
        joined = "、" if lang.startswith("zh") else ", "
        return joined.join(self._role_word(lang, role) for role in sorted(GRANTABLE_BY_ADMIN, key=lambda r: r.value))

    def _role_word(self, lang: str, role: Role) -> str:
        return ROLE_WORD_ZH.get(role.value, role.value) if lang.startswith("zh") else role.value

    async def _role_change(self, userid: str, lang: str, actor: Actor, args: list[str], verb: str) -> None:
        if not may(actor.roles, "grant" if verb == GRANT else "revoke"):
            await self._need(userid, lang, Role.ADMIN)
            return
        try:
            members = await self._api.visible_members(MEMBERS_SHOWN + 1)
        except WeComError as exc:
            log.warning("the application's members could not be read: %s", exc)
            await self._say(userid, self._t(lang, "wecom.grant.unreadable", code=exc.errcode))
            return
        if not args:
            await self._list_members(userid, lang, members)
            return
        if len(args) != 2:
            await self._say(userid, self._t(lang, f"wecom.{verb.lower()}.usage", roles=self._roles_named(lang)))
            return
        who, role_word = args
        role_value = ROLE_WORDS.get(role_word, role_word.lower())
        if role_value not in {role.value for role in GRANTABLE_BY_ADMIN}:
            await self._say(
                userid, self._t(lang, "wecom.grant.bad_role", word=role_word, roles=self._roles_named(lang))
            )
            return
        # A number is the list's number (what the admin sees); anything else a userid.
        chosen: tuple[str, str] | None = None
        if who.isdecimal() and len(who) <= 3:
            if 1 <= int(who) <= min(len(members), MEMBERS_SHOWN):
                chosen = members[int(who) - 1]
        elif WECOM_USERID.fullmatch(who):
            chosen = next((m for m in members if m[0].lower() == who.lower()), None)
            if chosen is None and len(members) > MEMBERS_SHOWN:
                chosen = await self._visible(who)
        if chosen is None:
            await self._say(userid, self._t(lang, "wecom.grant.not_visible", who=who[:64]))
            return
        role = Role(role_value)
        note = json.dumps({"role": role.value, "userid": chosen[0], "name": chosen[1]}, ensure_ascii=False)
        async with self._env.db.write() as conn:
            await wecom_store.ask(
                conn, userid, ROLE_QUESTION[verb], 0, now=self._env.now(), wait=CONFIRM_WAIT, note=note
            )
        await self._say(
            userid,
            self._t(
                lang,
                f"wecom.{verb.lower()}.confirm",
                name=chosen[1],
                userid=chosen[0],
                role=self._t(lang, f"staff.role.{role.value}"),
            ),
        )

    async def _visible(self, who: str) -> tuple[str, str] | None:
        """A member past the listed ones, looked for in the whole visible range."""
        try:
            everyone = await self._api.visible_members(VISIBLE_MAX)
        except WeComError:
            return None
        return next((m for m in everyone if m[0].lower() == who.lower()), None)

    async def _list_members(self, userid: str, lang: str, members: list[tuple[str, str]]) -> None:
        if not members:
            await self._say(userid, self._t(lang, "wecom.grant.nobody"))
            return
        shown = members[:MEMBERS_SHOWN]
        lines = [
            self._t(lang, "wecom.grant.member_line", n=n, name=name, userid=member)
            for n, (member, name) in enumerate(shown, start=1)
        ]
        text = self._t(lang, "wecom.grant.members", lines="\n".join(lines), roles=self._roles_named(lang))
        if len(members) > MEMBERS_SHOWN:
            text += "\n" + self._t(lang, "wecom.grant.more", shown=MEMBERS_SHOWN)
        await self._say(userid, render.clip(text))

    async def role_answer(self, userid: str, person: User, question: wecom_store.Question, text: str) -> None:
        """The answer to a role change's confirmation: 确认 changes the role (as /grant or /revoke would); anything
        else changes nothing (取消 was taken before: `channels.wecom.work`)."""
        lang = person.language
        async with self._env.db.write() as conn:
            if not await wecom_store.forget_question(conn, userid):
                return  # another instance took the answer first
        if text.strip().lower() not in CONFIRM_WORDS:
            # Anything but 确认 drops the change: a desk entry (授权 again, 统计 …) is answered as itself.
            typed = {"MsgType": "text", "Content": text}
            if entry_of(typed) is None or not await self.handle(userid, person, typed):
                await self._say(userid, self._t(lang, "wecom.grant.not_confirmed"))
            return
        grant = question.kind == ROLE_QUESTION[GRANT]
        try:
            asked = json.loads(question.note or "")
            role, member, name = Role(asked["role"]), str(asked["userid"]), str(asked["name"])
        except (ValueError, KeyError, TypeError):
            log.warning("a role confirmation could not be read: %r", question.note)
            return
        actor = Actor(person.id, self._roles_of(userid, person))
        now = self._env.now()
        async with self._env.db.write() as conn:
            target = await people.person_for_identity(
                conn,
                WECOM,
                member,
                first_name=name[:64],
                language=self._env.settings.default_language,
                now=now,
            )
        action = staff_actions.grant_role if grant else staff_actions.revoke_role
        try:
            outcome = await action(self._env, actor, target.id, role)
        except NotAllowed:
            await self._need(userid, lang, Role.ADMIN)
            return
        role_name = self._t(lang, f"staff.role.{role.value}")
        if outcome.changed:
            key = "wecom.grant.done" if grant else "wecom.revoke.done"
        else:
            key = "staff.already_has" if grant else "staff.did_not_have"
        await self._say(
            userid, self._t(lang, key, name=name, userid=member, role=role_name, person=person_ref(target.id))
        )

    async def _link(self, userid: str, lang: str, _actor: Actor, args: list[str]) -> None:
        """绑定 123456: the code from Telegram's /link; without one, how to get it."""
        code = args[0] if args else ""
        if LINK_CODE.fullmatch(code) is None:
            await self._say(userid, self._t(lang, "wecom.desk.link_how"))
            return
        redeemed = await links.redeem(self._env, code, channel=WECOM, external_id=userid)
        await self._say(userid, self._t(lang, f"wecom.link.{redeemed.outcome}", minutes=redeemed.minutes))

    async def _help(self, userid: str, lang: str, _actor: Actor, _args: list[str]) -> None:
        """帮助: what the desk does."""
        await self._say(userid, self._t(lang, "wecom.desk.help"))
