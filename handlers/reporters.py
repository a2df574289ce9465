"""What roving reporters (and anyone with a lead) do: `/tip` sends the newsroom photos, a video or text;
`/mytips` shows where each tip stands; `/reporter` applies for the role and an editor's `rinv_` invite
link grants it at once; a reporter answers an editor's question about a tip; a volunteer agrees (or
not) that a confirmed wish's proof photo becomes a story lead.

The `/tip` conversation (docs/tip.mmd): media → description → location → category → confirm. An album
arrives as one update per photo sharing a `media_group_id`; the first item moves the conversation on
and the rest are added silently by `media_received`, which every step accepts. Drafts live in the
person's own `user_data`, so two people's albums never mix.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from actions.buttons import Act, Button
from bot.context import TongxinContext
from bot.media import download_media
from bot.notify import Notice, Notifier
from handlers.basics import set_personal_menu
from handlers.editors import drafts, notify_editors
from handlers.prompts import share_or_skip
from rules.applications import ApplicationAction, ApplicationStatus
from rules.limits import check_daily_quota, local_day_start
from rules.roles import Role, effective_roles
from rules.tips import (
    CATEGORIES,
    MediaItem,
    TipInputError,
    TipStatus,
    category_key,
    check_category,
    check_media,
    clean_description,
    status_key,
    tip_reference,
)
from rules.wishes import wish_ref
from storage import applications, invites, tips, users
from storage.db import Database
from storage.errors import Conflict, LimitReached, NotAllowed, NotFound

log = logging.getLogger(__name__)

MEDIA, DESCRIPTION, LOCATION, CATEGORY, CONFIRM = range(5)
ANSWER, ANSWER_ALBUM = range(5, 7)
DRAFT = "tip_draft"
ANSWERING = "tip_answer"
# What each step asks again when the person sends something it cannot use.
STEP_PROMPTS = {
    "media": "tip.ask_media",
    "description": "tip.ask_description",
    "location": "tip.ask_location",
    "category": "tip.ask_category",
    "confirm": "tip.ask_confirm",
}


# -- reading media out of a message ------------------------------------------------------------------------


def media_of(message: Message) -> tuple[str, MediaItem | None, str | None]:
    """(kind, item, mime type) of the file in a message; the item is None for kinds a tip cannot hold."""
    if message.photo:
        size = message.photo[-1]
        return "photo", MediaItem("photo", size.file_id, size.file_unique_id, size.file_size), "image/jpeg"
    if message.video:
        video = message.video
        return "video", MediaItem("video", video.file_id, video.file_unique_id, video.file_size), video.mime_type
    if message.document:
        doc = message.document
        return "document", MediaItem("document", doc.file_id, doc.file_unique_id, doc.file_size), doc.mime_type
    return "other", None, None


def take_media(message: Message, already: int) -> MediaItem:
    """The message's file if a tip can take it; `TipInputError` saying why not otherwise."""
    kind, item, mime_type = media_of(message)
    check_media(kind, mime_type=mime_type, file_size=item.file_size if item else None, already=already)
    assert item is not None
    return item


def item_to_json(item: MediaItem) -> dict[str, Any]:
    """A media item as draft data (user_data is persisted as JSON)."""
    return {"kind": item.kind, "file_id": item.file_id, "unique": item.file_unique_id, "size": item.file_size}


def item_from_json(data: dict[str, Any]) -> MediaItem:
    """A media item back from draft data."""
    return MediaItem(str(data["kind"]), str(data["file_id"]), data.get("unique"), data.get("size"))


# -- /tip ------------------------------------------------------------------------------------------------


def draft_of(context: TongxinContext) -> dict[str, Any]:
    """The person's tip draft (created empty when missing, e.g. after a restart mid-way)."""
    draft: dict[str, Any] = drafts(context).setdefault(DRAFT, {})
    draft.setdefault("media", [])
    draft.setdefault("step", "media")
    return draft


async def start_tip(update: Update, context: TongxinContext) -> int:
    """/tip or the /start button: check the daily limit, start an empty draft and ask for photos, a video or text."""
    if context.person is None:
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    async with context.db.read() as conn:
        used = await tips.submitted_since(conn, context.person.id, local_day_start(context.now(), context.settings.tz))
    try:
        check_daily_quota(used, context.settings.tips_per_day)
    except LimitReached:
        await context.bot.send_message(
            context.chat_id, context.t("tip.limit_reached", limit=context.settings.tips_per_day)
        )
        return ConversationHandler.END
    drafts(context)[DRAFT] = {"media": [], "step": "media", "album": None}
    await context.bot.send_message(context.chat_id, context.t("tip.ask_media"), reply_markup=ReplyKeyboardRemove())
    return MEDIA


async def media_received(update: Update, context: TongxinContext) -> int | None:
    """A photo, video or file at any step: the first moves on; album items and extra photos are added."""
    if (message := update.effective_message) is None:
        return None
    draft = draft_of(context)
    album = message.media_group_id
    same_album = album is not None and album == draft.get("album")
    try:
        item = take_media(message, len(draft["media"]))
    except TipInputError as error:
        # An album over the limit would repeat the refusal for every photo: say it once per album.
        if not (same_album and draft.get("refused_album") == album):
            await message.reply_text(context.t(error.key, **error.values))
            draft["refused_album"] = album
        return None
    draft["media"].append(item_to_json(item))
    if album is not None:
        draft["album"] = album
    if message.caption and not draft.get("description"):
        try:
            draft["description"] = clean_description(message.caption)
        except TipInputError as error:
            await message.reply_text(context.t(error.key, **error.values))
    if draft["step"] == "media":
        if draft.get("description"):
            return await ask_location(message, context)
        return await ask_description(message, context)
    if draft["step"] == "description" and draft.get("description"):
        return await ask_location(message, context)
    if not same_album:
        await message.reply_text(context.t("tip.media_added", count=len(draft["media"])))
    return None


async def text_instead_of_media(update: Update, context: TongxinContext) -> int | None:
    """Text at the first step: a text-only tip, the text is its description."""
    return await description_received(update, context)


async def description_received(update: Update, context: TongxinContext) -> int | None:
    """The description: checked and kept, then the location is asked."""
    if (message := update.effective_message) is None:
        return None
    draft = draft_of(context)
    try:
        draft["description"] = clean_description(message.text)
    except TipInputError as error:
        await message.reply_text(context.t(error.key, **error.values))
        return None
    return await ask_location(message, context)


async def ask_description(message: Message, context: TongxinContext) -> int:
    """Ask what happened."""
    draft_of(context)["step"] = "description"
    await message.reply_text(context.t("tip.ask_description", count=len(draft_of(context)["media"])))
    return DESCRIPTION


async def ask_location(message: Message, context: TongxinContext) -> int:
    """Offer to share the location (a button) or skip it."""
    draft = draft_of(context)
    draft["step"] = "location"
    keyboard = share_or_skip(context, "tip.button_share_location", "tip.button_skip", location=True)
    await message.reply_text(context.t("tip.ask_location", count=len(draft["media"])), reply_markup=keyboard)
    return LOCATION


async def location_received(update: Update, context: TongxinContext) -> int | None:
    """A shared location: kept, then the category is asked."""
    if (message := update.effective_message) is None or message.location is None:
        return None
    draft_of(context)["location"] = [message.location.latitude, message.location.longitude]
    await message.reply_text(context.t("tip.location_saved"), reply_markup=ReplyKeyboardRemove())
    return await ask_category(message, context)


async def location_skipped(update: Update, context: TongxinContext) -> int | None:
    """Text at the location step: the Skip button skips; anything else is asked again."""
    if (message := update.effective_message) is None:
        return None
    if (message.text or "").strip() not in skip_labels(context):
        await message.reply_text(context.t("tip.ask_location_again"))
        return None
    draft_of(context)["location"] = None
    await message.reply_text(context.t("tip.location_skipped"), reply_markup=ReplyKeyboardRemove())
    return await ask_category(message, context)


def skip_labels(context: TongxinContext) -> set[str]:
    """The Skip button's label in every language (the person may have switched language mid-way)."""
    catalogues = context.bot_data.catalogues
    return {catalogues.text(language, "tip.button_skip") for language in ("zh-CN", "en")}


async def ask_category(message: Message, context: TongxinContext) -> int:
    """The categories as buttons."""
    draft_of(context)["step"] = "category"
    rows = [[InlineKeyboardButton(context.t(category_key(c)), callback_data=f"tipcat:{c}")] for c in CATEGORIES]
    await message.reply_text(context.t("tip.ask_category"), reply_markup=InlineKeyboardMarkup(rows))
    return CATEGORY


async def category_chosen(update: Update, context: TongxinContext) -> int | None:
    """A category button: kept, then the summary with Submit is shown."""
    query = update.callback_query
    if query is None or query.data is None:
        return None
    try:
        category = check_category(query.data.removeprefix("tipcat:"))
    except TipInputError as error:
        await query.answer(context.t(error.key), show_alert=True)
        return None
    draft = draft_of(context)
    draft["category"] = category
    draft["step"] = "confirm"
    await query.answer()
    await query.edit_message_text(
        render_summary(context, draft),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(context.t("tip.button_submit"), callback_data="tipsubmit"),
                    InlineKeyboardButton(context.t("tip.button_cancel"), callback_data="tipcancel"),
                ]
            ]
        ),
    )
    return CONFIRM


def render_summary(context: TongxinContext, draft: dict[str, Any]) -> str:
    """The draft as the person will submit it."""
    location = draft.get("location")
    return context.t(
        "tip.summary",
        category=context.t(category_key(str(draft.get("category")))),
        description=html.escape(str(draft.get("description") or "")),
        media=len(draft["media"]),
        location=context.t("tip.location_yes") if location else context.t("tip.location_no"),
    )


async def submit(update: Update, context: TongxinContext) -> int | None:
    """Submit: store the tip, tell the person its reference, tell the editors, save the media."""
    query = update.callback_query
    if query is None or context.person is None:
        return None
    draft = draft_of(context)
    if not draft.get("description") or not draft.get("category"):
        await query.answer(context.t("tip.ask_description", count=len(draft["media"])), show_alert=True)
        return None
    now = context.now()
    location = draft.get("location")
    try:
        async with context.db.write() as conn:
            used = await tips.submitted_since(conn, context.person.id, local_day_start(now, context.settings.tz))
            check_daily_quota(used, context.settings.tips_per_day)
            tip = await tips.create_tip(
                conn,
                reporter_id=context.person.id,
                by_reporter=context.has_role(Role.REPORTER),
                category=draft["category"],
                description=draft["description"],
                location=(float(location[0]), float(location[1])) if location else None,
                media=[item_from_json(m) for m in draft["media"]],
                now=now,
            )
    except LimitReached:
        await query.answer(context.t("tip.limit_reached", limit=context.settings.tips_per_day), show_alert=True)
        return None
    drafts(context).pop(DRAFT, None)
    await query.answer()
    await query.edit_message_text(context.t("tip.submitted", reference=tip.reference))
    await notify_editors(
        context,
        Notice("review.new_tip", {"reference": tip.reference, "category_key": category_key(tip.category)}),
        dedupe_key=f"tip:new:{tip.id}",
    )
    await save_media(context, tip)
    return ConversationHandler.END


async def save_media(context: TongxinContext, tip: tips.Tip) -> None:
    """Download a tip's files to the media folder (those within the Bot API's download limit)."""
    folder = context.settings.media_dir / tip.reference
    for index, media in enumerate(tip.media, start=1):
        if media.local_path:
            continue
        path = await download_media(
            context.bot,
            file_id=media.file_id,
            file_size=media.file_size,
            kind=media.kind,
            folder=folder,
            name=f"{index:02d}-{media.id}",
        )
        if path is not None:
            async with context.db.write() as conn:
                await tips.set_local_path(conn, media.id, str(path))


async def cancel_button(update: Update, context: TongxinContext) -> int:
    """The Cancel button on the summary: drop the draft."""
    query = update.callback_query
    drafts(context).pop(DRAFT, None)
    if query is not None:
        await query.answer()
        await query.edit_message_text(context.t("cancel.done"))
    return ConversationHandler.END


async def cancel(update: Update, context: TongxinContext) -> int:
    """/cancel: drop the draft and leave the conversation."""
    drafts(context).pop(DRAFT, None)
    drafts(context).pop(ANSWERING, None)
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("cancel.done"), reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


async def wrong_input(update: Update, context: TongxinContext) -> None:
    """Something the current step cannot use (a sticker, a voice note…): say what it needs; the draft stays."""
    if (message := update.effective_message) is None:
        return
    draft = draft_of(context)
    if message.sticker or message.animation or message.voice or message.audio or message.video_note:
        await message.reply_text(context.t("tip.media_unsupported"))
    key = STEP_PROMPTS.get(str(draft.get("step")), "tip.ask_media")
    await message.reply_text(context.t(key, count=len(draft["media"])))


# -- answering an editor's question ------------------------------------------------------------------------


async def start_answer(update: Update, context: TongxinContext) -> int | None:
    """The Answer button under an editor's question: check it is the person's own tip, ask for the answer."""
    query = update.callback_query
    if query is None or query.data is None or context.person is None:
        return None
    tip_id = int(query.data.split(":")[1])
    async with context.db.read() as conn:
        try:
            tip = await tips.get_tip(conn, tip_id)
        except NotFound:
            tip = None
    if tip is None or tip.reporter_id != context.person.id:
        await query.answer(context.t("error.not_allowed"), show_alert=True)
        return ConversationHandler.END
    if tip.status is not TipStatus.MORE_INFO_REQUESTED:
        await query.answer(context.t("tip.answer_not_needed", reference=tip.reference), show_alert=True)
        return ConversationHandler.END
    drafts(context)[ANSWERING] = {"tip": tip_id, "album": None}
    await query.answer()
    await context.bot.send_message(
        context.chat_id, context.t("tip.ask_answer", reference=tip.reference), reply_markup=ReplyKeyboardRemove()
    )
    return ANSWER


async def answer_received(update: Update, context: TongxinContext) -> int | None:
    """The answer (text, or photos/video with an optional caption): attached, and the tip goes back to the queue."""
    if (message := update.effective_message) is None or context.person is None:
        return None
    state = drafts(context).get(ANSWERING) or {}
    if "tip" not in state:
        return ConversationHandler.END
    media: list[MediaItem] = []
    text = message.text or message.caption
    try:
        if message.text is None:
            media.append(take_media(message, 0))
        if text is not None:
            text = clean_description(text)
    except TipInputError as error:
        await message.reply_text(context.t(error.key, **error.values))
        return None
    try:
        async with context.db.write() as conn:
            tip = await tips.answer_question(
                conn, int(state["tip"]), reporter_id=context.person.id, text=text, media=media, now=context.now()
            )
    except (Conflict, NotAllowed, NotFound):
        drafts(context).pop(ANSWERING, None)
        await message.reply_text(context.t("tip.answer_not_needed", reference=tip_reference(int(state["tip"]))))
        return ConversationHandler.END
    await message.reply_text(context.t("tip.answer_attached", reference=tip.reference))
    await notify_editors(context, Notice("review.tip_answered", {"reference": tip.reference}), dedupe_key=None)
    await save_media(context, tip)
    if message.media_group_id is None:
        drafts(context).pop(ANSWERING, None)
        return ConversationHandler.END
    state["album"] = message.media_group_id
    state["count"] = 1
    return ANSWER_ALBUM


async def answer_album_item(update: Update, context: TongxinContext) -> int | None:
    """The rest of an answer that came as an album: each photo is attached to the same tip."""
    if (message := update.effective_message) is None or context.person is None:
        return None
    state = drafts(context).get(ANSWERING) or {}
    if message.media_group_id is None or message.media_group_id != state.get("album"):
        drafts(context).pop(ANSWERING, None)
        await message.reply_text(context.t("tip.answer_done"))
        return ConversationHandler.END
    try:
        item = take_media(message, int(state.get("count", 0)))
        async with context.db.write() as conn:
            tip = await tips.attach_media(
                conn, int(state["tip"]), reporter_id=context.person.id, media=[item], now=context.now()
            )
    except TipInputError as error:
        await message.reply_text(context.t(error.key, **error.values))
        return None
    except (Conflict, NotAllowed, NotFound):
        drafts(context).pop(ANSWERING, None)
        return ConversationHandler.END
    state["count"] = int(state.get("count", 0)) + 1
    await save_media(context, tip)
    return None


# -- /mytips ---------------------------------------------------------------------------------------------


async def show_my_tips(update: Update, context: TongxinContext) -> None:
    """/mytips: each of the person's tips with its status, and a reporter's accepted/published counts."""
    if (message := update.effective_message) is None or context.person is None:
        return
    async with context.db.read() as conn:
        mine = await tips.tips_of(conn, context.person.id)
        counts = await tips.counts_of(conn, context.person.id)
    if not mine:
        await message.reply_text(context.t("tip.mine_empty"))
        return
    lines = [context.t("tip.mine_title")]
    if context.has_role(Role.REPORTER):
        lines.append(
            context.t(
                "tip.mine_counts", submitted=counts.submitted, accepted=counts.accepted, published=counts.published
            )
        )
    tz = context.settings.tz
    for tip in mine:
        lines.append(
            context.t(
                "tip.mine_line",
                reference=tip.reference,
                category=context.t(category_key(tip.category)),
                status=context.t(status_key(tip.status)),
                when=tip.created_at.astimezone(tz).strftime("%m-%d %H:%M"),
            )
        )
        if tip.published_url:
            lines.append(context.t("tip.mine_link", link=html.escape(tip.published_url)))
    await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML, disable_web_page_preview=True)


# -- the reporter role -------------------------------------------------------------------------------------


async def apply_as_reporter(update: Update, context: TongxinContext) -> None:
    """/reporter: apply for the reporter role; editors are asked to approve."""
    if (message := update.effective_message) is None or context.person is None:
        return
    if context.has_role(Role.REPORTER):
        await message.reply_text(context.t("reporter.already"))
        return
    try:
        async with context.db.write() as conn:
            application = await applications.apply(conn, user_id=context.person.id, role="reporter", now=context.now())
    except Conflict:
        await message.reply_text(context.t("reporter.pending"))
        return
    await message.reply_text(context.t("reporter.applied"))
    await notify_editors(
        context,
        Notice(
            "reporter.new_application",
            {"name": context.person.display_name, "user_id": context.person.id},
            buttons=(
                (
                    Button("reporter.button_approve", Act.REPORTER_APPROVE, application.id),
                    Button("reporter.button_reject", Act.REPORTER_REJECT, application.id),
                ),
            ),
        ),
        dedupe_key=f"reporter:apply:{application.id}:{application.created_at.timestamp():.0f}",
    )


async def join_by_invite(update: Update, context: TongxinContext) -> None:
    """/start rinv_<code>: an editor's invite link makes the person a reporter at once."""
    if (message := update.effective_message) is None or context.person is None:
        return
    code = (context.args or [""])[0].removeprefix("rinv_")
    now = context.now()
    try:
        async with context.db.write() as conn:
            await invites.use_invite(conn, code, "reporter", now)
            existing = await applications.find_application(conn, context.person.id, "reporter")
            if existing is not None and existing.status is ApplicationStatus.PENDING:
                await applications.transition(
                    conn, existing.id, ApplicationAction.APPROVE, actor_id=None, now=now, note=f"invite {code}"
                )
            else:
                await applications.apply(conn, user_id=context.person.id, role="reporter", now=now, invite_code=code)
            person = await users.get_user(conn, context.person.id)
    except (NotFound, LimitReached):
        await message.reply_text(context.t("start.bad_link"))
        return
    except Conflict:
        await message.reply_text(context.t("reporter.already"))
        return
    context.person = person
    context.roles = effective_roles(person.roles, context.telegram_user_id, context.settings.admin_ids)
    await message.reply_text(context.t("reporter.welcome"))
    await set_personal_menu(context)


# -- story leads from confirmed wishes -------------------------------------------------------------------


async def offer_story_lead(
    db: Database,
    notifier: Notifier,
    *,
    wish_ref_no: int,
    volunteer_id: int,
    photo_file_id: str,
    summary: str,
    now: dt.datetime,
) -> None:
    """A resident confirmed a wish that has a proof photo: ask its volunteer whether the newsroom may have it.

    Call after the confirming transaction has committed (it opens its own). Offering the same wish
    twice asks once.
    """
    async with db.write() as conn:
        lead = await tips.offer_story_lead(
            conn,
            wish_ref_no=wish_ref_no,
            volunteer_id=volunteer_id,
            photo_file_id=photo_file_id,
            summary=summary,
            now=now,
        )
    if lead is None:
        return
    await notifier.notify(
        volunteer_id,
        Notice(
            "lead.ask_consent",
            {"wish": wish_ref(wish_ref_no)},
            buttons=(
                (
                    Button("lead.button_yes", Act.LEAD_YES, wish_ref_no),
                    Button("lead.button_no", Act.LEAD_NO, wish_ref_no),
                ),
            ),
            photo=photo_file_id,
        ),
        dedupe_key=f"lead:ask:{wish_ref_no}",
    )


async def lead_answered(update: Update, context: TongxinContext) -> None:
    """Yes / No under the consent question: checked against the stored offer; on yes the editors get the lead."""
    query = update.callback_query
    if query is None or query.data is None or context.person is None:
        return
    _, answer, wish_ref_no = query.data.split(":")
    try:
        async with context.db.write() as conn:
            tip = await tips.decide_story_lead(
                conn,
                int(wish_ref_no),
                volunteer_id=context.person.id,
                agree=answer == "yes",
                by_reporter=context.has_role(Role.REPORTER),
                now=context.now(),
            )
    except (NotFound, NotAllowed):
        await query.answer(context.t("error.not_allowed"), show_alert=True)
        return
    except Conflict:
        await query.answer(context.t("lead.already_answered"), show_alert=True)
        return
    await query.answer()
    wish = wish_ref(int(wish_ref_no))
    if tip is None:
        await query.edit_message_caption(context.t("lead.declined", wish=wish))
        return
    await query.edit_message_caption(context.t("lead.agreed", wish=wish, reference=tip.reference))
    await notify_editors(
        context,
        Notice("review.new_lead", {"reference": tip.reference, "wish": wish}),
        dedupe_key=f"tip:new:{tip.id}",
    )


# -- registration ------------------------------------------------------------------------------------------


def conversations() -> list[BaseHandler[Update, TongxinContext, Any]]:
    """/tip and the answer to an editor's question."""
    media = filters.PHOTO | filters.VIDEO | filters.Document.ALL
    text = filters.TEXT & ~filters.COMMAND
    anything_else = ~filters.COMMAND & ~filters.StatusUpdate.ALL
    tip = ConversationHandler(
        entry_points=[CommandHandler("tip", start_tip), CallbackQueryHandler(start_tip, pattern=r"^tipnew$")],
        states={
            MEDIA: [
                MessageHandler(media, media_received),
                MessageHandler(text, text_instead_of_media),
            ],
            DESCRIPTION: [
                MessageHandler(media, media_received),
                MessageHandler(text, description_received),
            ],
            LOCATION: [
                MessageHandler(media, media_received),
                MessageHandler(filters.LOCATION, location_received),
                MessageHandler(text, location_skipped),
            ],
            CATEGORY: [
                MessageHandler(media, media_received),
                CallbackQueryHandler(category_chosen, pattern=r"^tipcat:"),
            ],
            CONFIRM: [
                MessageHandler(media, media_received),
                CallbackQueryHandler(submit, pattern=r"^tipsubmit$"),
                CallbackQueryHandler(cancel_button, pattern=r"^tipcancel$"),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            MessageHandler(anything_else, wrong_input),
        ],
        name="tip",
        persistent=True,
        allow_reentry=True,
    )
    answer = ConversationHandler(
        entry_points=[CallbackQueryHandler(start_answer, pattern=r"^tipans:\d+$")],
        states={
            ANSWER: [MessageHandler(media | text, answer_received)],
            ANSWER_ALBUM: [MessageHandler(media, answer_album_item)],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        name="tip_answer",
        persistent=True,
        allow_reentry=True,
    )
    return [tip, answer]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/mytips, /reporter, the reporter invite link, and the story-lead consent buttons."""
    return [
        CommandHandler("mytips", show_my_tips),
        CommandHandler("reporter", apply_as_reporter),
        CommandHandler("start", join_by_invite, filters=filters.Regex(r"^/start rinv_")),
        CallbackQueryHandler(lead_answered, pattern=r"^tiplead:(yes|no):\d+$"),
    ]
