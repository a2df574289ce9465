"""The test-facing side of the simulator: people and groups who talk to the bot, and what they see.

Story tests read like a conversation: ``await alice.send_command("/start")``, ``await alice.press("确认")``,
``msg = await alice.wait_for_text("W-0001")``. Each action becomes an Update the bot receives through
``getUpdates``; everything the bot sends back lands in the person's chat as :class:`BotMessage` objects with
edits applied. Failures explain themselves: pressing a button that is not there lists the buttons that are,
and a timed out wait shows the chat transcript.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .html import utf16_len
from .state import BotMessage, ChatState, sample_png

if TYPE_CHECKING:
    from .server import BotApiSimulator

_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
DEFAULT_LOCATION = (31.2304, 121.4737)  # People's Square, Shanghai


class Group:
    """A (basic) group chat with the bot in it."""

    def __init__(self, sim: BotApiSimulator, chat: ChatState) -> None:
        self.sim = sim
        self.chat = chat
        self.members: list[Person] = []

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def title(self) -> str:
        return str(self.chat.chat["title"])

    def add(self, *people: Person) -> Group:
        for person in people:
            if person not in self.members:
                self.members.append(person)
        return self

    @property
    def messages(self) -> list[BotMessage]:
        """Bot messages in the group, current state, deleted ones left out."""
        return [m for m in self.chat.bot_messages if not m.deleted]

    @property
    def last_message(self) -> BotMessage | None:
        msgs = self.messages
        return msgs[-1] if msgs else None

    def transcript(self) -> str:
        return self.sim.transcript(self.chat)


class Person:
    """A Telegram user with a private chat with the bot."""

    def __init__(self, sim: BotApiSimulator, user: dict[str, Any], chat: ChatState, phone: str) -> None:
        self.sim = sim
        self.user = user
        self.chat = chat
        self.phone = phone
        self.location: tuple[float, float] = DEFAULT_LOCATION
        self.callback_answers: list[str] = []
        self._cursor = 0  # index into chat.bot_messages for next_message()
        self._last_action_seq = 0  # wait_for_text searches messages touched after this

    def __repr__(self) -> str:
        return f"<Person {self.first_name} id={self.user_id}>"

    # -- identity --------------------------------------------------------------------------------------------

    @property
    def user_id(self) -> int:
        return int(self.user["id"])

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def first_name(self) -> str:
        return str(self.user["first_name"])

    @property
    def language_code(self) -> str | None:
        value = self.user.get("language_code")
        return None if value is None else str(value)

    # -- acting ----------------------------------------------------------------------------------------------

    def _chat_for(self, chat: Group | None) -> ChatState:
        if chat is None:
            return self.chat
        if self not in chat.members:
            chat.add(self)
        return chat.chat

    async def _send(self, fields: dict[str, Any], chat: Group | None) -> dict[str, Any]:
        target = self._chat_for(chat)
        msg = self.sim.user_message(self, target, fields)
        self._last_action_seq = self.sim.seq
        return msg

    async def send_text(self, text: str, *, chat: Group | None = None) -> dict[str, Any]:
        """Send a text message; a leading ``/command`` gets its bot_command entity like in real clients."""
        fields: dict[str, Any] = {"text": text}
        m = _COMMAND_RE.match(text)
        if m:
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))}]
        return await self._send(fields, chat)

    async def send_command(self, command: str, *args: str, chat: Group | None = None) -> dict[str, Any]:
        """``send_command("/start", "inv_abc")`` sends "/start inv_abc" (deep-link payload style)."""
        if not command.startswith("/"):
            command = "/" + command
        return await self.send_text(" ".join([command, *args]), chat=chat)

    def _caption(self, fields: dict[str, Any], caption: str | None) -> dict[str, Any]:
        if caption is not None:
            fields["caption"] = caption
        return fields

    async def send_photo(
        self, data: bytes | None = None, caption: str | None = None, *, chat: Group | None = None
    ) -> dict[str, Any]:
        stored = self.sim.files.add(data if data is not None else sample_png(), kind="photo", mime_type="image/png")
        return await self._send(self._caption({"photo": [self.sim.photo_size(stored)]}, caption), chat)

    async def send_album(
        self, items: list[bytes], caption: str | None = None, *, chat: Group | None = None
    ) -> list[dict[str, Any]]:
        """Photos sharing one media_group_id, the caption on the first, as Telegram delivers albums."""
        group_id = self.sim.new_media_group_id()
        sent = []
        for i, data in enumerate(items):
            stored = self.sim.files.add(data, kind="photo", mime_type="image/png")
            fields: dict[str, Any] = {"media_group_id": group_id, "photo": [self.sim.photo_size(stored)]}
            sent.append(await self._send(self._caption(fields, caption if i == 0 else None), chat))
        return sent

    async def send_video(
        self,
        data: bytes | None = None,
        caption: str | None = None,
        declared_size: int | None = None,
        *,
        chat: Group | None = None,
    ) -> dict[str, Any]:
        """``declared_size`` lets a test pretend the video is e.g. 25 MB without allocating it."""
        stored = self.sim.files.add(
            data if data is not None else b"\x00\x00\x00\x18ftypmp42",
            kind="video",
            mime_type="video/mp4",
            file_name="video.mp4",
            declared_size=declared_size,
        )
        video = {**stored.file_dict(), "width": 640, "height": 360, "duration": 5, "mime_type": "video/mp4"}
        return await self._send(self._caption({"video": video}, caption), chat)

    async def send_voice(
        self, duration: int = 25, data: bytes | None = None, *, chat: Group | None = None
    ) -> dict[str, Any]:
        """A voice note of `duration` seconds (OGG/Opus, as Telegram clients record them)."""
        stored = self.sim.files.add(data if data is not None else b"OggS\x00voice", kind="voice", mime_type="audio/ogg")
        self.sim.voice_durations[stored.file_id] = duration
        voice = {**stored.file_dict(), "duration": duration, "mime_type": "audio/ogg"}
        return await self._send({"voice": voice}, chat)

    async def send_document(
        self,
        data: bytes,
        filename: str = "a.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        declared_size: int | None = None,
        *,
        chat: Group | None = None,
    ) -> dict[str, Any]:
        stored = self.sim.files.add(
            data, kind="document", mime_type=mime_type, file_name=filename, declared_size=declared_size
        )
        document = {**stored.file_dict(), "file_name": filename, "mime_type": mime_type}
        return await self._send(self._caption({"document": document}, caption), chat)

    async def send_sticker(self, *, chat: Group | None = None) -> dict[str, Any]:
        stored = self.sim.files.add(b"RIFF\x00\x00\x00\x00WEBP", kind="sticker", mime_type="image/webp")
        sticker = {
            **stored.file_dict(),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return await self._send({"sticker": sticker}, chat)

    async def send_location(self, latitude: float, longitude: float, *, chat: Group | None = None) -> dict[str, Any]:
        return await self._send({"location": {"latitude": latitude, "longitude": longitude}}, chat)

    async def send_venue(self, latitude: float, longitude: float, title: str, address: str = "") -> dict[str, Any]:
        """Share a place picked from the map's list (a venue): it says where the place is, not where one is."""
        location = {"latitude": latitude, "longitude": longitude}
        venue = {"location": location, "title": title, "address": address}
        return await self._send({"location": location, "venue": venue}, None)

    async def forward_location(
        self, latitude: float, longitude: float, *, from_person: Person, sent_at: int
    ) -> dict[str, Any]:
        """Forward a location someone else sent earlier (`sent_at`: its Unix time)."""
        origin = {"type": "user", "date": sent_at, "sender_user": dict(from_person.user)}
        return await self._send(
            {"location": {"latitude": latitude, "longitude": longitude}, "forward_origin": origin}, None
        )

    async def send_contact(self, phone_number: str | None = None, *, chat: Group | None = None) -> dict[str, Any]:
        """Share a contact; by default the person's own (what a request_contact button sends)."""
        contact: dict[str, Any] = {"phone_number": phone_number or self.phone, "first_name": self.first_name}
        if phone_number is None:
            contact["user_id"] = self.user_id
        return await self._send({"contact": contact}, chat)

    async def press(self, label: str, *, message: BotMessage | None = None, chat: Group | None = None) -> str:
        """Press the inline button ``label`` (on ``message``, or the latest bot message that has it).

        Returns the callback query id. Raises AssertionError listing the visible buttons when there is no such
        button, so a failing story test says what the person could have pressed instead.
        """
        target = self._chat_for(chat)
        candidates = [message] if message is not None else list(reversed(target.bot_messages))
        for msg in candidates:
            if msg.deleted:
                continue
            button = msg.find_inline_button(label)
            if button is None:
                continue
            if "callback_data" not in button:
                raise AssertionError(
                    f"button {label!r} on message #{msg.message_id} is not a callback button: {button}"
                )
            query_id = self.sim.callback_query(self, msg, str(button["callback_data"]))
            self._last_action_seq = self.sim.seq
            return query_id
        visible = [
            f"  #{m.message_id}: {m.inline_buttons}" for m in target.bot_messages if not m.deleted and m.inline_buttons
        ]
        listing = "\n".join(visible[-8:]) or "  (no inline buttons at all)"
        raise AssertionError(f"{self.first_name} sees no inline button {label!r}; visible buttons:\n{listing}")

    async def press_reply_button(self, label: str, *, chat: Group | None = None) -> dict[str, Any]:
        """Tap a reply-keyboard button: shares location/contact for request_* buttons, else sends its text."""
        target = self._chat_for(chat)
        keyboard = target.reply_keyboard
        rows: list[list[Any]] = keyboard.get("keyboard", []) if keyboard else []
        for row in rows:
            for button in row:
                text = button if isinstance(button, str) else button.get("text")
                if text != label:
                    continue
                if isinstance(button, dict) and button.get("request_location"):
                    return await self.send_location(*self.location, chat=chat)
                if isinstance(button, dict) and button.get("request_contact"):
                    return await self.send_contact(chat=chat)
                return await self.send_text(label, chat=chat)
        labels = [[b if isinstance(b, str) else b.get("text") for b in row] for row in rows]
        raise AssertionError(f"{self.first_name} sees no reply keyboard button {label!r}; keyboard: {labels}")

    # -- observing (timeout= arguments are part of the documented test API, hence noqa ASYNC109) --

    @property
    def messages(self) -> list[BotMessage]:
        """Bot messages in the private chat, current state, deleted ones left out."""
        return [m for m in self.chat.bot_messages if not m.deleted]

    @property
    def last_message(self) -> BotMessage | None:
        msgs = self.messages
        return msgs[-1] if msgs else None

    def transcript(self) -> str:
        return self.sim.transcript(self.chat)

    async def next_message(self, timeout: float = 5.0) -> BotMessage:  # noqa: ASYNC109
        """The next new bot message in the private chat after the previous call (edits do not count)."""
        chat = self.chat
        await self.wait_for(lambda: len(chat.bot_messages) > self._cursor, timeout=timeout, what="a new bot message")
        msg = chat.bot_messages[self._cursor]
        self._cursor += 1
        return msg

    async def wait_for(
        self,
        predicate: Callable[[], object],
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        what: str = "",
    ) -> None:
        """Wait until ``predicate()`` is truthy; re-checked whenever the bot makes a request."""
        await self.sim.wait_until(predicate, timeout, chat=self.chat, what=what or "the condition")

    async def wait_for_text(self, text: str, timeout: float = 5.0) -> BotMessage:  # noqa: ASYNC109
        """First bot message (new or edited since my last action) whose text or caption contains ``text``."""
        found: list[BotMessage] = []
        since = self._last_action_seq

        def check() -> bool:
            for m in self.chat.bot_messages:
                if not m.deleted and m.seq_updated > since and text in (m.text or ""):
                    found.append(m)
                    return True
            return False

        await self.wait_for(check, timeout=timeout, what=f"a bot message containing {text!r}")
        return found[0]
