"""WeCom's adapter for the conversations written once (`conversations/`): a member's message becomes an `Input`, an
`Outcome` becomes text messages. An application message has no buttons a member can press for a step (a card's are
its own), so a step's choices are numbered under its text and the typed number is the press; edits in place are
Telegram's and show nothing here; a tap's answer is a line of its own. The words are WeChat's (`channels.wechat.steps`:
plain text, and a key's `.wechat` wording where one is written, as the desk's are).

A conversation about one subject (`About`: a wish, a volunteer application or a case sent back with a reason) is
started by a card's press (`show` of its first outcome); its answer is taken under the channel's lock of that subject
(`hold`, the lock a card's press decides under), and an outcome that changed it has the channel update every
recipient's card (`refresh`) before the lock is let go, so a second press is told who decided.

The conversation (its state and the last step's numbered choices) is the member's open question (`storage.wecom`,
kind `layer`, as JSON in its note), so whichever instance receives the answer goes on, after a restart too, and a
press on a card or another question asked replaces it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, runtime_checkable

from actions.buttons import parse_press
from actions.env import Env
from channels.tencent_api import ApiError
from channels.wechat import render, steps
from conversations.base import Attachment, Conversation, Expect, Input, Outcome, State, Subject, run
from conversations.broadcast import BroadcastConversation
from conversations.case_forms import RETURN
from conversations.rejection import APPLICATION, WISH
from conversations.tip_note import NOTE
from core.i18n import Catalogues
from rules.roles import Role
from rules.staff import may
from rules.wishes import Actor
from storage import wecom as wecom_store

log = logging.getLogger(__name__)

LAYER = "layer"  # the kind of a member's open question that is a conversation of the layer
WAIT = dt.timedelta(minutes=30)  # how long a step waits for its answer (as the cards' questions do)
BROADCAST_WORDS = frozenset({"群发", "/broadcast"})

Say = Callable[[str, str], Awaitable[bool]]
Hold = Callable[[Subject], AbstractAsyncContextManager[object]]
Refresh = Callable[[str, Subject], Awaitable[None]]
SavePhoto = Callable[[str], Awaitable[str]]  # an image's MediaId downloaded and kept: its path in the media folder


@runtime_checkable
class About(Protocol):
    """A conversation about one subject (what a card was pressed for): named before its answer is taken."""

    def subject(self, state: State) -> Subject: ...


class Conversing:
    """Runs the layer's conversations for WeCom members (a coordinator's broadcast, the 退回 reason of a wish,
    an application or a case): `begin` starts one from the word typed, `show` one a card's press started, `answer`
    takes the member's next message. `hold` and `refresh` are the channel's lock of a subject and its update of
    that subject's cards."""

    def __init__(
        self,
        env: Env,
        catalogues: Catalogues,
        say: Say,
        *,
        hold: Hold | None = None,
        refresh: Refresh | None = None,
        save_photo: SavePhoto | None = None,
        conversations: tuple[Conversation, ...] = (),
    ) -> None:
        self._env = env
        self._catalogues = catalogues
        self._say = say
        self._hold, self._refresh, self._save_photo = hold, refresh, save_photo
        broadcast = BroadcastConversation()
        self._conversations: Mapping[str, Conversation] = {
            broadcast.name: broadcast,
            APPLICATION.name: APPLICATION,
            WISH.name: WISH,
            RETURN.name: RETURN,
            NOTE.name: NOTE,
            **{conversation.name: conversation for conversation in conversations},
        }

    async def begin(self, userid: str, language: str, actor: Actor, data: dict[str, Any]) -> bool:
        """A typed word that starts a conversation (群发, /broadcast): its first step asked; False for anything else.
        A member without the role is told which role it takes, as the desk's entries do."""
        typed = str(data.get("Content") or "").strip().lower() if data.get("MsgType") == "text" else ""
        if typed not in BROADCAST_WORDS:
            return False
        if not may(actor.roles, "broadcast"):
            role = render.text(self._catalogues, language, f"role.{Role.COORDINATOR.value}")
            await self._say(userid, render.text(self._catalogues, language, "wecom.desk.need_role", role=role))
            return True
        await self._show(userid, language, BroadcastConversation().start(actor))
        return True

    async def answer(self, userid: str, language: str, actor: Actor, data: dict[str, Any]) -> bool:
        """The member's message, when they are in a conversation (False: they are not, or its step waited too long
        and the message is answered as any message is)."""
        async with self._env.db.read() as conn:
            asked = await wecom_store.question(conn, userid)
        if asked is None or asked.kind != LAYER:
            return False
        if self._env.now() >= asked.expires_at:
            await self._forget(userid)
            return False
        state, choices, labels = self._state_of(asked.note)
        if state is None:  # unreadable (a conversation this version does not hold): over, nothing changed
            await self._forget(userid)
            await self._say(userid, render.text(self._catalogues, language, "wecom.question.cancelled"))
            return True
        conversation = self._conversations[state.conversation]
        given = input_of(data, choices, labels)
        if given.attachment == Attachment("photo") and any(
            say.expect == Expect.PHOTO for say in conversation.ask(state)
        ):
            photo = await self._photo(userid, language, data)
            if photo is None:
                return True  # not downloaded: said, the step still waits
            given = Input(photo=photo)
        if isinstance(conversation, About) and self._hold is not None:
            async with self._hold(conversation.subject(state)):
                outcome = await run(conversation, self._env, actor, state, given)
                await self._changed(userid, outcome)
        else:
            outcome = await run(conversation, self._env, actor, state, given)
            await self._changed(userid, outcome)
        # At the same step, a reply without choices (a number out of range, a photo) keeps the numbers shown.
        same = outcome.state == state
        await self._show(userid, language, outcome, kept=(choices, labels) if same else ([], {}))
        return True

    async def show(self, userid: str, language: str, outcome: Outcome) -> None:
        """The first outcome of a conversation a card's press started: its messages sent, its state kept as the
        member's open question (replacing any earlier one)."""
        await self._show(userid, language, outcome)

    async def _photo(self, userid: str, language: str, data: dict[str, Any]) -> str | None:
        """An image sent at a step that takes a photo, downloaded at once (WeCom keeps it 3 days): its kept path, or
        None when it could not be downloaded (said)."""
        try:
            if self._save_photo is None:
                raise OSError("no folder to keep photos in")
            return await self._save_photo(str(data.get("MediaId") or ""))
        except (ApiError, OSError) as exc:
            log.warning("a WeCom photo could not be downloaded: %s", exc)
            await self._say(userid, render.text(self._catalogues, language, "wecom.case.photo_failed"))
            return None

    async def _changed(self, userid: str, outcome: Outcome) -> None:
        if outcome.changed is not None and self._refresh is not None:
            await self._refresh(userid, outcome.changed)

    def _state_of(self, kept: str | None) -> tuple[State | None, list[str], dict[str, str]]:
        """The conversation's state, its last step's choices by number (their presses) and by label."""
        try:
            stored = json.loads(kept or "")
        except ValueError:
            return None, [], {}
        if not isinstance(stored, dict):
            return None, [], {}
        data = stored.get("state")
        found = self._conversations.get(str(data.get("conversation"))) if isinstance(data, dict) else None
        choices = [str(choice) for choice in stored.get("choices") or [] if isinstance(choice, str)]
        named = stored.get("labels")
        labels = {str(k): str(v) for k, v in named.items()} if isinstance(named, dict) else {}
        return (found.state_from_json(data) if found is not None else None), choices, labels

    async def _show(
        self, userid: str, language: str, outcome: Outcome, *, kept: tuple[list[str], dict[str, str]] = ([], {})
    ) -> None:
        """Keep the state and the choices numbered (`kept`, the choices still shown, when it shows none), or forget
        the conversation when it ended; then send the outcome's messages, each step's choices numbered (kept first,
        so whoever reads a reply finds the question as it says)."""
        choices: list[str] = []
        labels: dict[str, str] = {}  # a choice typed by its label (不附照片, as the step's words say) is that press too
        messages: list[str] = []
        for reply in steps.replies(self._catalogues, language, outcome):
            lines = [reply.text]
            for number, choice in enumerate(reply.choices, start=len(choices) + 1):
                lines.append(f"{number}. {choice.label}")
                choices.append(choice.press)
                labels[label_typed(choice.label)] = choice.press
            if reply.choices:
                lines.append(render.text(self._catalogues, language, "wecom.choose_number"))
            messages.append("\n".join(lines))
        if outcome.state is None:
            await self._forget(userid)
        else:
            state = outcome.state.to_json()
            shown = (choices, labels) if choices else kept
            note = json.dumps({"state": state, "choices": shown[0], "labels": shown[1]}, ensure_ascii=False)
            async with self._env.db.write() as conn:
                await wecom_store.ask(conn, userid, LAYER, 0, now=self._env.now(), wait=WAIT, note=note)
        for message in messages:
            await self._say(userid, message)

    async def _forget(self, userid: str) -> None:
        async with self._env.db.write() as conn:
            await wecom_store.forget_question(conn, userid)


def takes_photo(conversation: Conversation, state: State) -> bool:
    """Whether the conversation's step asks for a photo (an image sent then is downloaded before the step runs)."""
    return any(say.expect == Expect.PHOTO for say in conversation.ask(state))


def label_typed(label: str) -> str:
    """A choice's label as a member would type it: without the ✅ of a chosen one, spaces and case aside."""
    return "".join(label.removeprefix("✅").split()).casefold()


def input_of(data: dict[str, Any], choices: list[str], labels: dict[str, str] | None = None) -> Input:
    """A member's message as the layer reads it: a typed number of the last step's choices, or a choice's label typed
    (`labels`), is that press; an image is a file the runner downloads when the step asks for a photo."""
    kind = data.get("MsgType")
    if kind == "image":
        return Input(attachment=Attachment("photo"))
    if kind != "text":
        return Input(attachment=Attachment("other"))
    text = str(data.get("Content") or "")
    typed = text.strip()
    if typed.isdecimal() and len(typed) <= 3 and 0 < int(typed) <= len(choices):
        return Input(press=parse_press(choices[int(typed) - 1]))
    if labels and (press := labels.get(label_typed(typed))) is not None:
        return Input(press=parse_press(press))
    return Input(text=text)
