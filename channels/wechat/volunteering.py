"""Volunteers and reporters on the service account: what their menus' buttons do and what an invite QR code's scan
does, each a single press through the action core (`actions.tasks`, `actions.invites`, `actions.tips`,
`actions.hours`) with the catalogue's strings — the same rules and limits as Telegram's `handlers/tasks.py`.

- 任务 (`roles.CLICK_TASKS`, or the word): open wishes nearest first, a page at a time (`actions.tasks.open_tasks`),
  each wish's public card numbered, a menu item 认领 per wish and 上一页 / 下一页 / 显示全部; 认领 shows the card and
  asks when (今天 / 明天 / 本周), which claims (`actions.tasks.claim`: the claim bounds, first one wins, held wishes).
- 我的任务: the tasks the volunteer holds; 查看 shows a task's details — the resident's address and phone only while
  the volunteer holds the claim (read again at the press) — with 完成了 / 放弃.
- 时长: the volunteer's hours (`actions.hours.of_volunteer`, as Telegram's /hours).
- A scan of an invite's QR code (SCAN, or the subscribe of a person who followed by scanning it): a volunteer invite
  is kept for the person (`storage.wechat.keep_invite`) for the volunteer registration, and they are told what
  comes next; a reporter invite makes them a reporter at once (`actions.tips.join_by_invite`), as on Telegram.
- 报料 (the button or the word): the lead written once (`conversations/tip.py`, started by
  `Conversation.start_tip`): photos one by one, what happened, the place or 跳过, the category, 提交. A reporter's
  photo outside any form starts a lead with it; their words outside any form are not passed on, and they are told
  how to send a lead (`reporter_aside`), not given the residents' greeting. 回复 under an editor's question
  (请补充) takes the answer, words or a photo (`conversations.tip.TipAnswer`).
- 同意 / 不同意 under the question whether a finished task's proof photo may go to the editors as a lead
  (`actions.tips.answer_lead`).

完成了 and 放弃 start the conversations written once on the channel-neutral layer (`conversations/task_done.py`:
hours, proof photo, note; `conversations/task_release.py`: the reason), which `conversation._Step.converse` then
runs. The volunteer registration and a reporter's lead are such conversations too, not on the layer yet: not copied
here; their buttons say so.
WeChat cannot take a customer-service message back: details shown while a claim held stay in the chat.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from actions import hours as hour_actions
from actions import invites as invite_actions
from actions import tasks
from actions import tips as tip_actions
from actions.buttons import MAX_SUBJECT, Act, Press
from channels import wish_cards
from channels.wechat import roles, steps
from channels.wechat.render import Reply
from conversations import pages
from conversations.task_done import TaskDone
from conversations.task_release import TaskRelease
from rules import matching
from rules.roles import Role
from rules.tips import tip_reference
from rules.wishes import WishStatus, wish_ref
from storage import wechat
from storage.errors import AlreadyClaimed, ClaimedByYou, Conflict, Held, LimitReached, NotAllowed, NotFound

if TYPE_CHECKING:
    from channels.wechat.conversation import _Step

TASK_WORDS = frozenset({"任务", "找任务", "tasks", "/tasks"})
MY_TASK_WORDS = frozenset({"我的任务", "my tasks", "/mytasks"})
HOURS_WORDS = frozenset({"时长", "服务时长", "hours", "/hours"})
LEAD_WORDS = frozenset({"报料", "tip", "/tip", "lead"})
CLICKS = frozenset({roles.CLICK_TASKS, roles.CLICK_MY_TASKS, roles.CLICK_HOURS, roles.CLICK_LEAD})
TASK_PRESSES = frozenset(
    {Act.TASK_PAGE, Act.TASK_VIEW, Act.TASK_CLAIM, Act.TASK_SHOW, Act.TASK_MINE_PAGE, Act.TASK_DONE, Act.TASK_RELEASE}
)
# The reporter's presses: the consent to pass a task's photo to the editors (single presses), and the tip form's
# (a form of several steps: the conversation layer's).
LEAD_PRESSES = frozenset({Act.LEAD_YES, Act.LEAD_NO})
TIP_PRESSES = frozenset({Act.TIP_NEW, Act.TIP_ANSWER, Act.TIP_CATEGORY, Act.TIP_SUBMIT, Act.TIP_CANCEL})
PRESSES = TASK_PRESSES | LEAD_PRESSES | TIP_PRESSES  # what `pressed` answers
# What an invite QR code's scene starts with (`storage.invites.INVITE_PREFIXES`).
VOLUNTEER_SCENE, REPORTER_SCENE = "vinv_", "rinv_"


def wanted(text: str) -> str | None:
    """The volunteer's button a typed word stands for (roles.CLICK_*), or None."""
    said = text.strip().lower()
    if said in TASK_WORDS:
        return roles.CLICK_TASKS
    if said in MY_TASK_WORDS:
        return roles.CLICK_MY_TASKS
    if said in HOURS_WORDS:
        return roles.CLICK_HOURS
    if said in LEAD_WORDS:
        return roles.CLICK_LEAD
    return None


def _plain(value: str) -> str:
    """A card `channels.wish_cards` wrote for HTML, as WeChat shows it (the values it escaped, unescaped)."""
    return html.unescape(value)


async def clicked(step: _Step, key: str) -> list[Reply]:
    """任务 / 我的任务 / 时长 / 报料 (a menu button or its word)."""
    step.state = {}
    if key == roles.CLICK_LEAD:  # anyone may send a lead (as /tip on Telegram); a reporter's is marked as theirs
        return await step.start_tip()
    if Role.VOLUNTEER not in step.actor.roles:
        return [Reply(step.t("wechat.volunteer.only"))]
    if key == roles.CLICK_TASKS:
        return await task_page(step, 0, show_all=False)
    if key == roles.CLICK_MY_TASKS:
        return await my_tasks(step)
    return [await hours(step)]


def reporter_aside(step: _Step) -> list[Reply]:
    """A reporter's words outside any form: not passed to the editors; how to send a lead (a photo outside any form
    starts one: `Conversation.start_tip`)."""
    return [Reply(step.t("wechat.lead.text_not_kept") + "\n" + step.t("wechat.tip.how"))]


async def task_page(
    step: _Step, number: int, *, show_all: bool, after: int | None = None, before: int | None = None
) -> list[Reply]:
    """A page of open wishes, nearest first (`conversations.pages.open_tasks`): numbered public cards, 认领 each,
    paging and 显示全部."""
    assert step.actor.user_id is not None
    page = await tasks.open_tasks(step.env, step.actor.user_id, number, show_all=show_all, after=after, before=before)
    return step.page(pages.open_tasks(step.env, page))


async def my_tasks(step: _Step, page: int = 0) -> list[Reply]:
    """The tasks the volunteer holds (`conversations.pages.my_tasks`), each with its details' item; 上一页 / 下一页."""
    assert step.actor.user_id is not None
    mine = await tasks.my_tasks(step.env, step.actor.user_id)
    if not mine:
        return [step.menu_reply(step.t("task.mine_none"), [step.choice("wechat.menu.tasks", Act.TASK_PAGE, 0, "0")])]
    return step.page(pages.my_tasks(step.env, mine, page))


async def hours(step: _Step) -> Reply:
    """时长: the same figures as Telegram's /hours."""
    assert step.actor.user_id is not None
    figures = await hour_actions.of_volunteer(step.env, step.actor.user_id)
    return Reply(_plain(hour_actions.describe(step.t, figures)))


async def details(step: _Step, wish_id: int) -> list[Reply]:
    """A held task's details: the resident's contact and her photo only while the volunteer holds the claim,
    完成了 / 放弃."""
    assert step.actor.user_id is not None
    mine = {w.id: w for w in await tasks.my_tasks(step.env, step.actor.user_id)}
    wish = mine.get(wish_id)
    if wish is None:
        return [Reply(step.t("task.stale_button"))]
    text = _plain(wish_cards.full_details(step.t, wish))
    if wish.status == WishStatus.CLAIMED:
        text += "\n" + step.t("task.due", due=tasks.local_due(step.env, wish))
        shown = step.menu_reply(
            text,
            [
                step.choice("task.button.done", Act.TASK_DONE, wish.id),
                step.choice("task.button.release", Act.TASK_RELEASE, wish.id),
            ],
        )
        # Her photo after the details, as Telegram shows it to the volunteer holding the claim.
        photo = await step.uploaded_photo(wish.photo_media_id) if wish.photo_media_id is not None else None
        return [shown, *([Reply("", image=photo)] if photo else [])]
    return [Reply(text + "\n" + step.t("task.waiting_confirmation"))]


async def pressed(step: _Step, press: Press) -> list[Reply]:
    """A tapped (or typed) item of a task menu or a lead question; every refusal answered in the person's words."""
    step.state = {}
    if press.act in LEAD_PRESSES:
        return await lead_answered(step, press)
    if press.act == Act.TIP_NEW:
        return await step.start_tip()
    if press.act == Act.TIP_ANSWER:  # 回复 under an editor's question: the answer written once (conversations/tip.py)
        return step.outcome(await step.tip_answer.start(step.env, step.actor, press.id))
    if press.act in TIP_PRESSES:  # an item of a lead already sent or dropped
        return [Reply(step.t("tip.stale_button"))]
    if Role.VOLUNTEER not in step.actor.roles:
        return [Reply(step.t("wechat.volunteer.only"))]
    try:
        return await _pressed(step, press)
    except ClaimedByYou:
        return [Reply(step.t("task.yours_already"))]
    except tasks.ClaimBound as bound:
        return [Reply(step.t(f"task.limit_{bound.bound}", limit=bound.limit))]
    except AlreadyClaimed:
        return [Reply(step.t("task.just_taken"))]
    except Held as exc:
        until = exc.until.astimezone(step.env.settings.tz).strftime("%H:%M")
        return [Reply(step.t("task.held", until=until))]
    except (NotAllowed, NotFound):
        return [Reply(step.t("error.not_allowed"))]  # a forged id learns nothing
    except Conflict as exc:
        return [Reply(step.t("wish.stale", status=step.t(f"task.status.{exc.current or 'open'}")))]


async def _pressed(step: _Step, press: Press) -> list[Reply]:
    act = press.act
    if act == Act.TASK_PAGE:
        arg = press.arg or "0"
        edge = int(arg[2:]) if len(arg) > 2 and int(arg[2:]) <= MAX_SUBJECT else None
        after = edge if arg[1:2] == "n" else None
        before = edge if arg[1:2] == "p" else None
        return await task_page(step, press.id, show_all=arg[0] == "1", after=after, before=before)
    if act == Act.TASK_VIEW:
        wish, profile = await tasks.claimable(step.env, step.actor, press.id)
        distance = matching.distance_km(profile.location if profile else None, wish)
        card = steps.words(step.owner._catalogues, step.lang, pages.task_card(step.env, wish, distance))
        whens = [step.choice(f"task.button.claim_{when}", Act.TASK_CLAIM, wish.id, when) for when in tasks.WHEN_CHOICES]
        return [step.menu_reply(card + "\n\n" + step.t("task.ask_when"), whens)]
    if act == Act.TASK_CLAIM:
        claimed = await tasks.claim(step.env, step.actor, press.id, press.arg or "")
        wish = claimed.wish
        said = Reply(step.t("task.claimed", ref=wish_ref(wish.ref_no), due=tasks.local_due(step.env, wish)))
        return [said, *await details(step, wish.id)]
    if act == Act.TASK_SHOW:
        return await details(step, press.id)
    if act == Act.TASK_MINE_PAGE:
        return await my_tasks(step, press.id)
    if act == Act.TASK_DONE:  # hours, proof photo, note: the form written once (conversations/task_done.py)
        return step.outcome(await TaskDone().start(step.env, step.actor, press.id))
    # 放弃: why, the form written once (conversations/task_release.py).
    return step.outcome(await TaskRelease().start(step.env, step.actor, press.id))


async def lead_answered(step: _Step, press: Press) -> list[Reply]:
    """同意 / 不同意 under the question whether a finished task's photo may go to the editors (as on Telegram)."""
    try:
        outcome = await tip_actions.answer_lead(step.env, step.actor, press.id, agree=press.act == Act.LEAD_YES)
    except (NotFound, NotAllowed):
        return [Reply(step.t("error.not_allowed"))]
    except Conflict:
        return [Reply(step.t("lead.already_answered"))]
    wish = wish_ref(outcome.wish_ref_no)
    if outcome.tip is None:
        return [Reply(step.t("lead.declined", wish=wish))]
    return [Reply(step.t("lead.agreed", wish=wish, reference=tip_reference(outcome.tip.id)))]


async def scanned(step: _Step, scene: str) -> list[Reply]:
    """A scan of one of the account's parametric QR codes (or a follow by scanning it)."""
    step.state = {}
    if scene.startswith(VOLUNTEER_SCENE):
        code = scene.removeprefix(VOLUNTEER_SCENE)
        if Role.VOLUNTEER in step.actor.roles:
            return [Reply(step.t("wechat.invite.already_volunteer"))]
        try:
            invite = await invite_actions.check_invite(step.env, code, "volunteer")
        except (NotFound, LimitReached):
            return [Reply(step.t("wechat.invite.invalid"))]
        async with step.env.db.write() as conn:
            await wechat.keep_invite(conn, step.openid, invite.code)
        return await step.start_registration()  # the registration written once, with the invite
    if scene.startswith(REPORTER_SCENE):
        try:
            person = await tip_actions.join_by_invite(step.env, step.actor, scene.removeprefix(REPORTER_SCENE))
        except (NotFound, LimitReached):
            return [Reply(step.t("start.bad_link"))]
        except Conflict:
            return [Reply(step.t("reporter.already"))]
        if Role.REPORTER.value not in person.roles:
            return [Reply(step.t("reporter.applied"))]
        return [Reply(step.t("reporter.welcome"))]
    return step.welcome()
