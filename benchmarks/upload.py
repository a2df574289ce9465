"""Peak RSS growth while the bot uploads a large file on disk (a year's /export near Telegram's 50 MB limit).

    python -m benchmarks.upload [--mb 40]

Writes a file of random bytes, then in a fresh process each sends it with `Bot.send_document` through the
bot's transport (`channels.telegram.request.AiohttpRequest`) to a sink that counts the bytes it receives (in a process
of its own, so its buffers are not counted): once as PTB reads it by default, `InputFile(file)` (the whole file
as bytes), once streamed from disk, `InputFile(file, read_file_handle=False)` (what /export does). Prints, per
way, the peak growth of the sending process's RSS over its RSS before the send (sampled every 5 ms, and
VmHWM), the seconds it took and the bytes the sink received.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

TOKEN = "123456:UPLOAD-BENCH"
WAYS = ("bytes", "streamed")


def status_mb(field: str) -> float:
    """A /proc/self/status figure (VmRSS, VmHWM) in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def sink(port: int) -> None:
    """A Bot API stand-in that reads each upload in chunks, counts its bytes and answers like Telegram."""
    received: list[int] = []

    async def method(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        if name == "getMe":
            return web.json_response(
                {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "sink", "username": "sink_bot"}}
            )
        if name == "received":
            return web.json_response({"ok": True, "result": received[-1] if received else 0})
        size = 0
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            while chunk := await part.read_chunk():  # type: ignore[union-attr]
                if part.filename:  # type: ignore[union-attr]
                    size += len(chunk)
        received.append(size)
        message = {"message_id": len(received), "date": 0, "chat": {"id": 7, "type": "private"}}
        return web.json_response({"ok": True, "result": message})

    app = web.Application(client_max_size=100 * 1024 * 1024)
    app.router.add_post(f"/bot{TOKEN}/{{method}}", method)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def send(way: str, path: Path, port: int) -> dict[str, float]:
    """Send the file one way and return the figures."""
    from telegram import Bot, InputFile

    from channels.telegram.request import AiohttpRequest

    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest(media_write_timeout=120))
    await bot.initialize()
    base = status_mb("VmRSS")
    peak = base
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, status_mb("VmRSS"))
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    with path.open("rb") as file:
        document = InputFile(file, filename="export.zip", read_file_handle=way == "bytes")
        await bot.send_document(7, document)
        del document
    seconds = time.perf_counter() - started
    done.set()
    await sampler
    received = await bot.do_api_request("received")
    await bot.shutdown()
    return {
        "peak_growth_mb": peak - base,
        "hwm_growth_mb": status_mb("VmHWM") - base,
        "seconds": seconds,
        "received": float(received),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mb", type=int, default=40, help="size of the file to upload (MB)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--send", choices=WAYS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        asyncio.run(sink(args.port))
        return
    if args.send:
        print(json.dumps(asyncio.run(send(args.send, args.file, args.port))))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.zip"
        with path.open("wb") as out:
            for _ in range(args.mb):
                out.write(os.urandom(1024 * 1024))
        size = path.stat().st_size
        command = [sys.executable, "-m", "benchmarks.upload", "--port", str(args.port)]
        server = subprocess.Popen([*command, "--sink"], stdout=subprocess.PIPE, text=True)
        try:
            if server.stdout is None or server.stdout.readline().strip() != "ready":
                raise SystemExit("the sink did not start")
            for way in WAYS:
                run = subprocess.run([*command, "--send", way, "--file", str(path)], capture_output=True, text=True)
                if run.returncode != 0:
                    raise SystemExit(run.stderr)
                f = json.loads(run.stdout)
                print(
                    f"upload {size / 1e6:.1f} MB {way}: peak RSS growth {f['peak_growth_mb']:.1f} MB "
                    f"(VmHWM {f['hwm_growth_mb']:.1f} MB), {f['seconds']:.2f} s, "
                    f"sink received {'all' if int(f['received']) == size else int(f['received'])} bytes"
                )
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
