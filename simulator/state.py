"""In-memory world of the simulator: chats, messages, stored files, pending updates and the request log.

Everything the bot can observe through the Bot API and everything a test wants to assert on lives here as
plain dataclasses. The HTTP layer (:mod:`simulator.server`) mutates it; the person-facing test API
(:mod:`simulator.people`) reads it. Nothing here does I/O.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

ERROR_CATEGORY = Literal["spec", "unsupported", "content", "state", "auth", "forbidden", "flood", "stalled", "outage"]


class ApiError(Exception):
    """A Telegram-style error response (``ok: false``)."""

    def __init__(
        self,
        code: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        category: ERROR_CATEGORY = "content",
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters
        self.category = category


def bad_request(description: str, category: ERROR_CATEGORY = "content") -> ApiError:
    if not description.startswith("Bad Request: "):
        description = "Bad Request: " + description
    return ApiError(400, description, category=category)


@dataclass
class RequestRecord:
    """One request the bot made, as decoded by the simulator, and how it was answered."""

    method: str
    params: dict[str, Any]
    chat_id: int | str | None
    ok: bool
    time: float  # wall clock (time.time) when answered
    monotonic: float
    error_code: int | None = None
    description: str | None = None
    category: str | None = None  # for errors: spec | unsupported | content | state | flood | stalled | forbidden | auth
    result: Any = None


@dataclass
class StoredFile:
    """A file known to the fake Telegram servers (uploaded by a person or by the bot)."""

    file_id: str
    file_unique_id: str
    data: bytes
    size: int  # may exceed len(data) when a test declares a big file without the bytes
    file_path: str
    mime_type: str | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None

    def file_dict(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": self.size}


@dataclass
class BotMessage:
    """A message the bot sent, in its current state (edits applied)."""

    message_id: int
    chat_id: int
    date: int
    text: str | None  # text or caption, plain after HTML parsing
    entities: list[dict[str, Any]]
    kind: str  # "text" | "photo" | "document" | "video" | "location" | ...
    raw: dict[str, Any]  # the Message dict returned to the bot (updated on edit)
    reply_markup: dict[str, Any] | None = None  # any markup, including reply keyboards not echoed in raw
    photo_bytes: bytes | None = None
    document_bytes: bytes | None = None
    document_name: str | None = None
    video_bytes: bytes | None = None
    voice_bytes: bytes | None = None
    voice_duration: int | None = None
    location: tuple[float, float] | None = None
    media_group_id: str | None = None
    edited: bool = False
    deleted: bool = False
    seq_created: int = 0  # global activity sequence numbers: let people find "messages since my last action"
    seq_updated: int = 0

    @property
    def inline_buttons(self) -> list[list[str]]:
        """Labels of the inline keyboard, row by row ([] if none)."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [[str(b.get("text", "")) for b in row] for row in self.reply_markup["inline_keyboard"]]

    @property
    def reply_buttons(self) -> list[list[str]]:
        """Labels of the reply keyboard attached to this message, row by row ([] if none)."""
        if not self.reply_markup or "keyboard" not in self.reply_markup:
            return []
        return [
            [b if isinstance(b, str) else str(b.get("text", "")) for b in row] for row in self.reply_markup["keyboard"]
        ]

    def find_inline_button(self, label: str) -> dict[str, Any] | None:
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return None
        for row in self.reply_markup["inline_keyboard"]:
            for button in row:
                if button.get("text") == label:
                    return dict(button)
        return None

    def describe(self) -> str:
        """One transcript line."""
        flags = " (edited)" if self.edited else ""
        flags += " (deleted)" if self.deleted else ""
        body = self.text if self.text is not None else ""
        if self.kind != "text":
            body = f"[{self.kind}] {body}".rstrip()
        buttons = self.inline_buttons or self.reply_buttons
        if buttons:
            body += "  " + " ".join(f"[{label}]" for row in buttons for label in row)
        return f"bot #{self.message_id}{flags}: {body}"


@dataclass
class ChatState:
    """A chat the bot can talk to: a person's private chat or a group."""

    chat: dict[str, Any]  # the Telegram Chat object
    next_message_id: int = 1
    bot_messages: list[BotMessage] = field(default_factory=list)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    # (seq, line) pairs for a readable transcript in timeout errors
    transcript: list[tuple[int, str]] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None  # the reply keyboard currently shown to the person

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def is_private(self) -> bool:
        return bool(self.chat["type"] == "private")

    def take_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid

    def bot_message(self, message_id: int) -> BotMessage | None:
        for m in self.bot_messages:
            if m.message_id == message_id and not m.deleted:
                return m
        return None


class FileStore:
    """Files by file_id and by file_path, with Telegram-looking identifiers."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}

    def add(
        self,
        data: bytes,
        *,
        kind: str,
        mime_type: str | None = None,
        file_name: str | None = None,
        declared_size: int | None = None,
        file_id: str | None = None,
    ) -> StoredFile:
        """Store a file; a fixed ``file_id`` lets a file outlive this in-memory store (the demo registers its
        seeded photos again at every start, under the ids its database holds)."""
        n = next(self._counter)
        ext = _extension(file_name, mime_type, kind)
        folder = {"photo": "photos", "video": "videos", "document": "documents", "sticker": "stickers"}.get(
            kind, "files"
        )
        width = height = None
        if kind == "photo":
            width, height = image_size(data)
        stored = StoredFile(
            file_id=file_id or f"SIM{kind[:3].upper()}-{n:06d}-AgACAgUAAxkBAAI",
            file_unique_id=f"AQAD{n:06d}",
            data=data,
            size=declared_size if declared_size is not None else len(data),
            file_path=f"{folder}/file_{n}{ext}",
            mime_type=mime_type,
            file_name=file_name,
            width=width,
            height=height,
        )
        self.by_id[stored.file_id] = stored
        self.by_path[stored.file_path] = stored
        return stored

    def restore(self, stored: StoredFile) -> None:
        """Put back a file an earlier run stored (the demo keeps its chats across a restart), under its old ids and
        path; files added later are numbered after it, so no path is given twice."""
        self.by_id[stored.file_id] = stored
        self.by_path[stored.file_path] = stored
        number = stored.file_unique_id.removeprefix("AQAD")
        if number.isdigit():
            self._counter = itertools.count(max(int(number) + 1, next(self._counter)))


def _extension(file_name: str | None, mime_type: str | None, kind: str) -> str:
    if file_name and "." in file_name:
        return "." + file_name.rsplit(".", 1)[1]
    known = {"image/png": ".png", "image/jpeg": ".jpg", "video/mp4": ".mp4", "application/pdf": ".pdf"}
    if mime_type in known:
        return known[mime_type]
    return {"photo": ".jpg", "video": ".mp4", "sticker": ".webp"}.get(kind, "")


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height via Pillow, or 100x100 when the bytes are not a readable image."""
    from PIL import Image, UnidentifiedImageError  # local import: Pillow is only needed for photos

    try:
        with Image.open(io.BytesIO(data)) as img:
            return int(img.width), int(img.height)
    except (UnidentifiedImageError, OSError, ValueError):
        return 100, 100


def sample_png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 60, 60)) -> bytes:
    """A small valid PNG for people who "send a photo" without caring what it shows."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()
