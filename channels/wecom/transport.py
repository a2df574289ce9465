"""The outbox sender's WeCom side: notices to staff members as application messages (`message/send`,
developer.work.weixin.qq.com/document/path/90236). A WeCom application may message its members at any hour (no
48-hour window): urgent notices go out at once, night or day.

A wish waiting for review (`pending.notice_new_wish`) goes out as a review card with 通过 / 退回 buttons
(`channels.wecom.cards`), while the wish still waits; a case sent to a department (`case.new`, urgent: at any
hour) as a card with 签收, and so is the reminder its members get when nobody took it in time
(`case.overdue_member`, urgent too: an escalation at 02:00 reaches them at 02:00); a new volunteer application
(`pending.notice_new_volunteer`) as a card with the profile and 通过 / 退回; the scheduler's alert of an open wish
nobody claimed (`remind.unclaimed`) as a card with 吹哨; a tip waiting for the editors (`review.new_tip`,
`review.tip_answered`) as its photos (image messages) and a card with the decisions its status allows; every other
notice as a text message (the WeChat renderer's plain text: WeCom's text message takes the same plain text, up to
2048 bytes).

Pacing (频率限制, path/90312, "发送应用消息频率"): an application may send one member at most 30 messages a
minute — WeCom drops the rest without a word — so the transport holds a member's 31st message of a minute back
until the minute has passed (`Held`, not counted as an attempt). The application's daily total (its seat limit
× 200 recipients a day) is WeCom's to count: past it WeCom answers 45009, and the sender slows down.

WeCom's answers become the channel-neutral failures of `channels.delivery`: a userid WeCom does not know, or one
outside the application's visible range, is unreachable; 45009/45033 slow down; a busy WeCom or a network failure
is retried; anything else is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from actions.buttons import Act
from actions.messages import Lane, Notice
from channels.delivery import Held, Sent
from channels.tencent_api import failure as tencent_failure
from channels.wechat import render
from channels.wecom.api import NOT_MEMBER, RATE_LIMITED, WeComApi, WeComError
from channels.wecom.cards import (
    APPLICATION,
    CASE,
    REVIEW,
    UNCLAIMED,
    application_key,
    case_key,
    decision_card,
    whistle_key,
    wish_key,
)
from channels.wecom.work import editor_card
from core.i18n import Catalogues
from rules.tips import actions_for
from rules.wishes import WishStatus, parse_wish_ref
from storage import applications, people, tips, volunteers, wishes
from storage import wecom as wecom_cards
from storage.db import Database
from storage.errors import NotFound
from storage.people import WECOM

log = logging.getLogger(__name__)

PER_MEMBER_MINUTE = 30  # messages one application may send one member in a minute (path/90312)
MINUTE = dt.timedelta(minutes=1)
TEXT_BYTES = 2048  # a text message's content, at most 2048 bytes (path/90236)
WECOM_VARIANT = ".wecom"  # the suffix of a catalogue key's WeCom wording of a notice
IMAGE_BYTES = 2 * 1024 * 1024  # an image uploaded for a message: JPG or PNG, at most 2 MB (path/90253)
WISH_NOTICE = "pending.notice_new_wish"  # sent as a review card
CASE_NOTICE = "case.new"  # sent as a case card with 签收
APPLICATION_NOTICE = "pending.notice_new_volunteer"  # sent as an application card with 通过 / 退回
UNCLAIMED_NOTICE = "remind.unclaimed"  # sent as a card with 吹哨
TIP_NOTICES = frozenset({"review.new_tip", "review.tip_answered"})  # sent as an editor's card of the tip
OVERDUE_NOTICE = "case.overdue_member"  # a case nobody took in time, to its members again: a card with 签收


def failure(exc: WeComError) -> Exception:
    """WeCom's error as the sender understands it."""
    return tencent_failure(exc, api="wecom", unreachable=NOT_MEMBER, rate_limited=RATE_LIMITED)


class WeComTransport:
    """Sends outbox notices to WeCom members (an address is the member's userid)."""

    channel = WECOM
    name = "WeCom"

    def __init__(
        self,
        api: WeComApi,
        catalogues: Catalogues,
        db: Database,
        now: Callable[[], dt.datetime],
        *,
        photo_bytes: Callable[[int], Awaitable[bytes | None]] | None = None,
    ) -> None:
        self._api = api
        self._photo_bytes = photo_bytes
        self._catalogues = catalogues
        self._db = db
        self._now = now
        self._sent: dict[str, deque[dt.datetime]] = {}  # userid → when this minute's messages went

    async def take_turn(self, address: str, lane: Lane, *, adds_message: bool = True) -> None:
        """WeCom's per-member pace is kept in `send` (a held message gives its slot back to the sender)."""

    async def withdraw(self, address: str, sent: Sent) -> bool:
        """Application messages are not taken back here (recall exists, but no notice needs it yet)."""
        return False

    def _pace(self, address: str) -> None:
        """Count one message to this member; `Held` when it would be their 31st within a minute."""
        now = self._now()
        times = self._sent.setdefault(address, deque())
        while times and now - times[0] >= MINUTE:
            times.popleft()
        if len(times) >= PER_MEMBER_MINUTE:
            wait = MINUTE - (now - times[0])
            raise Held("wecom: 30 messages a minute to one member", retry_in=max(wait, dt.timedelta(seconds=1)))
        times.append(now)

    async def send(self, address: str, language: str, notice: Notice, lane: Lane) -> None:
        """Deliver the notice as a card or a text message (see the module docstring)."""
        if notice.delete:
            return
        if notice.key == WISH_NOTICE:
            card = await self._review_card(address, language, notice)
            if card is None:
                return  # the wish no longer waits: nothing to decide
        elif notice.key in (CASE_NOTICE, OVERDUE_NOTICE):
            card = await self._case_card(address, language, notice)
        elif notice.key == APPLICATION_NOTICE:
            card = await self._application_card(address, language, notice)
        elif notice.key == UNCLAIMED_NOTICE:
            card = await self._whistle_card(address, language, notice)
        elif notice.key in TIP_NOTICES:
            card = await self._tip_card(address, language, notice)
            if card is not None:
                await self._tip_photos(address, card[0])
        else:
            card = None
        self._pace(address)
        try:
            if card is not None:
                subject, content = card
                answer = await self._api.send(address, "template_card", content)
                code = str(answer.get("response_code") or "")
                if code:
                    async with self._db.write() as conn:
                        await wecom_cards.card_sent(conn, subject, address, code, now=self._now())
            else:
                await self._api.send(address, "text", {"content": self._text(language, notice)})
        except WeComError as exc:
            raise failure(exc) from exc

    def _text(self, language: str, notice: Notice) -> str:
        """The notice as text; in WeCom's own wording where the catalogue has one (`KEY.wecom`: staff work here,
        where WeChat's wording sends them to Telegram)."""
        if self._catalogues.has(language, notice.key + WECOM_VARIANT):
            notice = dataclasses.replace(notice, key=notice.key + WECOM_VARIANT)
        return render.clip(render.render_notice(self._catalogues, language, notice).text, TEXT_BYTES)

    async def _person_id(self, address: str) -> int | None:
        async with self._db.read() as conn:
            person = await people.find_person(conn, WECOM, address)
        return person.id if person is not None else None

    async def _review_card(self, address: str, language: str, notice: Notice) -> tuple[str, dict[str, object]] | None:
        """The review card of a new wish waiting for review (None: it waits no longer)."""
        ref_no = parse_wish_ref(str(notice.values.get("ref", "")))
        if ref_no is None:
            return None
        async with self._db.read() as conn:
            try:
                wish = await wishes.get_wish_by_ref(conn, ref_no)
            except NotFound:
                return None
        person_id = await self._person_id(address)
        if wish.status != WishStatus.PENDING_REVIEW or person_id is None:
            return None
        t = self._catalogues.text
        content = decision_card(
            REVIEW,
            self._catalogues,
            language,
            subject_id=wish.id,
            person_id=person_id,
            body=t(language, "wecom.card.wish_body", description=wish.description)[:120],
            now=self._now(),
            desc=t(language, "wecom.card.wish_desc", category=t(language, f"category.{wish.category}")),
            ref=str(notice.values["ref"]),
        )
        return wish_key(wish.id), content

    async def _case_card(self, address: str, language: str, notice: Notice) -> tuple[str, dict[str, object]] | None:
        """A new case's card with 签收 (None: the notice names no case: sent as text)."""
        case_ids = [b.subject for row in notice.buttons for b in row if b.act is Act.CASE_ACK and b.subject]
        person_id = await self._person_id(address)
        if not case_ids or person_id is None:
            return None
        case_id = case_ids[0]
        ref = str(notice.values.get("ref", ""))
        text = self._text(language, notice)
        content = decision_card(
            CASE,
            self._catalogues,
            language,
            subject_id=case_id,
            person_id=person_id,
            body=text,
            now=self._now(),
            ref=ref,
        )
        if notice.key == OVERDUE_NOTICE:  # the card says it is late, not new
            title = self._catalogues.text(language, "wecom.card.case_overdue_title", ref=ref)
            content["main_title"]["title"] = title[:26]
        return case_key(case_id), content

    async def _application_card(
        self, address: str, language: str, notice: Notice
    ) -> tuple[str, dict[str, object]] | None:
        """A volunteer application's card with 通过 / 退回 and the profile the person entered (None: sent as text)."""
        application_id = notice.values.get("application")
        person_id = await self._person_id(address)
        if not isinstance(application_id, int) or person_id is None:
            return None
        async with self._db.read() as conn:
            try:
                application = await applications.get_application(conn, application_id)
            except NotFound:
                return None
            profile = await volunteers.find_volunteer(conn, application.user_id)
        t = self._catalogues.text
        if profile is None:
            text = t(language, "wecom.card.application_bare", name=str(notice.values.get("name", "")))
        else:
            text = t(
                language,
                "wecom.card.application_body",
                name=profile.name,
                phone=profile.phone or t(language, "wish.no_phone"),
                skills="、".join(t(language, f"category.{key}") for key in sorted(profile.skills)),
                area=profile.area or t(language, "wish.area_unknown"),
            )
        content = decision_card(
            APPLICATION,
            self._catalogues,
            language,
            subject_id=application_id,
            person_id=person_id,
            body=text,
            now=self._now(),
        )
        return application_key(application_id), content

    async def _whistle_card(self, address: str, language: str, notice: Notice) -> tuple[str, dict[str, object]] | None:
        """An open wish nobody claimed, with 吹哨 (None: the notice names no wish: sent as text)."""
        wish_ids = [b.subject for row in notice.buttons for b in row if b.act is Act.WHISTLE and b.subject]
        person_id = await self._person_id(address)
        if not wish_ids or person_id is None:
            return None
        content = decision_card(
            UNCLAIMED,
            self._catalogues,
            language,
            subject_id=wish_ids[0],
            person_id=person_id,
            body=self._text(language, notice),
            now=self._now(),
            ref=str(notice.values.get("ref", "")),
        )
        return whistle_key(wish_ids[0]), content

    async def _tip_card(self, address: str, language: str, notice: Notice) -> tuple[str, dict[str, object]] | None:
        """A tip waiting for an editor, as a card with the decisions its status allows (None: sent as text)."""
        tip_ids = [b.subject for row in notice.buttons for b in row if b.act is Act.REVIEW_VIEW and b.subject]
        person_id = await self._person_id(address)
        if not tip_ids or person_id is None:
            return None
        async with self._db.read() as conn:
            try:
                tip = await tips.get_tip(conn, tip_ids[0])
            except NotFound:
                return None
        if not actions_for(tip.status):
            return None
        subject, content = editor_card(self._catalogues, language, tip, person_id, self._now())
        return subject, content

    async def _tip_photos(self, address: str, subject: str) -> None:
        """The tip's photos as image messages before its card, so the editor sees what they decide on (each uploaded
        as a temporary image, `media/upload` path/90253, then sent, path/90236; WeCom takes JPG or PNG of at most
        `IMAGE_BYTES`: a larger one, or one with no bytes left (erased), is counted on the card and not sent)."""
        if self._photo_bytes is None:
            return
        tip_id = int(subject.split(":")[1])
        async with self._db.read() as conn:
            tip = await tips.get_tip(conn, tip_id)
        for number, item in enumerate((m for m in tip.media if m.kind == "photo"), start=1):
            content = await self._photo_bytes(item.media_id)
            if content is None or len(content) > IMAGE_BYTES:
                continue
            self._pace(address)
            try:
                media_id = await self._api.upload_media("image", f"T-{tip_id:04d}-{number}.jpg", content)
                await self._api.send(address, "image", {"media_id": media_id})
            except WeComError as exc:
                raise failure(exc) from exc
