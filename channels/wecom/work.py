"""Staff decisions on WeCom cards beyond a wish's 通过 and a case's 签收 (`channels.wecom.server` handles those):
a volunteer application's 通过 / 退回, a case's 办结 and 退回, a tip's decisions, the whistle on an open wish nobody
claimed. Every press runs the action Telegram's button runs (`actions.applications`, `actions.cases`,
`actions.tips`, `actions.whistles`); every recipient's card then says who decided, and a press after that is told.

A press that asks for words (an application's or a case's 退回 reason, 办结's note and photo, a tip's reason,
question or link) refuses first in WeCom's words (who decided, who holds the case), then starts the conversation
written once (`conversations/`), which `channels.wecom.conversing` runs: kept in the database as the member's open
question (one per member with an expiry), answered under the subject's decision lock, and `refresh` updates every
recipient's card. The desk's role confirmations are the only questions still kept and answered here (`answer`).

`sweep` updates the cards of subjects decided elsewhere (on Telegram, or by another member's answer on another
instance): it runs after every callback and every `SWEEP_SECONDS` on the bot's timer, reads each waiting subject
from the database and updates the cards of those no longer waiting to say who decided.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actions import applications as application_actions
from actions import cases as case_actions
from actions import tips as tip_actions
from actions import whistles as whistle_actions
from actions.messages import Notice
from channels.wechat import render
from channels.wecom.cards import (
    APPLICATION_APPROVE,
    APPLICATION_REJECT,
    HAND_BACK,
    HELD_CASE,
    RESOLVE,
    TIP_VERBS,
    WHISTLE,
    application_key,
    case_key,
    decision_card,
    holder_key,
    tip_card,
    tip_key,
    whistle_key,
)
from conversations import case_forms, rejection, tip_note
from conversations.base import Subject
from core.i18n import Catalogues
from rules.applications import ApplicationStatus
from rules.cases import CaseStatus
from rules.tips import TipAction, TipStatus, actions_for, tip_reference
from rules.whistles import WhistleError
from rules.wishes import Actor, WishStatus, wish_ref
from storage import applications, audit, cases, media, people, tips, users, whistles, wishes
from storage import wecom as wecom_store
from storage.errors import Conflict, NotAllowed, NotFound
from storage.people import WECOM
from storage.users import User

if TYPE_CHECKING:
    from channels.wecom.server import WeComChannel

log = logging.getLogger(__name__)

QUESTION_WAIT = dt.timedelta(minutes=30)  # how long an answer to a question after a press is waited for
SWEEP_SECONDS = 30.0
CANCEL_WORDS = frozenset({"取消", "cancel"})
# The questions after a press are the layer's (`channels.wecom.conversing`: why a wish, an application or a case is
# sent back, 办结's note and photo, a tip's reason, question or link) but for the desk's role confirmations.
ROLE_QUESTION_PREFIX = "role_"  # the desk's confirmations of 授权 and 撤销 (`channels.wecom.desk.ROLE_QUESTION`)
REVIEW_ACTIONS = ("wish.approve", "wish.reject")
# A tip's decisions by the name its button and question carry, and the audit entries that name who took one.
TIP_DECISIONS = {
    "accept": TipAction.ACCEPT,
    "decline": TipAction.DECLINE,
    "more": TipAction.ASK_MORE,
    "publish": TipAction.PUBLISH,
}
TIP_NAMES = {action: name for name, action in TIP_DECISIONS.items()}
TIP_ACTIONS = tuple(f"tip.{action.value}" for action in TIP_DECISIONS.values())


RESOLVE_FORM = case_forms.CaseResolve(WECOM)  # 办结's photo is kept as WeCom's: a file downloaded (`save_photo`)


class CardWork:
    """The presses and questions of one WeCom channel (`channel`: replies, roles, card updates)."""

    def __init__(self, channel: WeComChannel, media_dir: Path) -> None:
        self._channel = channel
        self._env = channel.env
        self._media_dir = media_dir
        self._sweeping = asyncio.Lock()

    def _t(self, language: str, key: str, **values: object) -> str:
        return self._channel.text(language, key, **values)

    async def _say(self, userid: str, language: str, key: str, **values: object) -> None:
        await self._channel.say(userid, self._t(language, key, **values))

    # -- presses ----------------------------------------------------------------------------------------------------

    async def press(
        self, userid: str, person: User, actor: Actor, verb: str, subject_id: int, arg: str | None = None
    ) -> None:
        """A button of an application, case, whistle or tip card (`arg`: a tip card's status letter)."""
        lang = person.language
        if verb in TIP_VERBS:
            await self._tip_press(userid, person, actor, verb.removeprefix("tip"), subject_id, arg)
        elif verb == APPLICATION_APPROVE:
            await self._approve_application(userid, person, actor, subject_id)
        elif verb == APPLICATION_REJECT:  # the reason asked by the layer's rejection (conversations/rejection.py)
            started = await rejection.APPLICATION.start(self._env, actor, subject_id)
            if started.state is not None:
                await self._channel.conversing.show(userid, lang, started)
            elif started.answer is not None and started.answer.key == "error.not_allowed":
                await self._say(userid, lang, "wecom.not_staff")
            else:
                await self._application_decided(userid, lang, subject_id)
        elif verb in (RESOLVE, HAND_BACK):
            await self._case_press(userid, person, actor, verb, subject_id)
        elif verb == WHISTLE:
            await self._whistle(userid, person, actor, subject_id)

    async def ask(self, userid: str, kind: str, subject_id: int, note: str | None = None) -> None:
        """Keep the question the member is asked (replacing any earlier one of theirs)."""
        async with self._env.db.write() as conn:
            await wecom_store.ask(conn, userid, kind, subject_id, now=self._env.now(), wait=QUESTION_WAIT, note=note)

    async def _approve_application(self, userid: str, person: User, actor: Actor, application_id: int) -> None:
        """通过 through the action Telegram's button runs; every card says who (退回 is the layer's rejection)."""
        lang = person.language
        async with self._channel.decisions.turn(application_key(application_id)):
            try:
                decided = await application_actions.approve_volunteer(self._env, actor, application_id)
            except NotAllowed:
                await self._say(userid, lang, "wecom.not_staff")
                return
            except (Conflict, NotFound):
                await self._application_decided(userid, lang, application_id)
                return
            label = self._t(lang, "wecom.decided.approved", name=person.display_name)
            await self._channel.update_cards(application_key(application_id), label)
        await self._say(userid, lang, "wecom.application.approved", name=decided.person.display_name)

    async def _application_decided(self, userid: str, lang: str, application_id: int) -> None:
        """A press on an application someone already decided: who."""
        async with self._env.db.read() as conn:
            try:
                application = await applications.get_application(conn, application_id)
            except NotFound:
                return
            decider = await users.get_user(conn, application.decided_by) if application.decided_by else None
        if decider is not None:
            await self._say(userid, lang, "wecom.application.already", name=decider.display_name)
        else:
            await self._say(userid, lang, "wecom.application.already_unknown")

    async def _case_press(self, userid: str, person: User, actor: Actor, verb: str, case_id: int) -> None:
        """办结 (the member who took it, while it is taken) or 退回 (a member, while it is open): ask what they have
        to say; a case that moved on meanwhile is said to have."""
        lang = person.language
        try:
            shown = await case_actions.view(self._env, case_id)
        except NotFound:
            return
        case = shown.case
        if verb == RESOLVE:
            if case.status != CaseStatus.ACKNOWLEDGED or case.acknowledged_by != actor.user_id:
                await self.case_moved(userid, lang, shown)
                return
            # The note, then a photo or 不附照片: the layer's form (conversations/case_forms.py).
            await self._channel.conversing.show(userid, lang, await RESOLVE_FORM.start(self._env, actor, case_id))
            return
        if case.status not in (CaseStatus.SENT, CaseStatus.ACKNOWLEDGED) or (
            case.status == CaseStatus.ACKNOWLEDGED and case.acknowledged_by != actor.user_id
        ):
            await self.case_moved(userid, lang, shown)
            return
        # The reason asked by the layer's form (conversations/case_forms.py), answered through the conversing.
        await self._channel.conversing.show(userid, lang, await case_forms.RETURN.start(self._env, actor, case_id))

    async def case_moved(self, userid: str, lang: str, shown: case_actions.CaseView) -> None:
        """Where a case stands, for a press that came after it moved on."""
        status = shown.case.status
        if status == CaseStatus.ACKNOWLEDGED:
            await self._say(userid, lang, "wecom.case.already", ref=shown.ref, name=shown.acknowledged_by or "—")
        else:
            await self._say(userid, lang, f"wecom.case.now_{status}", ref=shown.ref)

    async def _whistle(self, userid: str, person: User, actor: Actor, wish_id: int) -> None:
        """吹哨: the same whistle as Telegram's 📣; every coordinator's card then says who blew it."""
        lang = person.language
        async with self._channel.decisions.turn(whistle_key(wish_id)):
            try:
                outcome = await whistle_actions.whistle(self._env, actor, wish_id)
            except WhistleError as error:
                if error.reason == "whistle.too_soon" and await self._whistled_by(userid, lang, wish_id):
                    return
                values = {
                    name.removesuffix("_key"): self._t(lang, str(value)) if name.endswith("_key") else value
                    for name, value in error.values.items()
                }
                await self._say(userid, lang, error.reason, **values)
                return
            except NotFound:
                return
            except NotAllowed:
                await self._say(userid, lang, "wecom.not_staff")
                return
            await self._channel.update_cards(
                whistle_key(wish_id), self._t(lang, "wecom.decided.whistled", name=person.display_name)
            )
        await self._say(
            userid, lang, "wecom.whistle.sent", ref=wish_ref(outcome.wish.ref_no), count=outcome.whistle.sent_count
        )

    async def _whistled_by(self, userid: str, lang: str, wish_id: int) -> bool:
        """A press after a whistle was blown moments ago: who blew it (False: nobody on record, say the rule)."""
        async with self._env.db.read() as conn:
            blown = await whistles.latest_unanswered(conn, wish_id)
            wish = await wishes.get_wish(conn, wish_id)
            person = await users.get_user(conn, blown.coordinator_id) if blown is not None else None
        if blown is None or person is None:
            return False
        await self._say(
            userid,
            lang,
            "wecom.whistle.already",
            ref=wish_ref(wish.ref_no),
            name=person.display_name,
            count=blown.sent_count,
        )
        return True

    # -- tips -----------------------------------------------------------------------------------------------------

    async def tip_card(self, person_id: int, language: str, tip: tips.Tip) -> tuple[str, dict[str, Any]]:
        """The editor's card of the tip (`editor_card`) and its CardBook key."""
        return editor_card(self._channel.catalogues, language, tip, person_id, self._env.now())

    async def _tip_press(
        self, userid: str, person: User, actor: Actor, name: str, tip_id: int, arg: str | None
    ) -> None:
        """A tip card's decision: accept at once; decline, ask more and publish ask for the words first."""
        lang = person.language
        action, seen = TIP_DECISIONS.get(name), tip_actions.seen_status(arg)
        if action is None or seen is None:
            return  # not a card of ours
        try:
            await tip_actions.check_decision(self._env, actor, tip_id, action, seen=seen)
        except NotAllowed:
            await self._say(userid, lang, "wecom.not_editor")
            return
        except NotFound:
            return
        except Conflict:
            await self._tip_decided(userid, lang, tip_id)
            return
        if action is TipAction.ACCEPT:
            await self._tip_accept(userid, person, actor, tip_id, seen)
            return
        # The reason, question or link: the layer's note (conversations/tip_note.py), answered through the conversing.
        await self._channel.conversing.show(
            userid, lang, await tip_note.NOTE.start(self._env, actor, tip_id, action, seen)
        )

    async def _tip_accept(self, userid: str, person: User, actor: Actor, tip_id: int, seen: TipStatus) -> None:
        """Accept through `actions.tips` (the reporter is told), update every editor's card of the tip as it was;
        the accepted tip comes back to the editor as a card with its next decisions (publish, decline)."""
        lang = person.language
        async with self._channel.decisions.turn(f"tip:{tip_id}"):
            try:
                tip = await tip_actions.accept(self._env, actor, tip_id, seen=seen)
            except NotAllowed:
                await self._say(userid, lang, "wecom.not_editor")
                return
            except (Conflict, NotFound):
                await self._tip_decided(userid, lang, tip_id)
                return
            label = self._t(lang, "wecom.decided.tip_accept", name=person.display_name)
            await self._channel.update_cards(tip_key(tip_id, tip_actions.SEEN_CODES[seen]), label)
        await self._say(userid, lang, "review.done_accept", reference=tip_reference(tip_id))
        subject, content = await self.tip_card(person.id, lang, tip)
        await self._channel.send_card(userid, subject, content)

    async def _tip_decided(self, userid: str, lang: str, tip_id: int) -> None:
        """A press on a tip someone decided meanwhile: who, and where it stands."""
        async with self._env.db.read() as conn:
            try:
                tip = await tips.get_tip(conn, tip_id)
            except NotFound:
                return
            decider = await audit.last_actor(conn, TIP_ACTIONS, tip_reference(tip_id))
            person = await users.get_user(conn, decider) if decider is not None else None
        status = self._t(lang, f"tip.status.{tip.status}")
        await self._say(
            userid,
            lang,
            "wecom.tip.already",
            reference=tip_reference(tip_id),
            name=person.display_name if person is not None else "—",
            status=status,
        )

    # -- answers ----------------------------------------------------------------------------------------------------

    async def answer(self, userid: str, person: User, data: dict[str, Any]) -> bool:
        """The member's message, if it answers their open question (False: they have none)."""
        async with self._env.db.read() as conn:
            asked = await wecom_store.question(conn, userid)
        if asked is None:
            return False
        lang = person.language
        kind = data.get("MsgType")
        text = str(data.get("Content") or "") if kind == "text" else ""
        if self._env.now() >= asked.expires_at:
            await self._forget(userid)
            return False  # answered as any message is
        if text.strip().lower() in CANCEL_WORDS:
            await self._forget(userid)
            await self._say(userid, lang, "wecom.question.cancelled")
            return True
        if kind != "text":
            await self._say(userid, lang, "wecom.question.text_expected")
            return True
        if asked.kind.startswith(ROLE_QUESTION_PREFIX):  # 确认 of a role change asked by the desk's 授权 / 撤销
            await self._channel.desk.role_answer(userid, person, asked, text)
        else:  # a question this version no longer asks here (one kept before an upgrade): over, nothing changed
            await self._forget(userid)
            await self._say(userid, lang, "wecom.question.cancelled")
        return True

    async def forget(self, userid: str) -> bool:
        """Drop the member's question; False when there was none (another instance took the answer first)."""
        return await self._forget(userid)

    async def _forget(self, userid: str) -> bool:
        async with self._env.db.write() as conn:
            return await wecom_store.forget_question(conn, userid)

    async def save_photo(self, media_id: str) -> str:
        """Download a member's image at once (WeCom keeps it 3 days) into the media folder; its path there."""
        content = await self._channel.api.download_media(media_id)
        folder = self._media_dir / WECOM
        name = f"{uuid.uuid4().hex}.jpg"

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)

        await asyncio.to_thread(write)
        return str(Path(WECOM) / name)

    # -- the holder's card ------------------------------------------------------------------------------------------

    async def holder_card(self, userid: str, person: User, case_id: int) -> None:
        """After 签收: the member's card of the case they now hold, with 办结 and 退回."""
        shown = await case_actions.view(self._env, case_id)
        values = {**case_actions.card_values(shown.case, shown.department, self._env), "name": person.display_name}
        text = render.render_notice(self._channel.catalogues, person.language, Notice("case.card_mine", values)).text
        content = decision_card(
            HELD_CASE,
            self._channel.catalogues,
            person.language,
            subject_id=case_id,
            person_id=person.id,
            body=text,
            now=self._env.now(),
            ref=shown.ref,
        )
        await self._channel.send_card(userid, holder_key(case_id), content)

    # -- cards decided elsewhere ------------------------------------------------------------------------------------

    @staticmethod
    def key_of(subject: Subject) -> str:
        """The CardBook key (and decision lock) of a subject a conversation of the layer is about."""
        return application_key(subject.id) if subject.kind == "application" else f"{subject.kind}:{subject.id}"

    async def refresh(self, userid: str, subject: Subject) -> None:
        """A conversation of the layer changed the subject: every recipient's card says who decided, as the sweep
        reads it from the database (the caller holds the subject's lock); a case handed back names the member on
        its new cards and on the holder's."""
        key = self.key_of(subject)
        if subject.kind == "tip":  # its cards are kept by the status they showed: those of the status it left
            for seen in tip_actions.SEEN_CODES.values():
                label = await self._outcome(tip_key(subject.id, seen))
                if label is not None:
                    await self._channel.update_cards(tip_key(subject.id, seen), label)
            return
        if subject.kind == "case":
            async with self._env.db.read() as conn:
                case = await cases.get_case(conn, subject.id)
                person = await people.find_person(conn, WECOM, userid)
            if case.status == CaseStatus.RETURNED and person is not None:
                named = self._t(person.language, "wecom.decided.handed_back", name=person.display_name)
                await self._channel.update_cards(case_key(subject.id), named)
                await self._channel.update_cards(holder_key(subject.id), named)
                return
            if case.status == CaseStatus.RESOLVED and person is not None:
                if case.resolution_media_id is not None:  # the photo downloaded is kept as a file the bot sends
                    async with self._env.db.write() as conn:
                        kept = await media.file_ref(conn, case.resolution_media_id, WECOM)
                        if kept is not None:
                            await media.add_ref(conn, case.resolution_media_id, "file", kept)
                named = self._t(person.language, "wecom.decided.resolved", name=person.display_name)
                await self._channel.update_cards(holder_key(subject.id), named)
                return
        label = await self._outcome(key)
        if label is not None:
            await self._channel.update_cards(key, label)

    async def sweep(self) -> int:
        """Update the cards of every subject decided since they were sent (on Telegram too); how many subjects."""
        if self._sweeping.locked():
            return 0
        async with self._sweeping:
            async with self._env.db.read() as conn:
                subjects = await wecom_store.waiting_subjects(conn, now=self._env.now())
            done = 0
            for subject in subjects:
                label = await self._outcome(subject)
                if label is not None:
                    async with self._channel.decisions.turn(subject):
                        await self._channel.update_cards(subject, label)
                    done += 1
            return done

    async def _outcome(self, subject: str) -> str | None:
        """What the subject's cards should now say, or None while it still waits for its decision."""
        kind, _, rest = subject.partition(":")
        number, _, seen = rest.partition(":")
        if not number.isdigit():
            return None
        subject_id = int(number)
        lang = self._env.settings.default_language
        async with self._env.db.read() as conn:
            try:
                if kind == "wish":
                    wish = await wishes.get_wish(conn, subject_id)
                    if wish.status == WishStatus.PENDING_REVIEW:
                        return None
                    decider = await audit.last_actor(conn, REVIEW_ACTIONS, wish_ref(wish.ref_no))
                    label = "wecom.decided.rejected" if wish.status == WishStatus.REJECTED else "wecom.decided.approved"
                    return await self._named(conn, lang, label, decider)
                if kind == "app":
                    application = await applications.get_application(conn, subject_id)
                    if application.status == ApplicationStatus.PENDING:
                        return None
                    label = (
                        "wecom.decided.approved"
                        if application.status == ApplicationStatus.APPROVED
                        else "wecom.decided.rejected"
                    )
                    return await self._named(conn, lang, label, application.decided_by)
                if kind in ("case", "work"):
                    case = await cases.get_case(conn, subject_id)
                    waiting = CaseStatus.SENT if kind == "case" else CaseStatus.ACKNOWLEDGED
                    if case.status == waiting:
                        return None
                    if case.status == CaseStatus.ACKNOWLEDGED:
                        return await self._named(conn, lang, "wecom.decided.acknowledged", case.acknowledged_by)
                    return self._t(lang, f"wecom.decided.case_{case.status}")
                if kind == "tip":
                    tip = await tips.get_tip(conn, subject_id)
                    if tip_actions.seen_status(seen) in (None, TipStatus(tip.status)):
                        return None
                    decider = await audit.last_actor(conn, TIP_ACTIONS, tip_reference(subject_id))
                    name = TIP_NAMES.get(_TIP_STATUS_ACTIONS.get(TipStatus(tip.status), TipAction.ACCEPT), "accept")
                    return await self._named(conn, lang, f"wecom.decided.tip_{name}", decider)
                if kind == "whistle":
                    wish = await wishes.get_wish(conn, subject_id)
                    blown = await whistles.latest_unanswered(conn, subject_id)
                    if blown is not None:
                        return await self._named(conn, lang, "wecom.decided.whistled", blown.coordinator_id)
                    if wish.status == WishStatus.OPEN:
                        return None
                    return self._t(lang, "wecom.decided.moved_on")
            except NotFound:
                return self._t(lang, "wecom.decided.moved_on")
        return None

    async def _named(self, conn: Any, lang: str, label: str, person_id: int | None) -> str:
        person = await users.get_user(conn, person_id) if person_id is not None else None
        if person is None:
            return self._t(lang, "wecom.decided.moved_on")
        return self._t(lang, label, name=person.display_name)


# The decision that leaves a tip in each status (what its cards say once it is there).
_TIP_STATUS_ACTIONS = {
    TipStatus.ACCEPTED: TipAction.ACCEPT,
    TipStatus.DECLINED: TipAction.DECLINE,
    TipStatus.MORE_INFO_REQUESTED: TipAction.ASK_MORE,
    TipStatus.PUBLISHED: TipAction.PUBLISH,
}


def editor_card(
    catalogues: Catalogues, language: str, tip: tips.Tip, person_id: int, now: dt.datetime
) -> tuple[str, dict[str, Any]]:
    """An editor's card of a tip with the decisions its status allows (those of Telegram's review card), and its
    CardBook key (the tip and the status the card shows)."""

    def t(key: str, **values: object) -> str:
        return catalogues.text(language, key, **values)

    seen = tip_actions.SEEN_CODES[TipStatus(tip.status)]
    reference = tip_reference(tip.id)
    title_key = "wecom.card.tip_accepted_title" if tip.status == TipStatus.ACCEPTED else "wecom.card.tip_title"
    body = t(
        "wecom.card.tip_body",
        category=t(f"category.{tip.category}"),
        media=len(tip.media),
        description=tip.description[:100],
    )
    decisions = [(t(f"review.button_{TIP_NAMES[action]}"), TIP_NAMES[action]) for action in actions_for(tip.status)]
    content = tip_card(
        source=t("wecom.card.tip_source"),
        title=t(title_key, reference=reference),
        body=body,
        tip_id=tip.id,
        person_id=person_id,
        seen=seen,
        decisions=decisions,
        now=now,
    )
    return tip_key(tip.id, seen), content
