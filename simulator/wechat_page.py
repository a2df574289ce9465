"""The WeChat pane of the demo page: a WeChat-styled chat for the simulator's WeChat people (王阿姨, and 小周 and
张记者, whose WeChat accounts are linked to their people), beside the Telegram panes; the pane switches between them,
each with the menu WeChat gives them (their role's conditional menu). Routes under `/api/wechat` read each
account's chat (`WeChatSimulator.history`) and act through the same `WeChatPerson` methods the tests use;
`webchat_static/wechat.js` draws it. A menu click is shown by the button's label (许心愿), as the person saw it,
not by the key the bot receives (WISH); photos are served from the simulator's media, whoever sent them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from simulator.wechat import WeChatPerson, WeChatSimulator

MAX_TEXT = 600
DEMO_LOCATION = (30.2741, 120.1551, "幸福路12号")


def routes(
    wx: WeChatSimulator,
    people: Sequence[WeChatPerson],
    samples_dir: Path,
    hint: Mapping[str, Any] | None = None,
    *,
    roles: Mapping[str, str] | None = None,
    hints: Mapping[str, Mapping[str, Any]] | None = None,
) -> Callable[[web.Application], None]:
    """A hook for `WebChat(extra_routes=…)` that adds the WeChat pane's API; `hint` is the pane's first hint per page
    language (as `WebChat`'s `hint_of` gives them); `roles` and `hints` the role shown beside a person's name and their
    own first hint, by openid."""
    by_openid = {person.openid: person for person in people}

    def person_of(request: web.Request) -> WeChatPerson:
        found = by_openid.get(request.match_info["openid"])
        if found is None:
            raise web.HTTPNotFound(text="no such WeChat person")
        return found

    async def body(request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="expected a JSON object") from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="expected a JSON object")
        return data

    def ok(status: tuple[int, str]) -> web.Response:
        return web.json_response({"ok": status[0] == 200, "status": status[0]})

    async def state(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "menu": wx.menu,
                "hint": hint,
                "people": [
                    {
                        "openid": p.openid,
                        "name": p.name,
                        "role": (roles or {}).get(p.openid, ""),
                        "hint": (hints or {}).get(p.openid) or hint,
                        "menu": wx.menu_of(p.openid),
                        "messages": shown(wx.history.get(p.openid, []), menu_labels(wx.menu_of(p.openid))),
                    }
                    for p in people
                ],
            }
        )

    async def text(request: web.Request) -> web.Response:
        value = str((await body(request)).get("text") or "").strip()
        if not value or len(value) > MAX_TEXT:
            raise web.HTTPBadRequest(text=f"a text of 1 to {MAX_TEXT} characters is needed")
        return ok(await person_of(request).send_text(value))

    async def tap(request: web.Request) -> web.Response:
        data = await body(request)
        return ok(await person_of(request).tap_item(str(data.get("id") or ""), str(data.get("content") or "")))

    async def click(request: web.Request) -> web.Response:
        return ok(await person_of(request).click(str((await body(request)).get("key") or "")))

    async def location(request: web.Request) -> web.Response:
        latitude, longitude, label = DEMO_LOCATION
        return ok(await person_of(request).send_location(latitude, longitude, label))

    async def photo(request: web.Request) -> web.Response:
        name = Path(str((await body(request)).get("sample") or "")).name
        path = samples_dir / name
        if not name or not path.is_file():
            raise web.HTTPBadRequest(text="no such sample")
        return ok(await person_of(request).send_photo(path.read_bytes()))

    async def media(request: web.Request) -> web.Response:
        found = wx.media.get(request.match_info["media_id"])
        if found is None:
            raise web.HTTPNotFound(text="expired or unknown")
        return web.Response(body=found[0], content_type="image/jpeg")

    def add(app: web.Application) -> None:
        app.router.add_get("/api/wechat", state)
        app.router.add_get("/api/wechat/media/{media_id}", media)
        app.router.add_post("/api/wechat/{openid}/text", text)
        app.router.add_post("/api/wechat/{openid}/tap", tap)
        app.router.add_post("/api/wechat/{openid}/click", click)
        app.router.add_post("/api/wechat/{openid}/location", location)
        app.router.add_post("/api/wechat/{openid}/photo", photo)

    return add


def menu_labels(menu: Mapping[str, Any] | None) -> dict[str, str]:
    """Each click button's key → its label, sub-menus included."""
    labels: dict[str, str] = {}
    for button in (menu or {}).get("button") or []:
        for entry in [button, *(button.get("sub_button") or [])]:
            if entry.get("key"):
                labels[str(entry["key"])] = str(entry.get("name") or entry["key"])
    return labels


def shown(messages: Sequence[dict[str, Any]], labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """The chat as the person saw it: a menu click carries its button's label."""
    return [{**m, "label": labels.get(m["text"], m["text"])} if m.get("kind") == "click" else m for m in messages]
