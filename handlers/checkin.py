"""On the spot: the organizer's `/checkin` shows a QR image and link of a short-lived code; a volunteer scans it
(`/start ck_<code>`) or types `/checkin <code>`, shares a location when the activity has one, and is checked in
(first use) or out (second use). Afterwards participants send photos for the newsroom (`act:photos`):
photos → Done → consent → one lead per activity.

  checkin:  /checkin (organizer) → QR, end | /checkin CODE or /start ck_CODE → [location →] checked in/out
            (written once: `conversations.activities.CheckIn`, WeChat's too)
  photos:   📷 button → PHOTOS (photos…, Done) → CONSENT (Yes / No)
"""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from actions import activities as activity_actions
from actions.buttons import Act
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from channels.wechat.api import WeChatError
from conversations import activities as activity_talk
from conversations.base import Outcome
from handlers.common import actor_of, expect_press, stale_press, tell
from handlers.conversing import written_once
from rules.activities import InvalidInput, activity_ref, refusal_key
from rules.certificate_pdf import qr_png
from storage.errors import Conflict, NotAllowed, NotFound
from storage.tips import MediaItem

PHOTOS, CONSENT = range(10, 12)
log = logging.getLogger(__name__)
PENDING = "checkin_code"
PHOTO_DRAFT = "activity_photos"
MAX_PHOTOS = 10


def checkin_link(context: TongxinContext, code: str) -> str:
    """The deep link a phone camera opens from the QR image."""
    return f"https://t.me/{context.bot.username}?start=ck_{code}"


async def checkin_command(update: Update, context: TongxinContext) -> Outcome | None:
    """/checkin CODE: use a code (the check-in written once); /checkin alone: the organizer's QR (or how to use
    it), outside the conversation (None)."""
    if (message := update.effective_message) is None:
        return None
    words = context.args or []
    if words:
        return await activity_talk.CheckIn().start(context.env, actor_of(context), words[0])
    found = await activity_actions.checkin_candidates(context.env, actor_of(context))
    if not found:
        await message.reply_text(context.t("checkin.usage"))
        return None
    if len(found) == 1:
        await show_qr(update, context, found[0].id)
        return None
    tz = context.settings.tz
    rows = [
        [
            callbacks.button(
                f"{activity_ref(a.ref_no)} {a.starts_at.astimezone(tz):%m-%d %H:%M} {a.title}", Act.ACTIVITY_CODE, a.id
            )
        ]
        for a in found
    ]
    await message.reply_text(context.t("checkin.which"), reply_markup=InlineKeyboardMarkup(rows))
    return None


async def deep_link(update: Update, context: TongxinContext) -> Outcome | None:
    """/start ck_CODE: the QR image's link."""
    code = (context.args or [""])[0].removeprefix("ck_")
    return await activity_talk.CheckIn().start(context.env, actor_of(context), code)


async def show_qr(update: Update, context: TongxinContext, activity_id: int) -> None:
    """Send the QR image of a fresh code, with the link and the typed form, and a button to the list."""
    if (message := update.effective_message) is None:
        return
    try:
        code = await activity_actions.show_code(context.env, actor_of(context), activity_id)
    except (NotAllowed, NotFound) as exc:
        await tell(update, context, refusal_key(exc))
        return
    except Conflict:
        await tell(update, context, "roster.already_confirmed")
        return
    except InvalidInput as exc:
        await tell(update, context, exc.reason)
        return
    link = checkin_link(context, code.code)
    ref = activity_ref(code.activity.ref_no)
    caption = context.t(
        "checkin.qr",
        ref=ref,
        title=html.escape(code.activity.title),
        code=code.code,
        link=link,
        until=code.expires_at.astimezone(context.settings.tz).strftime("%H:%M"),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [callbacks.button(context.plain("checkin.button.new_code"), Act.ACTIVITY_CODE, code.activity.id)],
            [callbacks.button(context.plain("activity.button.roster", ref=ref), Act.ACTIVITY_ROSTER, code.activity.id)],
        ]
    )
    await message.reply_photo(
        InputFile(qr_png(link), filename=f"checkin-{ref}.png"),
        caption=caption,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )
    await send_wechat_qr(update, context, code)


async def send_wechat_qr(update: Update, context: TongxinContext, code: activity_actions.Code) -> None:
    """With a WeChat service account: the same code as the account's parametric QR code (scene `ck_<code>`, living
    as long as the code), for volunteers on WeChat to scan with WeChat; as a photo the organizer can show."""
    channel = context.bot_data.wechat
    if channel is None or (chat := update.effective_chat) is None:
        return
    try:
        image = await channel.checkin_qr(code.code, code.expires_at)
    except WeChatError:  # WeChat refused or is unreachable: the Telegram code above still works
        log.warning("the WeChat QR code of a check-in code could not be made", exc_info=True)
        await context.bot.send_message(chat.id, context.t("checkin.wechat_qr_failed"))
        return
    until = code.expires_at.astimezone(context.settings.tz).strftime("%H:%M")
    caption = context.t("checkin.wechat_qr", ref=activity_ref(code.activity.ref_no), until=until)
    await context.bot.send_photo(chat.id, image, caption=caption, parse_mode=ParseMode.HTML)


async def new_code_pressed(update: Update, context: TongxinContext) -> None:
    """🔄 New code on the QR screen."""
    if (press := await expect_press(update, context, Act.ACTIVITY_CODE)) is None:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    await show_qr(update, context, press.id)


# -- photos for the newsroom ---------------------------------------------------------------------------------------


async def photos_pressed(update: Update, context: TongxinContext) -> int:
    """📷 Send photos (after the hours were confirmed): ask for them."""
    if (press := await expect_press(update, context, Act.ACTIVITY_PHOTOS)) is None:
        return ConversationHandler.END
    try:
        activity = await activity_actions.may_send_photos(context.env, actor_of(context), press.id)
    except (NotAllowed, NotFound) as exc:
        await tell(update, context, refusal_key(exc))
        return ConversationHandler.END
    if context.user_data is not None:
        context.user_data[PHOTO_DRAFT] = {"activity": activity.id, "photos": []}
    if update.callback_query is not None:
        await update.callback_query.answer()
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            context.t("activity.photos.ask", ref=activity_ref(activity.ref_no), limit=MAX_PHOTOS),
            reply_markup=InlineKeyboardMarkup(
                [[callbacks.button(context.plain("activity.photos.button_done"), Act.ACTIVITY_PHOTOS_DONE)]]
            ),
        )
    return PHOTOS


async def photo_received(update: Update, context: TongxinContext) -> int:
    """One photo: keep it (up to MAX_PHOTOS)."""
    if (message := update.effective_message) is None or not message.photo:
        return PHOTOS
    draft = (context.user_data or {}).get(PHOTO_DRAFT)
    if not isinstance(draft, dict):
        return ConversationHandler.END
    photos: list[list[str]] = draft["photos"]
    if len(photos) >= MAX_PHOTOS:
        await message.reply_text(context.t("activity.photos.too_many", limit=MAX_PHOTOS))
        return PHOTOS
    best = message.photo[-1]
    photos.append([best.file_id, best.file_unique_id])
    if context.user_data is not None:
        context.user_data[PHOTO_DRAFT] = draft
    if message.media_group_id is None or len(photos) == 1:
        await message.reply_text(context.t("activity.photos.got", n=len(photos)))
    return PHOTOS


async def photos_done(update: Update, context: TongxinContext) -> int:
    """Done: ask for consent to share them with the newsroom."""
    if (query := update.callback_query) is None:
        return PHOTOS
    draft = (context.user_data or {}).get(PHOTO_DRAFT)
    if not isinstance(draft, dict) or not draft["photos"]:
        await query.answer(context.plain("activity.photos.none"), show_alert=True)
        return PHOTOS
    await query.answer()
    await query.edit_message_reply_markup(None)
    activity_id = int(draft["activity"])
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            context.t("activity.photos.consent", n=len(draft["photos"])),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        callbacks.button(context.plain("lead.button_yes"), Act.ACTIVITY_SHARE_YES, activity_id),
                        callbacks.button(context.plain("lead.button_no"), Act.ACTIVITY_SHARE_NO, activity_id),
                    ]
                ]
            ),
        )
    return CONSENT


async def consent_given(update: Update, context: TongxinContext) -> int:
    """Yes / No to sharing: on yes the photos join the activity's newsroom lead."""
    press = await expect_press(update, context, Act.ACTIVITY_SHARE_YES, Act.ACTIVITY_SHARE_NO)
    if press is None or (query := update.callback_query) is None:
        return CONSENT
    draft = (context.user_data or {}).pop(PHOTO_DRAFT, None)
    if not isinstance(draft, dict) or int(draft["activity"]) != press.id:
        await stale_press(update, context)
        return ConversationHandler.END
    await query.answer()
    if press.act is Act.ACTIVITY_SHARE_NO:
        await query.edit_message_text(context.t("activity.photos.kept"))
        return ConversationHandler.END
    media = [MediaItem("photo", file_id, unique) for file_id, unique in draft["photos"]]
    try:
        await activity_actions.share_photos(context.env, actor_of(context), press.id, media)
    except (NotAllowed, NotFound) as exc:
        await tell(update, context, refusal_key(exc))
        return ConversationHandler.END
    await query.edit_message_text(context.t("activity.photos.shared"))
    return ConversationHandler.END


async def photos_expected(update: Update, context: TongxinContext) -> None:
    """Anything but a photo while photos are expected (or a message while the consent question waits)."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(context.t("activity.photos.expected"))


async def photos_cancelled(update: Update, context: TongxinContext) -> int:
    """/cancel while sending photos."""
    if context.user_data is not None:
        context.user_data.pop(PHOTO_DRAFT, None)
    if update.effective_message is not None:
        await update.effective_message.reply_text(context.t("cancel.done"))
    return ConversationHandler.END


def checkin_conversation() -> ConversationHandler[TongxinContext]:
    """Using a check-in code, written once in conversations/activities.py (`CheckIn`: the location asked when the
    activity has one, the same rules as on WeChat)."""
    return written_once(
        activity_talk.CheckIn(),
        lambda context: activity_talk.CheckIn(),
        key=PENDING,
        entry_points=[
            (CommandHandler("checkin", stale_press), checkin_command),
            (CommandHandler("start", stale_press, filters=filters.Regex(r"^/start ck_")), deep_link),
        ],
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, Any]]:
    """The check-in conversation (a location step when the activity has one) and the photos conversation."""
    return [
        checkin_conversation(),
        ConversationHandler(
            entry_points=[CallbackQueryHandler(photos_pressed, pattern=callbacks.pattern(Act.ACTIVITY_PHOTOS))],
            states={
                PHOTOS: [
                    MessageHandler(filters.PHOTO, photo_received),
                    CallbackQueryHandler(photos_done, pattern=callbacks.pattern(Act.ACTIVITY_PHOTOS_DONE)),
                ],
                CONSENT: [
                    CallbackQueryHandler(
                        consent_given, pattern=callbacks.pattern(Act.ACTIVITY_SHARE_YES, Act.ACTIVITY_SHARE_NO)
                    )
                ],
            },
            fallbacks=[
                CommandHandler("cancel", photos_cancelled),
                MessageHandler(filters.ALL & ~filters.COMMAND, photos_expected),
            ],
            allow_reentry=True,
            persistent=True,
            name="activity_photos",
        ),
    ]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """The QR screen's New code button, and stale presses of the photo buttons."""
    return [
        CallbackQueryHandler(new_code_pressed, pattern=callbacks.pattern(Act.ACTIVITY_CODE)),
        CallbackQueryHandler(
            stale_press,
            pattern=callbacks.prefix_pattern(
                Act.ACTIVITY_CODE,
                Act.ACTIVITY_PHOTOS,
                Act.ACTIVITY_PHOTOS_DONE,
                Act.ACTIVITY_SHARE_YES,
                Act.ACTIVITY_SHARE_NO,
            ),
        ),
    ]
