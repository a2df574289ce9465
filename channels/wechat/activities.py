"""Volunteers' activities and certificate on the service account: WeChat's rendering of the conversations written
once (`conversations/activities.py`, `conversations/certificate.py`), the same rules and words as Telegram's
`/activities`, `/checkin` and `/certificate`.

- 活动 (the volunteer menu's button, or the word): a page of the upcoming activities (`conversations.pages.Page`,
  as `channels.wechat.pages` shows every list), a 报名 / 取消报名 item per activity and 上一页 / 下一页; 报名 takes
  a place or the waitlist; 取消报名 gives it up, and the first one waiting is told by notice
  (`actions.activities.cancel`).
- A scan of an activity's check-in QR code (its scene `ck_<code>`, `WeChatChannel.checkin_qr`: the organizer gets
  it on Telegram next to Telegram's) starts the check-in (`conversations.activities.CheckIn`): the location is
  asked when the activity has one (WeChat's location message), then checked in or out by the same rules.
- 证明 (the button, or the word, with a year or 全部 as Telegram's argument): the certificate drawn as an image
  (`rules.certificate_image`: customer-service messages carry no files), kept as the person's media and uploaded
  as temporary media once within its life (`channels.wechat.uploads`), sent after its caption and verification
  link (`Settings.wechat_public_url` + `/verify/<code>`, the callback server's page), or without a public address
  the words to send to verify it.
- 核验 <code> (or /verify <code>): what the certificate with that code says.

Not here yet: the participants' photos after the hours are confirmed (Telegram's 📷 form, `handlers/checkin.py`);
the notice's item says so.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import TYPE_CHECKING

from actions import certificates as certificate_actions
from actions.buttons import Act, Press
from channels.wechat import render, roles, steps
from channels.wechat.render import Reply
from conversations import activities as talk
from conversations.base import Outcome, Say
from conversations.certificate import Plain, caption, text_of, verification
from rules.activities import InvalidInput
from rules.certificate_image import ROWS_SHOWN, render_png
from rules.roles import Role
from storage import media
from storage.errors import NotAllowed

if TYPE_CHECKING:
    from channels.wechat.conversation import _Step

log = logging.getLogger(__name__)

ACTIVITY_WORDS = frozenset({"活动", "志愿活动", "activities", "/activities"})
CERTIFICATE = re.compile(r"^\s*(?:/certificate|证明|志愿证明|服务证明|certificate)(?:\s+(\S{1,8}))?\s*$", re.IGNORECASE)
VERIFY = re.compile(r"^\s*(?:/verify|核验|验证|verify)\s+(\S{1,24})\s*$", re.IGNORECASE)
PRESSES = frozenset({Act.ACTIVITY_SIGN_UP, Act.ACTIVITY_CANCEL, Act.ACTIVITY_PAGE, Act.ACTIVITY_PHOTOS})
CLICKS = frozenset({roles.CLICK_ACTIVITIES, roles.CLICK_CERTIFICATE})


def wanted(text: str) -> str | None:
    """What a typed word asks for: the activities, the certificate (its period word kept), a verification."""
    said = text.strip()
    if said.lower() in ACTIVITY_WORDS:
        return roles.CLICK_ACTIVITIES
    if CERTIFICATE.match(said) or VERIFY.match(said):
        return roles.CLICK_CERTIFICATE
    return None


async def clicked(step: _Step, key: str, text: str = "") -> list[Reply]:
    """活动 / 证明 (a menu button or its word), 核验 <code> (anyone)."""
    step.state = {}
    if (match := VERIFY.match(text)) is not None:
        said = await verification(step.env, match.group(1))
        return steps.replies(step.owner._catalogues, step.lang, Outcome(says=(said,)))
    if Role.VOLUNTEER not in step.actor.roles:
        return [Reply(step.t("wechat.volunteer.only"))]
    if key == roles.CLICK_ACTIVITIES:
        return await listing(step, 0)
    match = CERTIFICATE.match(text)
    return await certificate(step, match.group(1) if match else None)


async def listing(step: _Step, page: int) -> list[Reply]:
    """A page of the upcoming activities, 报名 / 取消报名 each (WeChat's one page renderer)."""
    shown = await talk.listing(step.env, step.actor, page)
    if isinstance(shown, Say):
        return [Reply(steps.words(step.owner._catalogues, step.lang, shown))]
    return step.page(shown)


async def pressed(step: _Step, press: Press) -> list[Reply]:
    """报名 / 取消报名 / a page of the list (from the list or an invitation notice)."""
    step.state = {}
    if press.act == Act.ACTIVITY_PHOTOS:  # under the hours-confirmed notice: Telegram's photo form, not here yet
        return [Reply(step.t("wechat.activity.photos_not_yet"))]
    if press.act == Act.ACTIVITY_PAGE:
        return await listing(step, press.id)
    if press.act == Act.ACTIVITY_SIGN_UP:
        outcome = await talk.sign_up(step.env, step.actor, press.id)
    else:
        outcome = await talk.cancel(step.env, step.actor, press.id)
    return steps.replies(step.owner._catalogues, step.lang, outcome)


async def scanned(step: _Step, code: str) -> list[Reply]:
    """A scan of an activity's check-in QR code: the check-in written once (location first when it has one)."""
    return step.outcome(await talk.CheckIn().start(step.env, step.actor, code))


async def certificate(step: _Step, word: str | None) -> list[Reply]:
    """The certificate as an image, after its caption and how to verify it."""
    env, person = step.env, step.actor.user_id
    assert person is not None
    try:
        period = certificate_actions.period_of(word, env.now(), env.settings.timezone)
        issued = await certificate_actions.issue(env, step.actor, period)
    except InvalidInput as exc:
        return [Reply(step.t(exc.reason))]
    except NotAllowed:
        return [Reply(step.t("error.not_allowed"))]
    cert = issued.certificate
    public = env.settings.wechat_public_url
    link = f"{public}/verify/{cert.code}" if public else ""
    plain = render_plain(step)
    settings = env.settings
    text = text_of(
        plain, issued, tz=settings.tz, issuer=settings.certificate_issuer, link=link or cert.code, rows_shown=ROWS_SHOWN
    )
    said = steps.words(step.owner._catalogues, step.lang, caption(issued))
    how = step.t("wechat.certificate.link", link=link) if link else step.t("wechat.certificate.word", code=cert.code)
    try:
        image = await asyncio.to_thread(render_png, text, env.settings.certificate_font)
    except OSError:
        log.exception("cannot draw certificate %s with font %s", cert.number, env.settings.certificate_font)
        return [Reply(step.t("certificate.error.font", number=cert.number) + "\n" + how)]
    try:
        assert step.owner.uploads is not None, "the channel uploads images"
        row = await keep_image(step, image, person)
        wechat_id = await step.owner.uploads.media_id(row, image)
    except Exception:
        log.warning("a certificate image could not be uploaded to WeChat", exc_info=True)
        return [Reply(said + "\n" + how + "\n" + step.t("wechat.certificate.image_failed"))]
    return [Reply(said + "\n" + how), Reply("", image=wechat_id)]


def render_plain(step: _Step) -> Plain:
    """The catalogue as the certificate's text needs it: a key and values to plain text, in the holder's language
    (the WeChat wording where there is one: the verification line names no Telegram command)."""

    def plain(key: str, /, **values: object) -> str:
        return render.text(step.owner._catalogues, step.lang, key, **values)

    return plain


async def keep_image(step: _Step, content: bytes, owner: int) -> int:
    """Keep the drawn certificate as the holder's media (erased with them; a draft's media is forgotten after 7
    days: `storage.privacy`), so a send that WeChat refused can upload the same bytes again."""
    path = await step.owner.write_file(content, f"certificate-{uuid.uuid4().hex}.png")
    async with step.env.db.write() as conn:
        return await media.add_media(
            conn, kind="photo", channel="file", file_ref=path, now=step.env.now(), draft_of=owner
        )
