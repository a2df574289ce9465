"""What roving reporters (and anyone with a lead) do: `/tip` sends the newsroom photos, a video or text;
`/mytips` shows where each tip stands; `/reporter` applies for the role and an editor's `rinv_` invite
link grants it at once; a reporter answers an editor's question about a tip; a volunteer agrees (or
not) that a confirmed wish's proof photo becomes a story lead.

The `/tip` conversation is written once (`conversations/tip.py`: media → description → location → category →
confirm) and rendered here through `handlers/conversing.py`; its draft lives in the person's own `user_data`, so
two people's albums never mix. Downloading a tip's files to the media folder stays here (it is a Telegram file
download), as does the answer to an editor's question.
"""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from typing import Any

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from actions import tips as tip_actions
from actions.buttons import Act
from bot.context import TongxinContext
from bot.media import download_media
from channels.telegram import callbacks
from conversations.base import Outcome
from conversations.tip import TipConversation
from handlers import plain_words
from handlers.common import actor_of, set_personal_menu
from handlers.conversing import written_once
from rules import tips as tip_rules
from rules.applications import ApplicationStatus
from rules.roles import Role, effective_roles
from rules.tips import (
    TipInputError,
    category_key,
    check_media,
    clean_description,
    status_key,
    tip_reference,
)
from rules.wishes import voice_length, wish_ref
from storage import tips
from storage.errors import Conflict, LimitReached, NotAllowed, NotFound
from storage.tips import MediaItem

log = logging.getLogger(__name__)

ANSWER, ANSWER_ALBUM = range(5, 7)
DRAFT = "tip_draft"
ANSWERING = "tip_answer"


def drafts(context: TongxinContext) -> dict[Any, Any]:
    """The person's own scratch data (conversation drafts); every update handled here comes from a person."""
    if context.user_data is None:
        raise RuntimeError("an update without a user reached a conversation step")
    return context.user_data


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
    if message.voice:
        voice = message.voice
        return "voice", MediaItem("voice", voice.file_id, voice.file_unique_id, voice.file_size), voice.mime_type
    return "other", None, None


def take_media(message: Message, already: int) -> MediaItem:
    """The message's file if a tip can take it; `TipInputError` saying why not otherwise."""
    kind, item, mime_type = media_of(message)
    seconds = plain_words.seconds_of(message.voice.duration) if message.voice else None
    check_media(kind, mime_type=mime_type, file_size=item.file_size if item else None, already=already, seconds=seconds)
    assert item is not None
    return item


# -- /tip (conversations/tip.py) -------------------------------------------------------------------------


def tip_form(context: TongxinContext) -> TipConversation:
    """The tip form for this person: a stored tip's files are downloaded to the media folder, a spoken tip is
    described in the person's language."""

    async def saved(tip: tips.Tip) -> None:
        await save_media(context, tip)

    def spoken(seconds: int) -> str:
        return context.plain("wish.voice_note", length=voice_length(seconds))

    return TipConversation(after_submit=saved, spoken=spoken)


async def start_tip(update: Update, context: TongxinContext) -> Outcome | None:
    """/tip or the /start button: today's limit checked, then photos, a video or text are asked for."""
    if context.person is None:
        return None
    return await tip_form(context).start(context.env, actor_of(context))


async def start_tip_from_text(update: Update, context: TongxinContext) -> Outcome | None:
    """[作为报料发送] under a reporter's plain words: a tip with those words as its description; the location is
    asked next (photos may still be added at any step)."""
    query = update.callback_query
    press = plain_words.press_of(update)
    if query is None or press is None or (text := plain_words.pending_text(context, press.id)) is None:
        if query is not None:
            await query.answer(context.plain("plain.expired"), show_alert=True)
        return None
    plain_words.forget(context)
    outcome = await tip_form(context).start(context.env, actor_of(context), description=text)
    return replace(outcome, clear_buttons=True)


async def save_media(context: TongxinContext, tip: tips.Tip) -> None:
    """Download a tip's files to the media folder (those within the Bot API's download limit)."""
    folder = context.settings.media_dir / tip_reference(tip.id)
    for index, media in enumerate(tip.media, start=1):
        if media.local_path or not media.file_id:  # saved already, or a file from another channel (saved there)
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
            await tip_actions.note_saved_file(context.env, media.id, str(path))


async def cancel(update: Update, context: TongxinContext) -> int:
    """/cancel: drop the draft and leave the conversation."""
    drafts(context).pop(DRAFT, None)
    drafts(context).pop(ANSWERING, None)
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("cancel.done"), reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


# -- answering an editor's question ------------------------------------------------------------------------


async def start_answer(update: Update, context: TongxinContext) -> int | None:
    """The Answer button under an editor's question: check it is the person's own tip, ask for the answer."""
    query = update.callback_query
    if query is None or context.person is None or update.effective_chat is None:
        return None
    if (press := callbacks.decode(query.data)) is None:
        await query.answer(context.plain("tip.stale_button"), show_alert=True)
        return ConversationHandler.END
    try:
        tip = await tip_actions.check_answer(context.env, actor_of(context), press.id)
    except NotAllowed:
        await query.answer(context.plain("error.not_allowed"), show_alert=True)
        return ConversationHandler.END
    except Conflict:
        await query.answer(context.plain("tip.answer_not_needed", reference=tip_reference(press.id)), show_alert=True)
        return ConversationHandler.END
    drafts(context)[ANSWERING] = {"tip": tip.id, "album": None}
    await query.answer()
    await context.bot.send_message(
        update.effective_chat.id,
        context.t("tip.ask_answer", reference=tip_reference(tip.id)),
        reply_markup=ReplyKeyboardRemove(),
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
        tip = await tip_actions.answer(context.env, actor_of(context), int(state["tip"]), text=text, media=media)
    except (Conflict, NotAllowed, NotFound):
        drafts(context).pop(ANSWERING, None)
        await message.reply_text(context.t("tip.answer_not_needed", reference=tip_reference(int(state["tip"]))))
        return ConversationHandler.END
    await message.reply_text(context.t("tip.answer_attached", reference=tip_reference(tip.id)))
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
        tip = await tip_actions.add_answer_media(context.env, actor_of(context), int(state["tip"]), [item])
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
        counts = await tip_rules.counts_of(conn, context.person.id)
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
                reference=tip_reference(tip.id),
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
    try:
        await tip_actions.apply_as_reporter(context.env, actor_of(context), name=context.person.display_name)
    except Conflict as conflict:
        already = conflict.current == ApplicationStatus.APPROVED
        await message.reply_text(context.t("reporter.already" if already else "reporter.pending"))
        return
    await message.reply_text(context.t("reporter.applied"))


async def join_by_invite(update: Update, context: TongxinContext) -> None:
    """/start rinv_<code>: an editor's invite link makes the person a reporter at once."""
    if (message := update.effective_message) is None or context.person is None:
        return
    code = (context.args or [""])[0].removeprefix("rinv_")
    try:
        person = await tip_actions.join_by_invite(context.env, actor_of(context), code)
    except (NotFound, LimitReached):
        await message.reply_text(context.t("start.bad_link"))
        return
    except Conflict:
        await message.reply_text(context.t("reporter.already"))
        return
    context.person = person
    context.roles = effective_roles(person.roles, context.telegram_user_id, context.settings.admin_ids)
    if Role.REPORTER not in context.roles:  # a "needs review" link: an editor still decides
        await message.reply_text(context.t("reporter.applied"))
        return
    await message.reply_text(context.t("reporter.welcome"))
    await set_personal_menu(context)


# -- story leads from confirmed wishes -------------------------------------------------------------------


async def lead_answered(update: Update, context: TongxinContext) -> None:
    """Yes / No under the consent question: checked against the stored offer; on yes the editors get the lead."""
    query = update.callback_query
    if query is None or context.person is None:
        return
    if (press := callbacks.decode(query.data)) is None:
        await query.answer(context.plain("tip.stale_button"), show_alert=True)
        return
    try:
        outcome = await tip_actions.answer_lead(
            context.env, actor_of(context), press.id, agree=press.act is Act.LEAD_YES
        )
    except (NotFound, NotAllowed):
        await query.answer(context.plain("error.not_allowed"), show_alert=True)
        return
    except Conflict:
        await query.answer(context.plain("lead.already_answered"), show_alert=True)
        return
    await query.answer()
    wish = wish_ref(outcome.wish_ref_no)
    if outcome.tip is None:
        await query.edit_message_caption(context.t("lead.declined", wish=wish))
        return
    await query.edit_message_caption(context.t("lead.agreed", wish=wish, reference=tip_reference(outcome.tip.id)))


# -- registration ------------------------------------------------------------------------------------------


def conversations() -> list[BaseHandler[Update, TongxinContext, Any]]:
    """/tip and the answer to an editor's question."""
    media = filters.PHOTO | filters.VIDEO | filters.Document.ALL | filters.VOICE
    text = filters.TEXT & ~filters.COMMAND
    tip = written_once(
        TipConversation(),
        tip_form,
        key=DRAFT,
        entry_points=[
            (CommandHandler("tip", stale_press), start_tip),
            (CallbackQueryHandler(stale_press, pattern=callbacks.pattern(Act.TIP_NEW)), start_tip),
            (CallbackQueryHandler(stale_press, pattern=callbacks.pattern(Act.TIP_FROM_TEXT)), start_tip_from_text),
        ],
    )
    answer = ConversationHandler(
        entry_points=[CallbackQueryHandler(start_answer, pattern=callbacks.pattern(Act.TIP_ANSWER))],
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
    """/mytips, /reporter, the reporter invite link, the story-lead consent buttons, and an answer for a
    reporter's button that is malformed or belongs to a finished conversation."""
    return [
        CommandHandler("mytips", show_my_tips),
        CommandHandler("reporter", apply_as_reporter),
        CommandHandler("start", join_by_invite, filters=filters.Regex(r"^/start rinv_")),
        CallbackQueryHandler(lead_answered, pattern=callbacks.pattern(Act.LEAD_YES, Act.LEAD_NO)),
        CallbackQueryHandler(stale_press, pattern=callbacks.prefix_pattern(*REPORTER_ACTS)),
    ]


# The buttons of this module; a press of one that no handler took is stale or forged.
REPORTER_ACTS = (
    Act.TIP_NEW,
    Act.TIP_CATEGORY,
    Act.TIP_SUBMIT,
    Act.TIP_CANCEL,
    Act.TIP_ANSWER,
    Act.LEAD_YES,
    Act.LEAD_NO,
)


async def stale_press(update: Update, context: TongxinContext) -> None:
    """A button of an earlier /tip (the draft is gone), or data no button of ours carries: say so."""
    if (query := update.callback_query) is not None:
        await query.answer(context.plain("tip.stale_button"), show_alert=True)
