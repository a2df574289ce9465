"""The WeCom API client of one self-built application, against `WECOM_API_URL` (WeCom's, or the simulator's):
the access token (`gettoken`, developer.work.weixin.qq.com/document/path/91039), application messages
(`message/send`, path/90236), the update of a sent template card (`message/update_template_card`, path/94888),
the application's menu (`menu/create`, path/90231), temporary media for image and file messages
(`media/upload`, path/90253), and the members the application can see (its visible range from `agent/get`,
path/90227, and each visible department's members from `user/simplelist`, path/90200).

Errors come back as `WeComError(errcode, errmsg)`; an expired or invalid token (40001, 40014, 42001) is fetched
again once, transparently, and the call made once more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from channels.tencent_api import BUSY, ApiError, TokenApi

# WeCom's errors are the shared API error (the name kept for the channel's callers).
WeComError = ApiError
RATE_LIMITED = frozenset({45009, 45033})  # 接口调用超过限制 / 接口并发调用超过限制
NOT_MEMBER = frozenset({60111, 81013})  # userid not found / no valid recipient (outside the application's range)

__all__ = ["BUSY", "NOT_MEMBER", "RATE_LIMITED", "WeComApi", "WeComError"]


class WeComApi(TokenApi):
    """One application's API; `close()` at shutdown."""

    def __init__(
        self,
        base_url: str,
        corp_id: str,
        agent_id: int,
        secret: str,
        *,
        now: Callable[[], dt.datetime],
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, now=now, timeout=timeout)
        self._corp_id = corp_id
        self.agent_id = agent_id
        self._secret = secret

    async def _fetch_token(self) -> dict[str, Any]:
        """gettoken: WeCom asks callers to cache the token (gettoken is itself rate-limited); `token()` does."""
        return await self._call(
            "GET", "/cgi-bin/gettoken", params={"corpid": self._corp_id, "corpsecret": self._secret}
        )

    async def send(self, userid: str, msgtype: str, content: dict[str, Any]) -> dict[str, Any]:
        """An application message to one member (`text`, `template_card`, …); WeCom's answer (a template card with
        buttons brings its `response_code`). A member WeCom could not reach is named in `invaliduser`: an error."""
        body = {"touser": userid, "msgtype": msgtype, "agentid": self.agent_id, msgtype: content}
        answer = await self._api("/cgi-bin/message/send", body)
        if answer.get("invaliduser"):
            raise WeComError(81013, "invaliduser")
        return answer

    async def update_card_button(self, userids: list[str], response_code: str, replace_name: str) -> None:
        """Turn the buttons of a sent button-interaction card into one that cannot be pressed, saying `replace_name`
        (each response_code works once, within 72 hours)."""
        body = {
            "userids": userids,
            "agentid": self.agent_id,
            "response_code": response_code,
            "button": {"replace_name": replace_name},
        }
        await self._api("/cgi-bin/message/update_template_card", body)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Set the application's menu (`menu/create?agentid=`, path/90231): one menu for every member."""
        await self._renewing(
            lambda token: self._call(
                "POST", "/cgi-bin/menu/create", params={"access_token": token, "agentid": str(self.agent_id)}, body=menu
            )
        )

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """GET with the token (renewed once if refused)."""
        return await self._renewing(lambda token: self._call("GET", path, params={"access_token": token, **params}))

    async def visible_members(self, limit: int) -> list[tuple[str, str]]:
        """The members the application can see, (userid, name), at most `limit`, in the order WeCom lists them: the
        members of each department of its visible range (`agent/get`'s `allow_partys`, then `user/simplelist` per
        department, path/90200: a department's own members; sub-departments are not walked), then the members
        named one by one (`allow_userinfos`, known by userid alone). A member in two departments is listed once."""
        agent = await self._get("/cgi-bin/agent/get", {"agentid": str(self.agent_id)})
        found: dict[str, str] = {}
        for department in (agent.get("allow_partys") or {}).get("partyid") or []:
            if len(found) >= limit:
                break
            listed = await self._get("/cgi-bin/user/simplelist", {"department_id": str(int(department))})
            for user in listed.get("userlist") or []:
                found.setdefault(str(user.get("userid") or ""), str(user.get("name") or user.get("userid") or ""))
        for user in (agent.get("allow_userinfos") or {}).get("user") or []:
            found.setdefault(str(user.get("userid") or ""), str(user.get("userid") or ""))
        found.pop("", None)
        return list(found.items())[:limit]

    async def upload_media(self, kind: str, filename: str, content: bytes | Path) -> str:
        """Upload a temporary medium for an image or file message (`media/upload`, path/90253: `image` or `file`,
        its filename the one the member sees); its media_id, valid 3 days."""
        return await self.upload(
            kind, filename, content, "image/png" if kind == "image" else "application/octet-stream"
        )
