"""Failover (issue 30): two bot processes on PostgreSQL against the Bot API simulator while people chat and a digest
goes out; the leader is killed (SIGKILL), frozen (SIGSTOP, resumed after the takeover), cut off from the database
(a TCP proxy that stops passing anything, the first cut while it has a transaction open) and stopped cleanly
(SIGTERM). Each time: how long until the standby leads, and what the people saw.

    python -m benchmarks.failover [--rounds 10] [--recipients 500] [--chatters 20]

needs TEST_POSTGRES_URL (a server it may create a database on); prints the takeover times per fault (median, max)
and the totals (messages answered, repeated, lost; digests delivered once, twice, not at all, and the digest rows a
fault left on the wire, settled as `unknown` and not sent again: how many of those did arrive).
`tests/stories/test_failover.py` runs one round of each fault through the same `Failover`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from benchmarks.delivery import TOKEN, _add_people, queue_digest
from core.settings import Settings
from simulator import BotApiSimulator
from simulator.people import Person
from storage import outbox
from storage.db import Database
from storage.migrate import upgrade
from storage.schema import outbox as outbox_table

FAULTS = ("kill", "stop", "cut", "term")
TAKEOVER_LIMIT = 10.0  # seconds: the bar for kill, stop and cut
CLEAN_LIMIT = 1.0  # seconds: a clean stop's handover
FIRST_DIGEST_ID = 5_000_000
DIGEST_KEY = "digest:failover"
CONVERSERS = 3  # people in the middle of the wish form at each fault
# What the form says to a description typed while it waits for a button: the press's step was rolled back.
ASKED_AGAIN = "您已填写的内容都还在"
ROOT = Path(__file__).resolve().parents[1]
# Every variable the bot reads as a setting: the caller's shell must not pass them on to the instances.
SETTING_NAMES = frozenset(name.upper() for name in Settings.model_fields)


# == A database connection that can be cut ======================================================================


class _Link:
    """One client connection through the proxy, and the transaction status PostgreSQL last reported on it (the
    status byte of ReadyForQuery: I idle, T in a transaction, E in a failed one)."""

    def __init__(self, client: asyncio.StreamWriter, server: asyncio.StreamWriter | None) -> None:
        self.client = client
        self.server = server
        self.status = "I"
        self._buffer = bytearray()
        self._first = True

    def feed(self, data: bytes) -> list[str]:
        """Read the server's messages in `data`; the ReadyForQuery statuses seen, in order."""
        self._buffer += data
        if self._first and self._buffer:
            self._first = False
            if self._buffer[0:1] == b"N":  # the answer to asyncpg's SSLRequest: no TLS, a single byte
                del self._buffer[0]
        seen = []
        while len(self._buffer) >= 5:
            length = int.from_bytes(self._buffer[1:5], "big")
            if len(self._buffer) < 1 + length:
                break
            if self._buffer[0:1] == b"Z" and length == 5:
                seen.append(chr(self._buffer[5]))
            del self._buffer[: 1 + length]
        return seen

    def abort(self) -> None:
        for writer in (self.client, self.server):
            if writer is not None:
                writer.transport.abort()


class CuttableLink:
    """A TCP proxy in front of PostgreSQL for one bot instance. `cut()` is a network partition: nothing passes either
    way any more, not even a connection's end, and new connections get no answer; the sockets stay open, so neither
    side learns of it but by its own timeouts. `heal()` ends the partition: the connections it broke are reset (the
    server has long dropped them), new ones pass again. `cut_in_transaction()` cuts the moment PostgreSQL reports a
    transaction open on one of the connections, before the client hears that its statement finished."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.is_cut = False
        self._armed: asyncio.Future[None] | None = None
        self.cut_with_transaction_open = False
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.abort()
        self._links.clear()
        for task in list(self._tasks):
            task.cancel()

    def cut(self) -> None:
        self.is_cut = True

    async def cut_in_transaction(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Cut as soon as a connection is inside a transaction (raises TimeoutError if none opens in time)."""
        self._armed = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._armed), timeout)
        finally:
            self._armed = None

    def heal(self) -> None:
        for link in list(self._links):
            link.abort()
        self._links.clear()
        self.is_cut = False

    def _in_transaction(self, link: _Link) -> None:
        if self._armed is not None and not self._armed.done():
            self.is_cut = True
            self.cut_with_transaction_open = True
            self._armed.set_result(None)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.is_cut:  # no answer: the client's connect timeout decides
            link = _Link(client_writer, None)
            self._links.add(link)
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        link = _Link(client_writer, server_writer)
        self._links.add(link)
        for task in (
            asyncio.create_task(self._pipe(link, client_reader, server_writer, from_server=False)),
            asyncio.create_task(self._pipe(link, server_reader, client_writer, from_server=True)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, from_server: bool
    ) -> None:
        try:
            while data := await reader.read(65536):
                if self.is_cut:
                    continue  # lost in the partition
                if from_server:
                    for status in link.feed(data):
                        link.status = status
                    if link.status in "TE":
                        self._in_transaction(link)
                        if self.is_cut:
                            continue
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        if not self.is_cut:  # an end passes only while the network does
            writer.transport.abort()
            self._links.discard(link)


# == A bot instance ============================================================================================


@dataclasses.dataclass
class Instance:
    """One `python -m bot run` process, its database link and its health port."""

    name: str
    link: CuttableLink
    env: dict[str, str]
    log_path: Path
    health_port: int = 0
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0

    async def start(self) -> None:
        self.link.heal()
        log = self.log_path.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env, cwd=ROOT, stdout=log, stderr=log
            )
        finally:
            log.close()
        self.started_at = time.monotonic()

    async def health(self, session: aiohttp.ClientSession) -> dict[str, Any] | None:
        """What /healthz says (also when it says 503: the database is away), or None when nothing answers."""
        try:
            async with session.get(
                f"http://127.0.0.1:{self.health_port}/healthz", timeout=aiohttp.ClientTimeout(total=3)
            ) as response:
                return dict(await response.json())
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError):
            return None

    async def requests_made(self, session: aiohttp.ClientSession) -> dict[str, float] | None:
        """The Bot API requests it made by method (/metrics), or None when it does not answer."""
        try:
            async with session.get(
                f"http://127.0.0.1:{self.health_port}/metrics", timeout=aiohttp.ClientTimeout(total=3)
            ) as response:
                body = await response.text()
        except (aiohttp.ClientError, TimeoutError):
            return None
        made: dict[str, float] = {}
        for line in body.splitlines():
            if line.startswith("tongxin_bot_api_requests_total{"):
                labels, value = line.rsplit(" ", 1)
                method = labels.split('method="', 1)[1].split('"', 1)[0]
                made[method] = made.get(method, 0) + float(value)
        return made

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(sig)

    async def wait(self, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None


# == The people ================================================================================================


@dataclasses.dataclass
class Said:
    """One message a chatter sent: when, how many bot messages its chat had then, and how many replies it got."""

    person: str
    sent_at: float
    before: int
    replies: int = 0
    texts: list[str] = dataclasses.field(default_factory=list)


class Chatters:
    """People who send /help one after another (waiting for each answer) until told to stop; every answer counted."""

    def __init__(self, people: list[Person], pause: float = 2.0) -> None:
        self.people = people
        self.pause = pause
        self.said: list[Said] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._chat(person, i)) for i, person in enumerate(self.people)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _chat(self, person: Person, index: int) -> None:
        await asyncio.sleep(self.pause * index / max(1, len(self.people)))  # spread over the pause
        while not self._stop.is_set():
            before = len(person.chat.bot_messages)
            said = Said(person.first_name, time.monotonic(), before)
            self.said.append(said)
            await person.send_command("/help")
            with contextlib.suppress(TimeoutError):
                await person.wait_for(
                    lambda before=before: len(person.chat.bot_messages) > before,  # type: ignore[misc]
                    timeout=60,
                    what="a reply",
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.pause)

    def count(self) -> None:
        """Each /help is answered by one message, and a chatter sends the next only after the answer (or a minute):
        a message's replies are the bot's messages between it and the next one (a repeat arriving late counts
        against the next; the totals stay right)."""
        for person in self.people:
            mine = [s for s in self.said if s.person == person.first_name]
            ends = [s.before for s in mine[1:]] + [len(person.chat.bot_messages)]
            for said, end in zip(mine, ends, strict=True):
                said.replies = end - said.before
                if said.replies > 1:
                    said.texts = [(m.text or "")[:30] for m in person.chat.bot_messages[said.before : end]]


class Conversers:
    """People in the middle of the wish form when a fault hits: started before, finished after the takeover."""

    DESCRIPTION = "家里老人行动不便，想请人帮忙买菜和打扫卫生"

    def __init__(self, people: list[Person]) -> None:
        self.people = people
        self.continued = 0
        self.continued_by_fault: dict[str, int] = {}
        self.asked_again: list[str] = []  # the step rolled back: asked to tap again, the draft kept
        self.broken: list[str] = []

    async def begin(self) -> None:
        """/wish and its category: the form now waits for the description."""

        async def one(person: Person) -> None:
            await person.send_command("/wish")
            await person.wait_for_text("请选择", timeout=30)
            await person.press("助老助残")
            await person.wait_for_text("请用文字描述", timeout=30)

        await asyncio.gather(*(one(person) for person in self.people))

    async def finish(self, fault: str) -> None:
        """The description after the takeover: the form goes on to the next step; then /cancel for the next round."""

        async def one(person: Person) -> None:
            await person.send_text(self.DESCRIPTION)
            try:
                await person.wait_for_text("哪个镇", timeout=30)
                self.continued += 1
                self.continued_by_fault[fault] = self.continued_by_fault.get(fault, 0) + 1
            except (TimeoutError, AssertionError):
                last = person.chat.bot_messages[-1].text or "" if person.chat.bot_messages else ""
                if ASKED_AGAIN in last:
                    self.asked_again.append(f"{person.first_name} after the {fault}")
                else:
                    said = [(m.text or "")[:40] for m in person.chat.bot_messages[-3:]]
                    self.broken.append(f"{person.first_name} after the {fault}: {said}")
            before = len(person.chat.bot_messages)
            await person.send_command("/cancel")
            with contextlib.suppress(TimeoutError):
                await person.wait_for(lambda: len(person.chat.bot_messages) > before, timeout=30, what="a reply")

        await asyncio.gather(*(one(person) for person in self.people))


# == The whole set-up ==========================================================================================


@dataclasses.dataclass
class Takeover:
    fault: str
    seconds: float
    epoch: int
    transaction_open: bool = False
    at: float = 0.0  # monotonic time of the fault


@dataclasses.dataclass
class Outcome:
    takeovers: list[Takeover]
    messages: int
    answered_once: int
    repeated: list[Said]
    unanswered: list[Said]
    digest_once: int
    digest_twice: int
    digest_missing: int
    outbox: dict[str, int]
    stale_requests: list[str]
    # Digest rows on the wire at a fault, settled `unknown` by the next leader and not sent again (at most once), and
    # how many of their people did get it (the simulator knows; Telegram would not tell).
    digest_unknown: int = 0
    digest_unknown_arrived: int = 0
    conversations_continued: int = 0
    conversations_continued_by_fault: dict[str, int] = dataclasses.field(default_factory=dict)
    conversations_asked_again: list[str] = dataclasses.field(default_factory=list)
    conversations_broken: list[str] = dataclasses.field(default_factory=list)

    def repeats_away_from_a_fault(self, before: float = 1.0, after: float = TAKEOVER_LIMIT + 3.0) -> list[Said]:
        """Repeated answers not explained by a kill, freeze or cut: the answer to a message the old leader had just
        handled (its inbox row not yet deleted) is given again by the new leader. A chatter waits for the first
        answer before writing again, so a repeat the new leader gives is counted against the message the chatter
        writes after the takeover: `after` allows for that."""
        hard = [t.at for t in self.takeovers if t.fault in ("kill", "stop", "cut")]
        return [s for s in self.repeated if not any(-before <= s.sent_at - at <= after for at in hard)]


class Failover:
    """Two instances `a` and `b` on `db` (through their own cuttable links) against `sim`."""

    def __init__(self, sim: BotApiSimulator, db: Database, tmp: Path, token: str) -> None:
        self.sim = sim
        self.db = db
        self.tmp = tmp
        self.token = token
        self.instances: list[Instance] = []
        self.takeovers: list[Takeover] = []
        self.stale_requests: list[str] = []
        self._session: aiohttp.ClientSession | None = None

    def _env(self, link: CuttableLink, health_port: int) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key.upper() not in SETTING_NAMES and not key.startswith(("BOT_", "DATABASE_", "TELEGRAM_"))
        }
        url = self.db.url.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
        env.update(
            {
                "BOT_TOKEN": self.token,
                "DATABASE_URL": url,
                "TELEGRAM_API_URL": self.sim.api_url,
                "TELEGRAM_FILE_URL": self.sim.file_url,
                "HEALTH_PORT": str(health_port),
                "QUIET_HOURS_START": "00:00",
                "QUIET_HOURS_END": "00:00",
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT),
            }
        )
        return env

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        target = make_url(self.db.url)
        for name in ("a", "b"):
            link = CuttableLink(target.host or "127.0.0.1", target.port or 5432)
            await link.start()
            port = _free_port()
            instance = Instance(name, link, self._env(link, port), self.tmp / f"bot-{name}.log", health_port=port)
            self.instances.append(instance)
        first, second = self.instances
        await first.start()
        await self.wait_for_role(first, "leader", timeout=60)
        await second.start()
        await self.wait_for_role(second, "standby", timeout=60)

    async def stop(self) -> None:
        for instance in self.instances:
            if instance.running:
                instance.signal(signal.SIGCONT)
                instance.signal(signal.SIGTERM)
        for instance in self.instances:
            if instance.process is not None:
                with contextlib.suppress(TimeoutError):
                    await instance.wait(30)
                if instance.running:
                    instance.signal(signal.SIGKILL)
                    await instance.wait(10)
            await instance.link.stop()
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None
        return self._session

    async def wait_for_role(
        self,
        instance: Instance,
        role: str,
        *,
        timeout: float,  # noqa: ASYNC109
        above: int = -1,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            health = await instance.health(self.session)
            if health is not None and health["role"] == role and health["epoch"] > above:
                return health
            if not instance.running:
                raise RuntimeError(f"instance {instance.name} exited: {self.log_of(instance)[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"instance {instance.name} is not {role} after {timeout} s: {health}")
            await asyncio.sleep(0.02)

    def log_of(self, instance: Instance) -> str:
        return instance.log_path.read_text(errors="replace") if instance.log_path.exists() else ""

    async def leader(self) -> tuple[Instance, Instance, int]:
        """(leader, standby, epoch) now."""
        for instance in self.instances:
            health = await instance.health(self.session)
            if health is not None and health["role"] == "leader":
                other = next(i for i in self.instances if i is not instance)
                return instance, other, int(health["epoch"])
        raise RuntimeError("no instance leads")

    async def fault(self, kind: str) -> Takeover:
        """One fault on the current leader; returns how long until the standby led. The old leader is back as a
        standby (restarted, resumed or reconnected) when it returns."""
        leader, standby, epoch = await self.leader()
        transaction_open = False
        if kind == "kill":
            leader.signal(signal.SIGKILL)
            at = time.monotonic()
        elif kind == "stop":
            leader.signal(signal.SIGSTOP)
            at = time.monotonic()
        elif kind == "term":
            leader.signal(signal.SIGTERM)
            at = time.monotonic()
        elif kind == "cut":
            await leader.link.cut_in_transaction()
            at = time.monotonic()
            transaction_open = leader.link.cut_with_transaction_open
        else:
            raise ValueError(kind)
        health = await self.wait_for_role(standby, "leader", timeout=60, above=epoch)
        taken = Takeover(kind, time.monotonic() - at, int(health["epoch"]), transaction_open, at)
        self.takeovers.append(taken)
        if kind in ("kill", "term"):
            await leader.wait()
            await leader.start()
        else:
            # A resumed or reconnected old leader finds its lease lost, stops and exits to start again as a standby
            # (as systemd or compose would restart it).
            if kind == "stop":
                leader.signal(signal.SIGCONT)
            else:
                leader.link.heal()
            await self._exits_with_nothing_new(leader)
            await leader.start()
        await self.wait_for_role(leader, "standby", timeout=60)
        return taken

    async def _exits_with_nothing_new(self, stale: Instance) -> None:
        """The old leader exits by itself (exit code 1) and, in its log, starts no polling, sweep or sender after it
        resumed."""
        try:
            code = await stale.wait(60)
        except TimeoutError:
            self.stale_requests.append(f"{stale.name}: did not exit after losing the lease")
            stale.signal(signal.SIGKILL)
            await stale.wait()
            return
        log = self.log_of(stale)
        # 1: "lost the lease", or "cannot reach a service" when the shutdown's last writes met a connection the cut
        # broke: either way it exits to be started again.
        if code != 1:
            self.stale_requests.append(f"{stale.name}: exited with {code}")
        tail = log[log.rfind("stepping down") :] if "stepping down" in log else ""
        for started in ("leads, epoch", "polling as", "outbox sender on"):
            if started in tail:
                self.stale_requests.append(f"{stale.name}: '{started}' after it lost the lease")

    async def queue_digest(self, recipients: int) -> list[Person]:
        """`recipients` people, and a digest for each in the outbox (as the sweep writes it)."""
        ids = range(FIRST_DIGEST_ID, FIRST_DIGEST_ID + recipients)
        await _add_people(self.db, ids)
        people = [self.sim.person(f"D{i}", user_id=i) for i in ids]
        await queue_digest(self.db, ids, DIGEST_KEY)
        return people

    async def settle(self, digest: list[Person], chatters: Chatters, timeout: float = 120.0) -> None:  # noqa: ASYNC109
        """Wait until the outbox has nothing pending or on the wire and every chatter's last message was answered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async with self.db.read() as conn:
                statuses = await outbox.count_by_status(conn)
            if not statuses.get("pending") and not statuses.get("sending"):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(3.0)  # late repeats would show now

    async def outcome(self, digest: list[Person], chatters: Chatters) -> Outcome:
        chatters.count()
        async with self.db.read() as conn:
            statuses = await outbox.count_by_status(conn)
            unknown = set(
                (
                    await conn.execute(
                        select(outbox_table.c.recipient_id).where(
                            outbox_table.c.status == "unknown", outbox_table.c.dedupe_key.like(f"{DIGEST_KEY}:%")
                        )
                    )
                ).scalars()
            )
        counts = [len(person.chat.bot_messages) for person in digest]
        return Outcome(
            takeovers=list(self.takeovers),
            messages=len(chatters.said),
            answered_once=sum(1 for s in chatters.said if s.replies == 1),
            repeated=[s for s in chatters.said if s.replies > 1],
            unanswered=[s for s in chatters.said if s.replies == 0],
            digest_once=counts.count(1),
            digest_twice=sum(1 for c in counts if c > 1),
            digest_missing=counts.count(0),
            outbox=statuses,
            stale_requests=list(self.stale_requests),
            digest_unknown=len(unknown),
            # Digest people are added with person id = Telegram id (`queue_digest`).
            digest_unknown_arrived=sum(1 for p in digest if p.user_id in unknown and p.chat.bot_messages),
        )


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run(
    sim: BotApiSimulator,
    db: Database,
    tmp: Path,
    token: str,
    *,
    rounds: int = 1,
    recipients: int = 500,
    chatters: int = 20,
    faults: tuple[str, ...] = FAULTS,
    progress: Callable[[Takeover], None] | None = None,
) -> Outcome:
    """The whole exercise: two instances, people chatting, a digest going out, `rounds` of each fault."""
    failover = Failover(sim, db, tmp, token)
    await failover.start()
    try:
        talkers = Chatters([sim.person(f"C{i}") for i in range(chatters)])
        forms = Conversers([sim.person(f"W{i}") for i in range(CONVERSERS)])
        talkers.start()
        await asyncio.sleep(2.0)
        digest = await failover.queue_digest(recipients)
        for _ in range(rounds):
            for kind in faults:
                await forms.begin()
                taken = await failover.fault(kind)
                await forms.finish(kind)
                if progress is not None:
                    progress(taken)
        await talkers.stop()
        await failover.settle(digest, talkers)
        outcome = await failover.outcome(digest, talkers)
        outcome.conversations_continued = forms.continued
        outcome.conversations_continued_by_fault = dict(forms.continued_by_fault)
        outcome.conversations_asked_again = forms.asked_again
        outcome.conversations_broken = forms.broken
        return outcome
    except BaseException as exc:
        for instance in failover.instances:
            exc.add_note(f"--- instance {instance.name} log (tail) ---\n{failover.log_of(instance)[-4000:]}")
        raise
    finally:
        await failover.stop()


def summary(outcome: Outcome) -> str:
    lines = []
    for kind in FAULTS:
        seconds = [t.seconds for t in outcome.takeovers if t.fault == kind]
        if seconds:
            lines.append(
                f"{kind:5s} x{len(seconds):2d}: takeover median {statistics.median(seconds):5.2f} s, "
                f"max {max(seconds):5.2f} s"
            )
    lines.append(
        f"messages: {outcome.messages}, answered once {outcome.answered_once}, repeated {len(outcome.repeated)}, "
        f"unanswered {len(outcome.unanswered)}"
    )
    lines.append(
        f"digest: once {outcome.digest_once}, more than once {outcome.digest_twice}, "
        f"missing {outcome.digest_missing}; outbox {outcome.outbox}; on the wire at a fault and settled unknown "
        f"(not sent again) {outcome.digest_unknown}, of which arrived {outcome.digest_unknown_arrived}"
    )
    lines.append(f"requests by a stale leader after it settled: {outcome.stale_requests or 'none'}")
    lines.append(
        f"wish forms continued across a takeover: {outcome.conversations_continued} "
        f"{outcome.conversations_continued_by_fault}, asked to tap the category again: "
        f"{outcome.conversations_asked_again or 'none'}, broken: {outcome.conversations_broken or 'none'}"
    )
    for label, saids in (("unanswered", outcome.unanswered), ("repeated", outcome.repeated)):
        for said in saids:
            near = min(outcome.takeovers, key=lambda t: abs(said.sent_at - t.at), default=None)
            if near is not None:
                lines.append(f"  {label}: {said.person} sent {said.sent_at - near.at:+.2f} s from the {near.fault}")
                if said.texts:
                    lines.append(f"    answers: {said.texts}")
    return "\n".join(lines)


async def _main(rounds: int, recipients: int, chatters: int) -> None:
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        raise SystemExit("set TEST_POSTGRES_URL (a PostgreSQL server this may create a database on)")
    base = base.replace("postgresql://", "postgresql+asyncpg://", 1)
    name = f"failover_{uuid.uuid4().hex[:8]}"
    admin = Database(base)
    async with admin.engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(base).set(database=name).render_as_string(hide_password=False))
    sim = BotApiSimulator(token=TOKEN)
    await sim.start()
    import tempfile

    try:
        await upgrade(db)
        with tempfile.TemporaryDirectory() as tmp:
            outcome = await run(
                sim,
                db,
                Path(tmp),
                TOKEN,
                rounds=rounds,
                recipients=recipients,
                chatters=chatters,
                progress=lambda t: print(f"{t.fault}: {t.seconds:.2f} s (epoch {t.epoch})", flush=True),
            )
        print(summary(outcome))
    finally:
        await sim.stop()
        await db.dispose()
        async with admin.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
        await admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.failover", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--recipients", type=int, default=500)
    parser.add_argument("--chatters", type=int, default=20)
    args = parser.parse_args(argv)
    asyncio.run(_main(args.rounds, args.recipients, args.chatters))
    return 0


if __name__ == "__main__":
    sys.exit(main())
