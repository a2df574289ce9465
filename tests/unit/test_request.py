"""The aiohttp transport keeps PTB's contract: form and multipart bodies, downloads, timeouts and errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from channels.telegram.media import upload_write_timeout
from channels.telegram.request import AiohttpRequest


async def _echo(request: web.Request) -> web.Response:
    if request.content_type == "multipart/form-data":
        form = await request.post()
        fields = {}
        for key, value in form.items():
            fields[key] = value.file.read().decode() if isinstance(value, web.FileField) else value
            if isinstance(value, web.FileField):
                fields[f"{key}.filename"] = value.filename
        return web.json_response({"kind": "multipart", **fields})
    form = await request.post()
    return web.json_response(
        {"kind": request.content_type, "agent": request.headers.get("User-Agent", ""), **dict(form)}
    )


async def _file(request: web.Request) -> web.Response:
    return web.Response(body=b"\x00file bytes")


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.Response(text="late")


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/echo", _echo)
    app.router.add_get("/file", _file)
    app.router.add_post("/slow", _slow)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(read_timeout=0.3)
    await request.initialize()
    yield request
    await request.shutdown()


async def test_parameters_are_form_encoded(server: str, transport: AiohttpRequest) -> None:
    data = RequestData([RequestParameter("chat_id", 42, []), RequestParameter("text", "你好 & bye", [])])
    status, body = await transport.do_request(f"{server}/echo", "POST", data)
    assert status == 200
    answer = transport.parse_json_payload(body)
    assert answer["kind"] == "application/x-www-form-urlencoded"
    assert (answer["chat_id"], answer["text"]) == ("42", "你好 & bye")
    assert answer["agent"].startswith("python-telegram-bot")


async def test_files_go_as_multipart(server: str, transport: AiohttpRequest) -> None:
    photo = InputFile(b"photo bytes", filename="p.jpg", attach=True)
    data = RequestData([RequestParameter("chat_id", 7, []), RequestParameter("photo", photo.attach_uri, [photo])])
    status, body = await transport.do_request(f"{server}/echo", "POST", data)
    answer = transport.parse_json_payload(body)
    assert status == 200
    assert answer["kind"] == "multipart"
    assert answer["chat_id"] == "7"
    assert answer[photo.attach_name or ""] == "photo bytes"


async def test_downloads_with_get(server: str, transport: AiohttpRequest) -> None:
    assert await transport.retrieve(f"{server}/file") == b"\x00file bytes"


async def test_a_slow_answer_times_out(server: str, transport: AiohttpRequest) -> None:
    with pytest.raises(TimedOut):
        await transport.do_request(f"{server}/slow", "POST")


async def test_an_unreachable_server_is_a_network_error(transport: AiohttpRequest) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: the connection is refused
        with pytest.raises(NetworkError) as caught:
            await transport.do_request(f"http://127.0.0.1:{port}/x", "POST")
    assert not isinstance(caught.value, TimedOut)


async def test_shutdown_twice_and_reinitialize(server: str) -> None:
    request = AiohttpRequest()
    await request.initialize()
    await request.shutdown()
    await request.shutdown()
    with pytest.raises(RuntimeError):
        await request.do_request(f"{server}/echo", "POST")
    await request.initialize()
    assert (await request.do_request(f"{server}/echo", "POST"))[0] == 200
    await request.shutdown()


async def test_a_file_on_disk_is_uploaded_whole_on_every_attempt(
    server: str, transport: AiohttpRequest, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    content = "编号,内容\n".encode() + b"x" * 300_000  # several of aiohttp's 64 KiB chunks
    path.write_bytes(content)
    with path.open("rb") as file:
        document = InputFile(file, filename="export.csv", read_file_handle=False)
        data = RequestData([RequestParameter("chat_id", 7, []), RequestParameter.from_input("document", document)])
        # The same request twice, as the rate limiter retries a reply that failed: both carry the whole file.
        for _ in range(2):
            status, body = await transport.do_request(f"{server}/echo", "POST", data)
            answer = transport.parse_json_payload(body)
            assert status == 200
            assert answer["document"] == content.decode()
            assert answer["document.filename"] == "export.csv"
        assert not file.closed  # its owner closes it, not the transport


def test_a_large_upload_gets_the_time_a_slow_office_line_needs() -> None:
    # A photo keeps the transport's 20 s; a 48 MB export over a 128 KB/s line needs 6 minutes, and gets them.
    assert upload_write_timeout(300_000) == 20.0
    assert upload_write_timeout(48 * 1024 * 1024) == pytest.approx(384.0)
