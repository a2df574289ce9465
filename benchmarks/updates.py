"""Updates benchmark: CPU per update of the real bot against a stock python-telegram-bot echo bot.

    python -m benchmarks.updates [--rate 20] [--seconds 30] [--runs 3] [--database-url postgresql://…]

Builds a small district (`benchmarks.scale.build`, 1,000 wishes: residents with wishes of their own), then runs,
one after the other and each in a process of its own (`benchmarks.bot_process`) against the Bot API simulator in
this process (flood limits off):

- Tongxin as in production (its pacing, outbox sender and minute sweep on), residents sending `/mywishes` at
  `--rate` updates a second for `--seconds`;
- a stock python-telegram-bot application that echoes every text (PTB's defaults: httpx, no database), sent the
  same texts at the same rate.

For each it reads the process's CPU time (user + system, /proc/<pid>/stat) from the first update sent until every
update has had its reply, and divides by the updates: CPU-ms per update. Both poll with the same getUpdates
timeout, on the same event loop (`bot.app.run_on_fast_loop`). Each run prints a line; the last line is the
median ratio over the runs. The machine's load average is printed too: on a shared machine it moves the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import bot_process, scale
from simulator import BotApiSimulator, FloodLimits

TOKEN = scale.TOKEN
SENDING = {"sendMessage", "editMessageText"}
COMMAND = "/mywishes"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used, in seconds (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def _load(sim: BotApiSimulator, pid: int, people: list[Any], rate: float, count: int) -> float:
    """Send `count` updates at `rate` a second, round robin over `people`; CPU-ms per update until all are answered."""
    chats = {person.chat_id for person in people}
    mark = len(sim.records)
    await sim.settle(quiet=0.5, timeout=60)
    before = cpu_seconds(pid)
    started = time.monotonic()
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        await people[n % len(people)].send_command(COMMAND)

    def answered() -> int:
        return sum(1 for r in sim.records[mark:] if r.method in SENDING and r.chat_id in chats and not r.error_code)

    await sim.wait_until(lambda: answered() >= count, timeout=300)
    return 1000 * (cpu_seconds(pid) - before) / count


async def _profiler(pid: int, path: str, seconds: float) -> asyncio.subprocess.Process:
    """py-spy (`pip install py-spy`; not a dependency) sampling the bot while the load runs, as collapsed stacks."""
    return await asyncio.create_subprocess_exec(
        "py-spy", "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250",
        "--format", "raw", "--output", path, "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def run(
    rate: float, seconds: float, runs: int, url: str | None, profile: str | None = None
) -> list[dict[str, float]]:
    logging.getLogger("telegram").setLevel(logging.CRITICAL)
    sim = BotApiSimulator(token=TOKEN, flood_limits=FloodLimits(enabled=False))
    await sim.start()
    count = int(rate * seconds)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        async with scale.database(url, Path(tmp)) as db:
            await scale.build(db, 1000, dt.datetime.now(dt.UTC))
            # Residents who wrote wishes (the scale district's first residents); each sends one update every
            # len(people) / rate seconds, under the bot's 30-a-minute flood guard.
            people = [sim.person(f"居民{i}", user_id=scale.FIRST_RESIDENT + i) for i in range(50)]
            for _ in range(runs):
                row: dict[str, float] = {}
                for mode in ("limited", "echo"):
                    async with bot_process.started(sim, db, TOKEN, mode) as pid:
                        await _load(sim, pid, people[:5], rate, 10)  # warm up: imports, caches, pools
                        spy = await _profiler(pid, profile, seconds) if profile and mode == "limited" else None
                        row[mode] = await _load(sim, pid, people, rate, count)
                        if spy is not None:
                            await spy.wait()
                            profile = None  # the first run only
                row["load"] = os.getloadavg()[0]
                results.append(row)
                print(
                    f"run: tongxin {row['limited']:.2f} CPU-ms/update, echo {row['echo']:.2f}, "
                    f"ratio {row['limited'] / row['echo']:.2f} (load {row['load']:.2f})",
                    flush=True,
                )
    await sim.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.updates", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="updates a second (default 20)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each load runs (default 30)")
    parser.add_argument("--runs", type=int, default=3, help="runs of both bots (default 3)")
    parser.add_argument("--database-url", help="PostgreSQL URL (a private schema is used); default: SQLite")
    parser.add_argument("--profile", metavar="FILE", help="py-spy's collapsed stacks of Tongxin in the first run")
    args = parser.parse_args(argv)
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"updates benchmark: {COMMAND} at {args.rate:g}/s for {args.seconds:g} s, {args.runs} runs, {backend}")
    rows = asyncio.run(run(args.rate, args.seconds, args.runs, args.database_url, args.profile))
    ratios = [row["limited"] / row["echo"] for row in rows]
    tongxin, echo = statistics.median(r["limited"] for r in rows), statistics.median(r["echo"] for r in rows)
    print(
        f"updates {COMMAND} {args.rate:g}/s: tongxin {tongxin:.2f} CPU-ms/update, "
        f"echo {echo:.2f}, ratio {statistics.median(ratios):.2f} "
        f"(runs {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
