"""Only the clock module, the demo and the simulators read the wall clock or wait on it.

Everything else asks a `Clock` for the date people see and a `Timer` (`core.clock`) for what pacing, back-off and
deadlines wait on. That is what lets the stories run on virtual time, and what lets `make test-night` (the wall
clock at 00:45 in Shanghai) run only the tests marked `wall_clock`: the demo, the browsers, bot processes and
crash tests. A new reading of the wall clock fails here, naming the file and line; the few that must stay are
listed with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["actions", "bot", "channels", "handlers", "rules", "scheduler", "screen", "storage"]
# Where the wall clock is the point: the clocks themselves, and the demo (it runs on the real date, moved on demand).
ALLOWED_FILES = {"core/clock.py", "bot/demo.py"}
# Readings that stay, each with its reason.
ALLOWED = {
    # Polls for rows the bot's clock made due; every new row wakes the sender at once. On virtual time it would
    # be a sleeper that never lets time stand still, and the rows it looks for are due by `Clock`, not by timer.
    ("scheduler/sender.py", "asyncio.wait(timeout=)"): "a poll, not a wait for time to pass",
    # Measures how long each sweep step took (the benchmark's figures); decides nothing.
    ("scheduler/sweep.py", "time.perf_counter"): "a measurement",
}
DATE_READS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today")}
TIME_READS = {"time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "sleep"}
LOOP_CALLS = {"call_later", "call_at"}


def _name(node: ast.expr) -> str:
    """`a.b.c` for a chain of attributes and names; "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _name(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    if isinstance(node, ast.Call):
        return _name(node.func) + "()"
    return ""


def wall_clock_readings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for each call in `tree` that reads or waits on the wall clock or the event loop's time."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner, attr = _name(node.func.value), node.func.attr
        last = owner.rsplit(".", 1)[-1]
        what = ""
        if (last, attr) in DATE_READS:
            what = f"{last}.{attr}"
        elif owner == "time" and attr in TIME_READS:
            what = f"time.{attr}"
        elif attr == "time" and (last in {"loop", "get_running_loop()", "get_event_loop()"}):
            what = "loop.time"
        elif attr in LOOP_CALLS and last in {"loop", "get_running_loop()", "get_event_loop()"}:
            what = f"loop.{attr}"
        elif owner == "asyncio" and attr == "sleep":
            zero = bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0
            what = "" if zero else "asyncio.sleep"
        elif owner == "asyncio" and attr in {"wait_for", "timeout", "timeout_at"}:
            what = f"asyncio.{attr}"
        elif owner == "asyncio" and attr == "wait" and any(k.arg == "timeout" for k in node.keywords):
            what = "asyncio.wait(timeout=)"
        if what:
            found.append((node.lineno, what))
    return found


def test_only_the_clock_the_demo_and_the_simulators_read_the_wall_clock() -> None:
    offences = []
    used = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ALLOWED_FILES:
                continue
            for line, what in wall_clock_readings(ast.parse(path.read_text(encoding="utf-8"))):
                if (relative, what) in ALLOWED:
                    used.add((relative, what))
                else:
                    offences.append(f"{relative}:{line}: {what}")
    assert offences == [], "read the time from a Clock or wait on a Timer (core/clock.py) instead"
    assert used == set(ALLOWED), "an allowed reading is gone: take it off the list"


def test_the_guard_sees_each_kind_of_reading() -> None:
    source = """
import asyncio, time
import datetime as dt
dt.datetime.now(dt.UTC); dt.date.today(); time.monotonic(); asyncio.get_running_loop().time()
loop.call_later(1, f); asyncio.sleep(2); asyncio.sleep(0); asyncio.wait_for(x, 3); asyncio.wait(s, timeout=1)
timer.sleep(4); timer.monotonic(); dt.time(); clock.now()
"""
    assert [what for _, what in wall_clock_readings(ast.parse(source))] == [
        "datetime.now",
        "date.today",
        "time.monotonic",
        "loop.time",
        "loop.call_later",
        "asyncio.sleep",
        "asyncio.wait_for",
        "asyncio.wait(timeout=)",
    ]
