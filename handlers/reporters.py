"""What roving reporters (and anyone with a lead) do: `/tip` sends the newsroom photos, a video or text;
`/mytips` shows where each tip stands; `/reporter` applies for the role and an editor's `rinv_` invite
link grants it at once; a reporter answers an editor's question about a tip; a volunteer agrees (or
not) that a confirmed wish's proof photo becomes a story lead.

The `/tip` conversation is written once (`conversations/tip.py`: media → description → location → category →
confirm) and rendered here through `handlers/conversing.py`; its draft lives in the person's own `user_data`, so
two people's albums never mix; so is the answer to an editor's question (`conversations.tip.TipAnswer`). Downloading
a tip's files to the media folder stays here (it is a Telegram file download).
"""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from actions import tips as tip_actions
from actions.buttons import Act
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from channels.telegram.downloads import download_media
from conversations.base import Outcome
from conversations.tip import ALBUM as ALBUM_STEP
from conversations.tip import ANSWER as ANSWER_STEP
from conversations.tip import TipAnswer, TipConversation
from handlers import plain_words
from handlers.common import actor_of, set_personal_menu
from handlers.conversing import written_once
from rules import tips as tip_rules
from rules.applications import ApplicationStatus
from rules.roles import Role, effective_roles
from rules.tips import (
    category_key,
    status_key,
    tip_reference,
)
from rules.wishes import voice_length, wish_ref
from storage import tips
from storage.errors import Conflict, LimitReached, NotAllowed, NotFound

log = logging.getLogger(__name__)

DRAFT = "tip_draft"
ANSWERING = "tip_answer"


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


# -- answering an editor's question (conversations/tip.py: TipAnswer) ---------------------------------------------


def answer_form(context: TongxinContext) -> TipAnswer:
    """The answer to an editor's question for this person: its files are downloaded to the media folder."""

    async def saved(tip: tips.Tip) -> None:
        await save_media(context, tip)

    return TipAnswer(after_answer=saved)


async def start_answer(update: Update, context: TongxinContext) -> Outcome | None:
    """The Answer button under an editor's question: the person's own tip, its question still open."""
    query = update.callback_query
    if query is None or context.person is None:
        return None
    if (press := callbacks.decode(query.data)) is None:
        await query.answer(context.plain("tip.stale_button"), show_alert=True)
        return None
    return await answer_form(context).start(context.env, actor_of(context), press.id)


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
    answer = written_once(
        TipAnswer(),
        answer_form,
        key=ANSWERING,
        entry_points=[(CallbackQueryHandler(stale_press, pattern=callbacks.pattern(Act.TIP_ANSWER)), start_answer)],
        messages={ANSWER_STEP: media | text, ALBUM_STEP: media},  # other messages after an album are not the answer
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
