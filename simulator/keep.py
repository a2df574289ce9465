"""What the demo's chats showed, kept in a folder so the page shows the same history after a restart.

Both simulators hold their chats in memory; the bot's database survives a restart of the demo, so without this the
panes would open empty beside a district full of what was done in them. `ChatKeeper` writes, shortly after any
change and once more when the demo stops, the people's private Telegram chats (their messages and the bot's, edits
applied, with the next message id, so the bot's old cards stay editable), every file those chats refer to, and the
WeChat accounts' chats, photos, reply windows and MsgIds (the bot takes a MsgId it has seen for a retry), and the
WeCom members' inboxes (cards as they show now), the files the bot uploaded there, the task ids and response codes it
was given (so its cards can still be updated once) and the members' own side (`wecom_page.PaneLog`). `load()`
puts them back into freshly made simulators, after the people exist. One JSON file plus one file per photo or
document, each written once; nothing of it is needed for the bot to work.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
from pathlib import Path
from typing import Any

from .server import BotApiSimulator
from .state import BotMessage, ChatState, StoredFile
from .wechat import Account, WeChatSimulator
from .wecom import Card, Code, Member, Received, Upload, WeComSimulator
from .wecom_page import PaneLog

STATE_FILE = "chats.json"
FILES = "files"
SAVE_AFTER = 0.5  # seconds: a burst of messages is written once
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")
_MEDIA_KINDS = ("photo", "video", "voice", "document")

log = logging.getLogger(__name__)


class ChatKeeper:
    """Saves and restores the chats of one demo's simulators in `folder`."""

    def __init__(
        self,
        folder: Path,
        sim: BotApiSimulator,
        wx: WeChatSimulator | None = None,
        wc: WeComSimulator | None = None,
        wecom_log: PaneLog | None = None,
    ) -> None:
        self.folder = folder
        self.sim = sim
        self.wx = wx
        self.wc = wc
        self.wecom_log = wecom_log or PaneLog()
        self._pending: asyncio.TimerHandle | None = None

    # == lifecycle ==================================================================================

    def watch(self) -> None:
        """Save shortly after anything in a chat changes."""
        self.sim.listeners.append(self._on_change)
        if self.wx is not None:
            self.wx.listeners.append(self._on_change)
        if self.wc is not None:
            self.wc.listeners.append(self._on_change)

    def close(self) -> None:
        """Stop watching and save what is there now."""
        with contextlib.suppress(ValueError):
            self.sim.listeners.remove(self._on_change)
        if self.wx is not None:
            with contextlib.suppress(ValueError):
                self.wx.listeners.remove(self._on_change)
        if self.wc is not None:
            with contextlib.suppress(ValueError):
                self.wc.listeners.remove(self._on_change)
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self.save()

    def _on_change(self, _chat: object) -> None:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(SAVE_AFTER, self._save_now)

    def _save_now(self) -> None:
        self._pending = None
        try:
            self.save()
        except OSError:
            log.exception("could not keep the demo's chats in %s", self.folder)

    # == saving =====================================================================================

    def save(self) -> None:
        """Write every person's chat and the files it shows (the JSON replaced whole, never half written)."""
        (self.folder / FILES).mkdir(parents=True, exist_ok=True)
        state: dict[str, Any] = {
            "telegram": {
                "last_update_id": self.sim.last_update_id,
                "files": [self._keep_file(stored) for stored in self.sim.files.by_id.values()],
                "chats": {str(uid): _chat_record(self.sim.chats[uid]) for uid in self.sim.people},
            }
        }
        if self.wx is not None:
            state["wechat"] = self._wechat_record(self.wx)
        if self.wc is not None:
            state["wecom"] = self._wecom_record(self.wc)
        target = self.folder / STATE_FILE
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        partial.replace(target)

    def _keep_file(self, stored: StoredFile) -> dict[str, Any]:
        name = _SAFE_NAME.sub("_", stored.file_unique_id)
        path = self.folder / FILES / name
        if not path.exists():
            path.write_bytes(stored.data)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "size": stored.size,
            "file_path": stored.file_path,
            "mime_type": stored.mime_type,
            "file_name": stored.file_name,
            "width": stored.width,
            "height": stored.height,
            "data": name,
        }

    def _wechat_record(self, wx: WeChatSimulator) -> dict[str, Any]:
        media = {}
        for media_id, (content, stored_at) in wx.media.items():
            name = "wx-" + _SAFE_NAME.sub("_", media_id)
            path = self.folder / FILES / name
            if not path.exists():
                path.write_bytes(content)
            media[media_id] = {"data": name, "at": stored_at.isoformat()}
        accounts = {
            openid: {
                "last_inbound": account.last_inbound.isoformat() if account.last_inbound else None,
                "sent_in_window": account.sent_in_window,
                "clicked_at": account.clicked_at.isoformat() if account.clicked_at else None,
                "sent_since_click": account.sent_since_click,
            }
            for openid, account in wx.accounts.items()
        }
        return {"history": wx.history, "media": media, "accounts": accounts, "last_msg_id": wx.last_msg_id}

    def _wecom_record(self, wc: WeComSimulator) -> dict[str, Any]:
        uploads = {}
        for media_id, upload in wc.uploads.items():
            name = "wc-" + _SAFE_NAME.sub("_", media_id)
            path = self.folder / FILES / name
            if not path.exists():
                path.write_bytes(upload.content)
            uploads[media_id] = {
                "kind": upload.kind,
                "filename": upload.filename,
                "data": name,
                "at": upload.at.isoformat(),
            }
        inboxes = {
            userid: [
                {
                    "kind": r.kind,
                    "text": r.text,
                    "at": r.at.isoformat() if r.at else None,
                    "card": None
                    if r.card is None
                    else {
                        "task_id": r.card.task_id,
                        "title": r.card.title,
                        "buttons": [list(button) for button in r.card.buttons],
                        "replaced": r.card.replaced,
                        "body": r.card.body,
                    },
                }
                for r in member.inbox
            ]
            for userid, member in wc.members.items()
        }
        codes = {
            code: {"task_id": c.task_id, "issued_at": c.issued_at.isoformat(), "used": c.used}
            for code, c in wc.codes.items()
        }
        own = {
            userid: [{"kind": e.kind, "text": e.text, "at": e.at} for e in entries]
            for userid, entries in self.wecom_log.by_userid.items()
        }
        return {"inboxes": inboxes, "uploads": uploads, "task_ids": sorted(wc.task_ids), "codes": codes, "own": own}

    # == loading ====================================================================================

    def load(self) -> bool:
        """Put back what an earlier run kept, for the people who exist now; whether there was anything."""
        try:
            state = json.loads((self.folder / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(state, dict):
            return False
        try:
            self._load_telegram(state.get("telegram") or {})
            if self.wx is not None:
                self._load_wechat(self.wx, state.get("wechat") or {})
            if self.wc is not None:
                self._load_wecom(self.wc, state.get("wecom") or {})
        except (KeyError, TypeError, ValueError, OSError):
            log.exception("the demo's kept chats in %s could not be read; the panes start empty", self.folder)
            return False
        return True

    def _load_telegram(self, state: dict[str, Any]) -> None:
        # The bot remembers the update ids it handled: the restarted simulator must not give one of them again.
        self.sim.last_update_id = max(self.sim.last_update_id, int(state.get("last_update_id", 0)))
        for entry in state.get("files", []):
            if entry["file_id"] in self.sim.files.by_id:
                continue  # registered again at this start (the seed's photos)
            self.sim.files.restore(
                StoredFile(
                    file_id=entry["file_id"],
                    file_unique_id=entry["file_unique_id"],
                    data=(self.folder / FILES / Path(entry["data"]).name).read_bytes(),
                    size=int(entry["size"]),
                    file_path=entry["file_path"],
                    mime_type=entry["mime_type"],
                    file_name=entry["file_name"],
                    width=entry["width"],
                    height=entry["height"],
                )
            )
        for uid, record in state.get("chats", {}).items():
            chat = self.sim.chats.get(int(uid))
            if chat is not None and int(uid) in self.sim.people:
                self._restore_chat(chat, record)

    def _restore_chat(self, chat: ChatState, record: dict[str, Any]) -> None:
        chat.next_message_id = max(chat.next_message_id, int(record["next_message_id"]))
        chat.user_messages = {int(m["message_id"]): m for m in record["user_messages"]}
        chat.reply_keyboard = record.get("reply_keyboard")
        chat.bot_messages = [self._bot_message(chat.id, m) for m in record["bot_messages"]]

    def _bot_message(self, chat_id: int, m: dict[str, Any]) -> BotMessage:
        raw: dict[str, Any] = m["raw"]
        message = BotMessage(
            message_id=int(m["message_id"]),
            chat_id=chat_id,
            date=int(m["date"]),
            text=m["text"],
            entities=list(m["entities"]),
            kind=str(m["kind"]),
            raw=raw,
            reply_markup=m["reply_markup"],
            location=(float(m["location"][0]), float(m["location"][1])) if m.get("location") else None,
            media_group_id=m.get("media_group_id"),
            edited=bool(m["edited"]),
            voice_duration=m.get("voice_duration"),
        )
        for kind in _MEDIA_KINDS:
            media = raw.get(kind)
            if media:
                stored = self.sim.files.by_id.get((media[-1] if kind == "photo" else media)["file_id"])
                if stored is not None:
                    setattr(message, f"{kind}_bytes", stored.data)
        if message.kind == "document":
            message.document_name = (raw.get("document") or {}).get("file_name")
        return message

    def _load_wechat(self, wx: WeChatSimulator, state: dict[str, Any]) -> None:
        for media_id, entry in state.get("media", {}).items():
            content = (self.folder / FILES / Path(entry["data"]).name).read_bytes()
            wx.media[media_id] = (content, dt.datetime.fromisoformat(entry["at"]))
        for openid, entry in state.get("accounts", {}).items():
            account = wx.accounts.setdefault(openid, Account(openid))
            last = entry.get("last_inbound")
            account.last_inbound = dt.datetime.fromisoformat(last) if last else None
            account.sent_in_window = int(entry.get("sent_in_window") or 0)
            clicked = entry.get("clicked_at")
            account.clicked_at = dt.datetime.fromisoformat(clicked) if clicked else None
            account.sent_since_click = int(entry.get("sent_since_click") or 0)
        for openid, entries in state.get("history", {}).items():
            wx.history[openid] = [e for e in entries if isinstance(e, dict)]
        wx.continue_msg_ids(int(state.get("last_msg_id") or 0))

    def _load_wecom(self, wc: WeComSimulator, state: dict[str, Any]) -> None:
        for media_id, entry in state.get("uploads", {}).items():
            content = (self.folder / FILES / Path(entry["data"]).name).read_bytes()
            at = dt.datetime.fromisoformat(entry["at"])
            wc.uploads[media_id] = Upload(str(entry["kind"]), str(entry["filename"]), content, at)
        for userid, entries in state.get("inboxes", {}).items():
            member = wc.members.setdefault(userid, Member(userid))
            member.inbox = [_received(entry) for entry in entries]
        wc.task_ids |= {str(task_id) for task_id in state.get("task_ids", [])}
        for code, entry in state.get("codes", {}).items():
            issued = dt.datetime.fromisoformat(entry["issued_at"])
            wc.codes[code] = Code(str(entry["task_id"]), issued, used=bool(entry["used"]))
        for userid, entries in state.get("own", {}).items():
            for entry in entries:
                self.wecom_log.add(userid, str(entry["kind"]), str(entry["text"]), float(entry["at"]))


def _received(entry: dict[str, Any]) -> Received:
    """A WeCom message a member received, as kept."""
    card = entry.get("card")
    return Received(
        str(entry["kind"]),
        str(entry["text"]),
        None
        if not card
        else Card(
            str(card["task_id"]),
            str(card["title"]),
            [(str(text), str(key)) for text, key in card["buttons"]],
            replaced=card.get("replaced"),
            body=str(card.get("body") or ""),
        ),
        at=dt.datetime.fromisoformat(entry["at"]) if entry.get("at") else None,
    )


def _chat_record(chat: ChatState) -> dict[str, Any]:
    """A private chat as JSON: what the page shows of it (deleted messages are gone for good)."""
    return {
        "next_message_id": chat.next_message_id,
        "user_messages": list(chat.user_messages.values()),
        "reply_keyboard": chat.reply_keyboard,
        "bot_messages": [
            {
                "message_id": m.message_id,
                "date": m.date,
                "text": m.text,
                "entities": m.entities,
                "kind": m.kind,
                "raw": m.raw,
                "reply_markup": m.reply_markup,
                "location": list(m.location) if m.location else None,
                "media_group_id": m.media_group_id,
                "edited": m.edited,
                "voice_duration": m.voice_duration,
            }
            for m in chat.bot_messages
            if not m.deleted
        ],
    }
