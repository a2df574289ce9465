"""The WeCom pane of the demo page: a WeCom-styled (企业微信) chat for a member of the corporation using the bot's
self-built application (陈主任, the demo's coordinator who works in WeCom), beside the Telegram panes.

Routes under `/api/wecom` read what the application sent the member (`WeComSimulator`'s inbox: texts, images, files
and template cards) together with what the member did there (kept here: WeCom's servers keep no copy the page could
read), and act through the same `WeComMember` methods the tests use: a typed text, a tap on the application's menu
(the one the bot set with `menu/create`), a sample photo, and a press on a card's button, which the simulator posts
to the bot's callback as WeCom does (a `template_card_event`, encrypted and signed). `webchat_static/wecom.js` draws
it; a card whose buttons the bot replaced (`update_template_card`) shows the replacing text instead of its buttons.
Images and files the bot uploaded are served under `/api/wecom/media/` (files as downloads, with their filename).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from simulator.webchat import json_object
from simulator.wechat_page import menu_labels  # the same menu JSON (path/90231 has WeChat's shape)
from simulator.wecom import Card, Received, WeComMember, WeComSimulator

MAX_TEXT = 600


@dataclass
class Sent:
    """Something the member did in the application, as the pane shows it."""

    kind: str  # text | click | image
    text: str
    at: float
    seq: int


@dataclass
class PaneLog:
    """What each member did in the application (their side of the chat), in order."""

    by_userid: dict[str, list[Sent]] = field(default_factory=dict)
    seq: int = 0

    def add(self, userid: str, kind: str, text: str, at: float) -> None:
        self.seq += 1
        self.by_userid.setdefault(userid, []).append(Sent(kind, text, at, self.seq))


def card_view(card: Card) -> dict[str, Any]:
    """A template card as the member sees it: its title, text, and buttons or the text that replaced them."""
    return {
        "task_id": card.task_id,
        "title": card.title,
        "body": card.body,
        "buttons": [{"text": text, "key": key} for text, key in card.buttons],
        "replaced": card.replaced,
    }


def received_view(wc: WeComSimulator, received: Received) -> dict[str, Any]:
    """One message from the application, for the page."""
    at = received.at.timestamp() if received.at is not None else 0.0
    if received.kind == "template_card" and received.card is not None:
        return {"from": "app", "kind": "card", "at": at, "card": card_view(received.card)}
    if received.kind in ("image", "file"):
        upload = wc.uploads.get(received.text)
        return {
            "from": "app",
            "kind": received.kind,
            "at": at,
            "media": received.text,
            "filename": upload.filename if upload is not None else "",
            "size": len(upload.content) if upload is not None else 0,
        }
    return {"from": "app", "kind": "text", "at": at, "text": received.text}


def chat(wc: WeComSimulator, member: WeComMember, log: PaneLog) -> list[dict[str, Any]]:
    """The member's chat, oldest first: the application's messages and the member's own, by time."""
    labels = menu_labels(wc.menu)
    entries: list[tuple[float, int, dict[str, Any]]] = []
    for index, received in enumerate(member.inbox):
        view = received_view(wc, received)
        entries.append((view["at"], 2 * index + 1, view))
    for sent in log.by_userid.get(member.userid, []):
        text = labels.get(sent.text, sent.text) if sent.kind == "click" else sent.text
        entries.append((sent.at, 2 * sent.seq, {"from": "me", "kind": sent.kind, "at": sent.at, "text": text}))
    # By time (the bot's clock, both sides); at the same moment the member's act first (the application answers it).
    entries.sort(key=lambda entry: (entry[0], entry[2]["from"] != "me", entry[1]))
    return [view for _at, _order, view in entries]


def routes(
    wc: WeComSimulator,
    members: Sequence[WeComMember],
    samples_dir: Path,
    *,
    roles: Mapping[str, str] | None = None,
    switch_for: Mapping[str, str] | None = None,
    hints: Mapping[str, Mapping[str, Any]] | None = None,
    log: PaneLog | None = None,
) -> Callable[[web.Application], None]:
    """A hook for `WebChat(extra_routes=…)` that adds the WeCom pane's API. By userid: `roles` the role shown beside a
    member's name, `switch_for` the Telegram pane (by the person's name) the member's pane can take the place of,
    `hints` the pane's first hint per page language (as `WebChat`'s `hint_of` gives them). `log`: the members' own
    side of their chats (the demo keeps it across a restart, `simulator.keep`)."""
    by_userid = {member.userid: member for member in members}
    log = log if log is not None else PaneLog()

    def member_of(request: web.Request) -> WeComMember:
        found = by_userid.get(request.match_info["userid"])
        if found is None:
            raise web.HTTPNotFound(text="no such WeCom member")
        return found

    def ok(status: tuple[int, str]) -> web.Response:
        return web.json_response({"ok": status[0] == 200, "status": status[0]})

    def now() -> float:
        return wc.now().timestamp()

    async def state(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "menu": wc.menu,
                "members": [
                    {
                        "userid": m.userid,
                        "name": m.name,
                        "role": (roles or {}).get(m.userid, ""),
                        "telegram": (switch_for or {}).get(m.userid, ""),
                        "hint": (hints or {}).get(m.userid),
                        "messages": chat(wc, m, log),
                    }
                    for m in members
                ],
            }
        )

    async def text(request: web.Request) -> web.Response:
        member = member_of(request)
        value = str((await json_object(request)).get("text") or "").strip()
        if not value or len(value) > MAX_TEXT:
            raise web.HTTPBadRequest(text=f"a text of 1 to {MAX_TEXT} characters is needed")
        log.add(member.userid, "text", value, now())
        return ok(await member.send_text(value))

    async def click(request: web.Request) -> web.Response:
        member = member_of(request)
        key = str((await json_object(request)).get("key") or "")
        if key not in menu_labels(wc.menu):
            raise web.HTTPBadRequest(text="no such item in the application's menu")
        log.add(member.userid, "click", key, now())
        return ok(await member.click(key))

    async def photo(request: web.Request) -> web.Response:
        member = member_of(request)
        name = Path(str((await json_object(request)).get("sample") or "")).name
        path = samples_dir / name
        if not name or not path.is_file():
            raise web.HTTPBadRequest(text="no such sample")
        log.add(member.userid, "image", f"/static/samples/{quote(name)}", now())
        return ok(await member.send_image(path.read_bytes()))

    async def press(request: web.Request) -> web.Response:
        """A press on a card's button: the card must be the member's and still show that button."""
        member = member_of(request)
        data = await json_object(request)
        task_id, key = str(data.get("task_id") or ""), str(data.get("key") or "")
        card = next((r.card for r in reversed(member.inbox) if r.card is not None and r.card.task_id == task_id), None)
        if card is None:
            raise web.HTTPNotFound(text="no such card")
        label = next((text for text, button_key in card.buttons if button_key == key), None)
        if label is None or card.replaced is not None:
            raise web.HTTPConflict(text="the card no longer shows that button")
        return ok(await member.sim.post(*member.sim.signed(member.press_xml(card, label))))

    async def media(request: web.Request) -> web.Response:
        upload = wc.uploads.get(request.match_info["media_id"])
        if upload is None:
            raise web.HTTPNotFound(text="expired or unknown")
        if upload.kind == "image":
            kind = "image/png" if upload.content.startswith(b"\x89PNG") else "image/jpeg"
            return web.Response(body=upload.content, content_type=kind)
        kind = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
        name = quote(upload.filename or "file")
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
        return web.Response(body=upload.content, content_type=kind, headers=headers)

    def add(app: web.Application) -> None:
        app.router.add_get("/api/wecom", state)
        app.router.add_get("/api/wecom/media/{media_id}", media)
        app.router.add_post("/api/wecom/{userid}/text", text)
        app.router.add_post("/api/wecom/{userid}/click", click)
        app.router.add_post("/api/wecom/{userid}/photo", photo)
        app.router.add_post("/api/wecom/{userid}/press", press)

    return add
