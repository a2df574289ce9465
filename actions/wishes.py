"""What residents and coordinators do to a wish, one action each, every effect in one transaction.

Each action opens one `env.db.write()` transaction, checks permission and state through `rules.wishes`
(refusals raise the typed errors of `storage.errors`, or `rules.wishes.InvalidInput` for a value out of
bounds), writes the change with its event, the audit entry where staff act, and every notice that follows,
each under the condition it is true under; then it wakes the sender. Effects:

  submit (resident): a wish `pending_review` (or `open` when WISH_REVIEW is off); its first event; when it
    waits for review, a normal-lane notice to every coordinator (and every admin who has written to the
    bot) with a button to /pending, true while the wish is `pending_review` and the recipient is still a
    coordinator. `LimitReached` past WISHES_PER_DAY in a day.
  approve (coordinator): pending_review → open; event; audit `wish.approve`; the resident's "approved,
    volunteers can claim now" notice (normal), true while the wish is `open`.
  reject (coordinator, with a reason): pending_review → rejected with the reason; event; audit
    `wish.reject`; the resident's notice with the reason (normal), true while the wish is `rejected`.
  recategorize (coordinator): the category of a pending or open wish; event; audit `wish.category`.
  summarize (coordinator): a one-line description for a spoken wish that has none; event; audit `wish.summary`.
  cancel (the resident, or a coordinator): pending_review | open | claimed → cancelled; event; audit
    `wish.cancel` when staff cancel someone else's wish; the claiming volunteer's notice (urgent), true
    while the wish is `cancelled`; the followers' notices.
  confirm (resident): done → confirmed (the hours count); event; the volunteer's thanks with the hours
    (normal), true while `confirmed`; the followers' notices; the story-lead offer to the volunteer when
    there is a proof photo (`actions.leads.offer_story_lead`).
  rate (resident, 1–5, a confirmed wish): the rating; event; the volunteer hears it (normal).
  not_yet (resident, with a note): done → claimed, back to the same volunteer with the note; event; the
    volunteer's notice with Done / Release buttons (urgent), true while the wish is `claimed` by them.
  join (resident): follows someone else's similar open wish (`rules.similar.join_wish`); no notice now —
    the follower hears of the wish's progress from the actions that move it.

Queries (read only, no effects): `may_submit`, `similar_to`, `check_reject`, `check_not_yet`, `mine`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.followers import tell_followers
from actions.leads import offer_story_lead
from actions.messages import Notice
from actions.recipients import coordinator_ids
from rules import wishes as lifecycle
from rules.roles import Role
from rules.similar import WishSketch, join_wish, similar_open_wish
from rules.wishes import Actor, InvalidInput, WishAction, WishDraft, WishStatus, wish_ref
from storage import audit, followers
from storage import cases as case_store
from storage import wishes as store
from storage.cases import Referral
from storage.errors import NotAllowed, NotFound
from storage.wishes import Wish

MINE_SHOWN = 5  # wishes per page of /mywishes
JOINED_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Submitted:
    """A stored wish; `awaiting_review` when coordinators must approve it before volunteers see it."""

    wish: Wish
    awaiting_review: bool


@dataclass(frozen=True, slots=True)
class Changed:
    """A wish as an action left it."""

    wish: Wish


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A confirmed wish; `lead_offered` when its proof photo was offered to the newsroom as a story lead."""

    wish: Wish
    lead_offered: bool


@dataclass(frozen=True, slots=True)
class Mine:
    """One page of a resident's wishes (newest first; `total` in all, every one reachable by page) and the
    wishes they joined."""

    wishes: list[Wish]
    joined: list[Wish]
    total: int = 0
    page: int = 0
    # Where the shown wishes sent to a department stand (by wish reference number).
    referrals: dict[int, Referral] = field(default_factory=dict)


def _person(actor: Actor) -> int:
    """The acting person's id; `NotAllowed` for the system (these are things only a person does)."""
    if actor.user_id is None:
        raise NotAllowed("only a person does this")
    return actor.user_id


async def submit(env: Env, actor: Actor, draft: WishDraft) -> Submitted:
    """The resident submits the draft (effects: see the module docstring)."""
    resident_id = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        wish = await lifecycle.submit_wish(
            conn,
            draft,
            resident_id=resident_id,
            now=now,
            review=env.settings.wish_review,
            daily_limit=env.settings.wishes_per_day,
        )
        awaiting = wish.status == WishStatus.PENDING_REVIEW
        if awaiting:
            await notices.queue_many(
                conn,
                await coordinator_ids(conn, env.settings.admin_ids),
                review_notice(wish),
                now=now,
                dedupe_prefix=f"wish-pending:{wish.id}",
                condition=[notices.wish_in(wish.id, WishStatus.PENDING_REVIEW), notices.holds_role(Role.COORDINATOR)],
            )
    env.wake()
    return Submitted(wish, awaiting)


def review_notice(wish: Wish) -> Notice:
    """A wish waits for review: what coordinators are told (WeCom makes it a card with 通过 / 退回)."""
    return Notice(
        "pending.notice_new_wish",
        {"ref": wish_ref(wish.ref_no), "category_key": f"category.{wish.category}"},
        ((Button("pending.button.open_pending", Act.PENDING_LIST),),),
    )


async def approve(env: Env, actor: Actor, wish_id: int) -> Changed:
    """A coordinator approves a waiting wish (effects: see the module docstring)."""
    now = env.now()
    async with env.db.write() as conn:
        wish = await lifecycle.approve_wish(conn, wish_id, actor=actor, now=now)
        await audit.record(conn, actor_id=actor.user_id, action="wish.approve", subject=wish_ref(wish.ref_no), now=now)
        await notices.queue(
            conn,
            wish.resident_id,
            Notice("wish.notice_approved", {"ref": wish_ref(wish.ref_no)}),
            now=now,
            dedupe_key=f"wish-approved:{wish.id}",
            condition=[notices.wish_in(wish.id, WishStatus.OPEN)],
        )
    env.wake()
    return Changed(wish)


async def reject(env: Env, actor: Actor, wish_id: int, reason: str) -> Changed:
    """A coordinator turns a waiting wish down with a reason (effects: see the module docstring)."""
    now = env.now()
    async with env.db.write() as conn:
        wish = await lifecycle.reject_wish(conn, wish_id, actor=actor, now=now, reason=reason)
        await audit.record(
            conn,
            actor_id=actor.user_id,
            action="wish.reject",
            subject=wish_ref(wish.ref_no),
            now=now,
            detail=wish.reject_reason,
        )
        await notices.queue(
            conn,
            wish.resident_id,
            Notice("wish.notice_rejected", {"ref": wish_ref(wish.ref_no), "reason": wish.reject_reason or ""}),
            now=now,
            dedupe_key=f"wish-rejected:{wish.id}",
            condition=[notices.wish_in(wish.id, WishStatus.REJECTED)],
        )
    env.wake()
    return Changed(wish)


async def recategorize(env: Env, actor: Actor, wish_id: int, category: str) -> Changed:
    """A coordinator files a pending or open wish under another category (effects: see the module
    docstring); `InvalidInput` for a category the centre does not offer."""
    if category not in env.settings.categories:
        raise InvalidInput("unknown_category")
    now = env.now()
    async with env.db.write() as conn:
        wish = await lifecycle.change_category(conn, wish_id, category, actor=actor, now=now)
        await audit.record(
            conn,
            actor_id=actor.user_id,
            action="wish.category",
            subject=wish_ref(wish.ref_no),
            now=now,
            detail=wish.category,
        )
    return Changed(wish)


async def summarize(env: Env, actor: Actor, wish_id: int, summary: str) -> Changed:
    """A coordinator gives a spoken wish without text a one-line summary (effects: see the module docstring)."""
    now = env.now()
    async with env.db.write() as conn:
        wish = await lifecycle.summarize_spoken(conn, wish_id, summary, actor=actor, now=now)
        await audit.record(conn, actor_id=actor.user_id, action="wish.summary", subject=wish_ref(wish.ref_no), now=now)
    return Changed(wish)


async def cancel(env: Env, actor: Actor, wish_id: int) -> Changed:
    """The resident (or a coordinator) withdraws a wish before it is done (effects: see the module docstring)."""
    now = env.now()
    async with env.db.write() as conn:
        before = await store.get_wish(conn, wish_id)
        wish = await lifecycle.cancel_wish(conn, wish_id, actor=actor, now=now)
        if actor.user_id != wish.resident_id:
            await audit.record(
                conn, actor_id=actor.user_id, action="wish.cancel", subject=wish_ref(wish.ref_no), now=now
            )
        if before.claimed_by is not None:
            await notices.queue(
                conn,
                before.claimed_by,
                Notice("task.notice_cancelled", {"ref": wish_ref(wish.ref_no)}),
                now=now,
                lane="urgent",
                dedupe_key=f"wish-cancelled:{wish.id}",
                condition=[notices.wish_in(wish.id, WishStatus.CANCELLED)],
            )
        await tell_followers(conn, wish, now=now)
    env.wake()
    return Changed(wish)


async def confirm(env: Env, actor: Actor, wish_id: int) -> Confirmed:
    """The resident confirms the volunteer did it (effects: see the module docstring)."""
    now = env.now()
    lead_offered = False
    async with env.db.write() as conn:
        wish = await lifecycle.confirm_wish(conn, wish_id, actor=actor, now=now)
        if wish.claimed_by is not None:
            await notices.queue(
                conn,
                wish.claimed_by,
                Notice("task.notice_confirmed", {"ref": wish_ref(wish.ref_no), "hours": f"{wish.hours or 0:g}"}),
                now=now,
                dedupe_key=f"wish-confirmed:{wish.id}",
                condition=[notices.wish_in(wish.id, WishStatus.CONFIRMED)],
            )
            # One case across the centres: the proof photo may become a story lead, if the volunteer agrees.
            lead_offered = await offer_story_lead(conn, wish, now=now)
        await tell_followers(conn, wish, now=now)
    env.wake()
    return Confirmed(wish, lead_offered)


async def rate(env: Env, actor: Actor, wish_id: int, rating: int) -> Changed:
    """The resident rates a confirmed wish 1–5 (effects: see the module docstring); `InvalidInput` outside."""
    now = env.now()
    async with env.db.write() as conn:
        wish = await lifecycle.rate_wish(conn, wish_id, actor=actor, now=now, rating=rating)
        if wish.claimed_by is not None:
            await notices.queue(
                conn,
                wish.claimed_by,
                Notice("task.notice_rated", {"ref": wish_ref(wish.ref_no), "rating": rating}),
                now=now,
                dedupe_key=f"wish-rated:{wish.id}:{rating}",
                condition=[notices.wish_in(wish.id, WishStatus.CONFIRMED)],
            )
    env.wake()
    return Changed(wish)


async def not_yet(env: Env, actor: Actor, wish_id: int, note: str) -> Changed:
    """The resident says "not done yet" with a note (effects: see the module docstring)."""
    note = lifecycle.check_text(note, lifecycle.NOTE_MAX)
    now = env.now()
    async with env.db.write() as conn:
        wish = await lifecycle.reopen_wish(conn, wish_id, actor=actor, now=now, note=note)
        if wish.claimed_by is not None:
            await notices.queue(
                conn,
                wish.claimed_by,
                Notice(
                    "task.notice_not_yet",
                    {"ref": wish_ref(wish.ref_no), "note": note},
                    (
                        (
                            Button("task.button.done", Act.TASK_DONE, wish.id),
                            Button("task.button.release", Act.TASK_RELEASE, wish.id),
                        ),
                    ),
                ),
                now=now,
                lane="urgent",
                dedupe_key=f"wish-notyet:{wish.id}:{wish.updated_at.isoformat()}",
                condition=[notices.wish_in(wish.id, WishStatus.CLAIMED), notices.holds_claim(wish.id)],
            )
    env.wake()
    return Changed(wish)


async def join(env: Env, actor: Actor, wish_id: int) -> Changed:
    """The resident follows someone else's similar open wish instead of submitting their own (effects: see
    the module docstring); `Conflict` when it is no longer going ahead, `NotAllowed` for their own."""
    follower_id = _person(actor)
    async with env.db.write() as conn:
        wish = await join_wish(conn, wish_id, user_id=follower_id, now=env.now())
    return Changed(wish)


# --- queries: what a channel shows before an action (no effects) ----------------------------------------


async def may_submit(env: Env, actor: Actor) -> bool:
    """Whether the resident may start another wish today (the per-day limit)."""
    async with env.db.read() as conn:
        return await lifecycle.may_submit(conn, _person(actor), now=env.now(), daily_limit=env.settings.wishes_per_day)


async def similar_to(env: Env, actor: Actor, draft: WishDraft) -> Wish | None:
    """An open wish nearby like the draft, someone else's and not already followed, or None."""
    sketch = WishSketch(0, draft.category, draft.description, draft.area, draft.location)
    async with env.db.read() as conn:
        return await similar_open_wish(conn, sketch, resident_id=_person(actor))


async def check_reject(env: Env, actor: Actor, wish_id: int) -> Wish:
    """The wish, if the coordinator may still reject it (before asking the reason); typed errors if not."""
    return await _check(env, actor, wish_id, WishAction.REJECT)


async def check_not_yet(env: Env, actor: Actor, wish_id: int) -> Wish:
    """The wish, if its resident may still say "not done yet" (before asking the note); typed errors if not."""
    return await _check(env, actor, wish_id, WishAction.REOPEN)


async def _check(env: Env, actor: Actor, wish_id: int, action: WishAction) -> Wish:
    async with env.db.read() as conn:
        wish = await store.get_wish(conn, wish_id)
    lifecycle.ensure_allowed(wish, action, actor)
    return wish


async def own_wish(env: Env, actor: Actor, wish_id: int) -> Wish | None:
    """One of the resident's own wishes (for its card from /mywishes); None if it is not theirs or unknown."""
    person_id = _person(actor)
    async with env.db.read() as conn:
        try:
            wish = await store.get_wish(conn, wish_id)
        except NotFound:
            return None
    return wish if wish.resident_id == person_id else None


async def mine(env: Env, actor: Actor, page: int = 0, *, size: int = MINE_SHOWN) -> Mine:
    """A page of the resident's wishes (newest first; a page out of range is clamped) and the wishes they
    joined, for /mywishes."""
    person_id = _person(actor)
    page = max(0, page)
    async with env.db.read() as conn:
        shown, total = await store.page_of_resident(conn, person_id, size, page * size)
        last = max(0, (total - 1) // size)
        if page > last:  # past the end (wishes erased since the page was drawn): the last page
            page = last
            shown, total = await store.page_of_resident(conn, person_id, size, page * size)
        joined = await followers.wishes_followed_by(conn, person_id, limit=JOINED_SHOWN)
        referred = [w.ref_no for w in shown if w.status == WishStatus.REFERRED]
        return Mine(shown, joined, total, page, await case_store.referrals_of_wishes(conn, referred))


def status_words(t: Callable[..., str], status: str, referral: Referral | None = None, *, owner: bool = True) -> str:
    """The status as people say it, through the reader's catalogue lookup `t`; a wish sent to a department says
    where its case stands ("已转交城管 · 部门已签收，正在办理"). `owner`: the reader is the wish's resident (a done
    wish waits for their confirmation); anyone else reads that it waits for the resident's."""
    if status == WishStatus.DONE and not owner:
        return t("similar.status_done")
    if status == WishStatus.REFERRED and referral is not None:
        return t("wish.status.case", department=referral.department, progress=t(f"wish.case.{referral.status}"))
    return t(f"wish.status.{status}")


async def referral(env: Env, wish: Wish) -> Referral | None:
    """Where a wish sent to a department stands (None: it was not sent)."""
    if wish.status != WishStatus.REFERRED:
        return None
    async with env.db.read() as conn:
        return (await case_store.referrals_of_wishes(conn, [wish.ref_no])).get(wish.ref_no)
