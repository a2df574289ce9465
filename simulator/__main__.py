"""Run the simulator standalone: ``python -m simulator --port 8081 --token 123456:TEST-TOKEN``.

Useful for running the bot as a separate process against a local fake Telegram (set its base URL to the
printed ``api_url``). The process serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .flood import FloodLimits
from .server import BotApiSimulator


async def _serve(args: argparse.Namespace) -> None:
    sim = BotApiSimulator(
        token=args.token, bot_username=args.username, flood_limits=FloodLimits(enabled=not args.no_flood)
    )
    await sim.start(host=args.host, port=args.port)
    print(f"Bot API simulator ({sim.spec.version}) listening")
    print(f"  api_url:  {sim.api_url}")
    print(f"  file_url: {sim.file_url}")
    print(f"  token:    {sim.token}  (@{sim.bot_username})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulator", description="Local Telegram Bot API simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--username", default="tongxin_bot")
    parser.add_argument("--no-flood", action="store_true", help="disable flood limits")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
