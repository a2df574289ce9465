"""The WeCom simulator refuses the menus and media WeCom refuses (path/90231 "创建菜单", path/90253 "上传临时素材",
path/90236 image and file messages), so a bot that passes the desk's stories keeps WeCom's rules. Driven through the
bot's own API client."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from channels.wecom.api import WeComApi, WeComError
from core.clock import ManualClock
from simulator.wecom import WeComSimulator

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def click(name: str, key: str = "K") -> dict[str, str]:
    return {"type": "click", "name": name, "key": key}


@pytest.mark.parametrize(
    ("menu", "errcode"),
    [
        ({"button": []}, 40016),
        ({"button": [click("一"), click("二"), click("三"), click("四")]}, 40016),
        ({"button": [{"name": "更多", "sub_button": [click(str(n)) for n in range(6)]}]}, 40016),
        ({"button": [click("六个汉字太长")]}, 40018),  # 18 bytes on the first level
        ({"button": [{"name": "更多", "sub_button": [click("十四个汉字的子菜单名字也太长了")]}]}, 40018),
        ({"button": [click("统计", "K" * 129)]}, 40019),
        ({"button": [{"type": "view", "name": "网页", "url": "https://example.org/" + "a" * 240}]}, 40020),
        ({"button": [{"type": "scancode_push", "name": "扫码", "key": "S"}]}, 40017),
    ],
)
async def test_menus_outside_wecoms_limits_are_refused(
    wc: WeComSimulator, api: WeComApi, menu: dict[str, object], errcode: int
) -> None:
    with pytest.raises(WeComError) as refused:
        await api.create_menu(menu)
    assert refused.value.errcode == errcode
    assert wc.menu is None
    wc.refusals.clear()


async def test_a_menu_within_the_limits_is_kept(wc: WeComSimulator, api: WeComApi) -> None:
    menu = {"button": [click("五个字菜单"), {"name": "更多", "sub_button": [click("十三个汉字的子菜单名字刚好")]}]}
    await api.create_menu(menu)
    assert wc.menu == menu


async def test_media_outside_wecoms_limits_are_refused(wc: WeComSimulator, api: WeComApi, tmp_path: Path) -> None:
    wc.member("陈主任", "chenzr")
    big = tmp_path / "big.csv"
    with big.open("wb") as file:
        file.truncate(20 * 1024 * 1024 + 1)
    for kind, content, errcode in (
        ("file", b"12345", 40006),  # "所有文件size必须大于5个字节"
        ("file", big, 40006),  # a file at most 20 MB
        ("image", b"GIF89a not a png", 40005),  # JPG or PNG
        ("image", PNG + b"\0" * (2 * 1024 * 1024), 40006),  # an image at most 2 MB
        ("video", b"\0" * 100, 40005),  # not modelled
    ):
        with pytest.raises(WeComError) as refused:
            await api.upload_media(kind, "x", content)
        assert refused.value.errcode == errcode, kind
    assert wc.uploads == {}
    wc.refusals.clear()


async def test_file_and_image_messages_need_a_live_medium_of_their_kind(
    wc: WeComSimulator, api: WeComApi, clock: ManualClock, tmp_path: Path
) -> None:
    chen = wc.member("陈主任", "chenzr")
    path = tmp_path / "tongxin-wishes.csv"
    path.write_bytes("编号,描述\nW-0001,楼道灯坏了\n".encode())
    file_id = await api.upload_media("file", path.name, path)
    image_id = await api.upload_media("image", "stats.png", PNG)
    await api.send("chenzr", "file", {"media_id": file_id})
    await api.send("chenzr", "image", {"media_id": image_id})
    assert [r.kind for r in chen.inbox] == ["file", "image"]
    assert chen.upload(chen.inbox[0]).filename == "tongxin-wishes.csv"
    assert chen.upload(chen.inbox[0]).content == path.read_bytes()
    for msgtype, media_id in (("image", file_id), ("file", "never-uploaded")):
        with pytest.raises(WeComError) as refused:
            await api.send("chenzr", msgtype, {"media_id": media_id})
        assert refused.value.errcode == 40007
    clock.advance(dt.timedelta(days=3))  # a temporary medium lives 3 days
    with pytest.raises(WeComError) as refused:
        await api.send("chenzr", "file", {"media_id": file_id})
    assert refused.value.errcode == 40007
    wc.refusals.clear()
