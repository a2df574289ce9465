"""Team invites: `/invite volunteer` (coordinators) and `/invite reporter` (editors) mint a deep link that either
approves at once or only lets people apply for review (the minter chooses with a button) — with a WeChat service
account, also as a WeChat QR code; `/invites` lists the links that still work, each with a Revoke button."""

from __future__ import annotations

import html
import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from actions import invites as invite_actions
from actions.buttons import Act, Button
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from channels.wechat.api import WeChatError
from handlers import lists
from handlers.common import actor_of, edit_in_place, expect_press, set_personal_menu, stale_press, tell
from rules.roles import effective_roles
from rules.staff import invite_role
from storage.errors import LimitReached, NotAllowed, NotFound
from storage.invites import Invite

log = logging.getLogger(__name__)


def link_of(context: TongxinContext, invite: Invite) -> str:
    """The invite's deep link."""
    return f"https://t.me/{context.bot.username}?start={invite.payload}"


def local_time(context: TongxinContext, invite: Invite) -> str:
    """When the invite expires, in the bot's time zone."""
    return invite.expires_at.astimezone(context.settings.tz).strftime("%Y-%m-%d %H:%M")


async def ask_mode(update: Update, context: TongxinContext) -> None:
    """/invite <role>: ask whether the link approves at once or needs review."""
    if (message := update.effective_message) is None or context.person is None:
        return
    role = invite_role((context.args or [""])[0])
    if role not in invite_actions.MINTERS:
        await message.reply_text(context.t("invite.usage"))
        return
    if not invite_actions.may_mint(context.roles, role):
        await message.reply_text(context.t("error.not_allowed"))
        return
    if role in invite_actions.STAFF_INVITES:
        # A staff role by link: one person, one day, given at once; no question to ask.
        invite = await invite_actions.mint_invite(context.env, actor_of(context), role)
        await message.reply_text(
            context.t(
                "invite.created_staff",
                role_name=context.plain(f"staff.role.{role}"),
                link=link_of(context, invite),
                expires=local_time(context, invite),
            ),
            parse_mode=ParseMode.HTML,
        )
        return
    rows = [[Button(f"invite.button.{mode}", Act.INVITE_MINT, arg=f"{role}_{mode}")] for mode in invite_actions.MODES]
    await message.reply_text(
        context.t(
            "invite.ask_mode",
            role_name=context.plain(f"role.{role}"),
            uses=invite_actions.INVITE_USES,
            days=invite_actions.INVITE_VALIDITY.days,
        ),
        parse_mode=ParseMode.HTML,
        reply_markup=callbacks.keyboard(rows, context.plain),
    )


async def mint_pressed(update: Update, context: TongxinContext) -> None:
    """Approve at once / Needs review: mint the link and show it in place of the question."""
    if (query := update.callback_query) is None or context.person is None:
        return
    if (press := await expect_press(update, context, Act.INVITE_MINT)) is None or press.arg is None:
        return
    role, mode = press.arg.split("_")
    try:
        invite = await invite_actions.mint_invite(context.env, actor_of(context), role, needs_review=mode == "review")
    except NotAllowed:
        await tell(update, context, "error.not_allowed")
        return
    await query.answer()
    await query.edit_message_text(
        context.t(
            "invite.created",
            role_name=context.plain(f"role.{role}"),
            link=link_of(context, invite),
            expires=local_time(context, invite),
            uses=invite.max_uses,
            mode=context.plain(f"invite.mode_{mode}"),
        ),
        reply_markup=None,
    )
    await send_wechat_qr(update, context, invite)


async def send_wechat_qr(update: Update, context: TongxinContext, invite: Invite) -> None:
    """With a WeChat service account: the invite's parametric QR code too (its scan or follow carries the invite,
    `channels.wechat.volunteering`), as a photo the minter can share, saying who is to scan it."""
    channel = context.bot_data.wechat
    if channel is None or (chat := update.effective_chat) is None:
        return
    try:
        image, _scene = await channel.invite_qr(invite)
    except WeChatError:  # WeChat refused or is unreachable: the Telegram link above still works
        log.warning("the WeChat QR code of an invite could not be made", exc_info=True)
        await context.bot.send_message(chat.id, context.t("invite.wechat_qr_failed"))
        return
    # Who is to scan it (the role invited), not the internal scene.
    who = context.plain(f"role.{invite.role}")
    caption = context.t("invite.wechat_qr", who=who, expires=local_time(context, invite))
    await context.bot.send_photo(chat.id, image, caption=caption, parse_mode=ParseMode.HTML)


def invites_view(context: TongxinContext, live: invite_actions.Live) -> tuple[str, InlineKeyboardMarkup]:
    """One page of /invites: a line per invite (numbered across pages), a Revoke button each, ◀ / ▶."""
    lines, buttons = [], []
    for number, invite in enumerate(live.invites, start=live.page * invite_actions.SHOWN + 1):
        mode = "review" if invite.needs_review else "open"
        lines.append(
            context.t(
                "invites.item",
                number=number,
                role_name=context.plain(f"role.{invite.role}"),
                mode=context.plain(f"invite.mode_{mode}_short"),
                uses=invite.uses,
                max_uses=invite.max_uses,
                expires=local_time(context, invite),
                link=link_of(context, invite),
            )
            + "\n"
        )
        label = context.plain("invites.button.revoke", number=number)
        buttons.append(callbacks.button(label, Act.INVITE_REVOKE, arg=invite.code))
    _, pages = lists.clamp(live.page, live.total, invite_actions.SHOWN)
    title = context.t("invites.title", count=live.total)
    return lists.paged(
        context, title=title, lines=lines, views=buttons, page=live.page, pages=pages, page_act=Act.INVITE_PAGE
    )


async def list_invites(update: Update, context: TongxinContext) -> None:
    """/invites: the links that still work, newest first, a page at a time, each with Revoke."""
    if (message := update.effective_message) is None or context.person is None:
        return
    try:
        live = await invite_actions.live_invites(context.env, actor_of(context))
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    if not live.invites:
        await message.reply_text(context.t("invites.none"))
        return
    text, markup = invites_view(context, live)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True)


async def page_pressed(update: Update, context: TongxinContext) -> None:
    """◀ / ▶ on /invites: that page, as the invites are now, in place."""
    if (query := update.callback_query) is None or context.person is None:
        return
    if (press := await expect_press(update, context, Act.INVITE_PAGE)) is None or press.subject is None:
        return
    try:
        live = await invite_actions.live_invites(context.env, actor_of(context), press.subject)
    except NotAllowed:
        await tell(update, context, "error.not_allowed")
        return
    await query.answer()
    if not live.invites:
        await edit_in_place(query, context.t("invites.none"))
        return
    # The same page pressed twice is answered quietly, not refused by Telegram as "not modified".
    await edit_in_place(query, *invites_view(context, live), link_preview=False)


async def revoke_pressed(update: Update, context: TongxinContext) -> None:
    """Revoke: the link stops working at once (audited); the button row goes."""
    if (query := update.callback_query) is None or context.person is None:
        return
    if (press := await expect_press(update, context, Act.INVITE_REVOKE)) is None or press.arg is None:
        return
    try:
        invite = await invite_actions.revoke_invite(context.env, actor_of(context), press.arg)
    except (NotAllowed, NotFound):
        # One generic refusal: a forged code learns nothing about which invites exist.
        await tell(update, context, "error.not_allowed")
        return
    except LimitReached:
        await tell(update, context, "invites.already_revoked", alert=False)
        return
    await tell(update, context, "invites.revoked", alert=False, role_name=context.plain(f"role.{invite.role}"))
    if query.message is not None and isinstance(
        markup := getattr(query.message, "reply_markup", None), InlineKeyboardMarkup
    ):
        kept = [kept for row in markup.inline_keyboard if (kept := [b for b in row if b.callback_data != query.data])]
        await query.edit_message_reply_markup(InlineKeyboardMarkup(kept) if kept else None)


async def join_staff(update: Update, context: TongxinContext) -> None:
    """/start sinv_<code>: an admin's single-use staff invite gives its role at once."""
    if (message := update.effective_message) is None or context.person is None:
        return
    code = (context.args or [""])[0].removeprefix("sinv_")
    try:
        person, role, changed = await invite_actions.join_staff(context.env, actor_of(context), code)
    except (NotFound, LimitReached):
        await message.reply_text(context.t("start.bad_link"))
        return
    context.person = person
    context.roles = effective_roles(person.roles, context.telegram_user_id, context.settings.admin_ids)
    key = "staff.joined_by_invite" if changed else "staff.already_has"
    await message.reply_text(
        context.t(key, name=html.escape(person.display_name), role=context.t(f"staff.role.{role.value}")),
        parse_mode=ParseMode.HTML,
    )
    await set_personal_menu(context)


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations here."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/invite, /invites and their buttons (a malformed invite button last, answered)."""
    return [
        CommandHandler("start", join_staff, filters=filters.Regex(r"^/start sinv_")),
        CommandHandler("invite", ask_mode),
        CommandHandler("invites", list_invites),
        CallbackQueryHandler(mint_pressed, pattern=callbacks.pattern(Act.INVITE_MINT)),
        CallbackQueryHandler(revoke_pressed, pattern=callbacks.pattern(Act.INVITE_REVOKE)),
        CallbackQueryHandler(page_pressed, pattern=callbacks.pattern(Act.INVITE_PAGE)),
        CallbackQueryHandler(
            stale_press, pattern=callbacks.prefix_pattern(Act.INVITE_MINT, Act.INVITE_REVOKE, Act.INVITE_PAGE)
        ),
    ]
