"""Health and metrics for whoever runs the bot (issue 30, item 4): `GET /healthz` and `GET /metrics` on
`HEALTH_HOST:HEALTH_PORT` (0: off).

- `/healthz`: JSON `{"role", "epoch", "database", "backlog"}` — the role this instance plays ("leader" or
  "standby") and the lease's epoch it holds or last held (channels/lease.py), whether the database answered within 2
  seconds, and the notices waiting in the outbox by lane. 200 when the database answers, 503 when it does not (a
  load balancer or systemd takes the instance out).
- `/metrics`: the Prometheus text format (prometheus-client, its own registry per application): Telegram updates
  received, Bot API requests by method and HTTP status (429s included), the outbox backlog by lane, the notices a
  stop left on the wire (settled `unknown`, not sent again: each reached its person at most once), leadership.

Counting costs a counter increment per update and per request; the backlog is read only when scraped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from sqlalchemy import text

from core.clock import Timer, within
from storage import outbox
from storage.db import Database

log = logging.getLogger(__name__)
DATABASE_WITHIN = 2.0  # seconds the health check waits for the database
LANES = ("urgent", "normal", "bulk")
UNKNOWN = "unknown"  # with the backlog: the notices settled unknown (`storage.outbox.unknown_count`)


class Health:
    """The counters the bot feeds and the web server that shows them."""

    def __init__(self, db: Database, timer: Timer) -> None:
        self._db = db
        self._timer = timer
        self.registry = CollectorRegistry()
        self.updates = Counter("tongxin_updates", "Telegram updates received", registry=self.registry)
        self.requests = Counter(
            "tongxin_bot_api_requests",
            "Bot API requests by method and HTTP status (429: Telegram asked to slow down)",
            ["method", "status"],
            registry=self.registry,
        )
        self.backlog = Gauge(
            "tongxin_outbox_backlog", "Notices waiting to be sent, by lane", ["lane"], registry=self.registry
        )
        self.unknown = Gauge(
            "tongxin_outbox_unknown",
            "Notices on the wire when an instance stopped: not sent again, perhaps never arrived",
            registry=self.registry,
        )
        self.leader = Gauge(
            "tongxin_leader", "1 while this instance leads (sends, sweeps, polls)", registry=self.registry
        )
        self.epoch = Gauge("tongxin_lease_epoch", "The leadership epoch this instance holds", registry=self.registry)
        self.role, self.held_epoch = "standby", 0  # until the lease is taken (channels/lease.py tells `lead`)
        self.leader.set(0)
        self.epoch.set(self.held_epoch)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def lead(self, role: str, epoch: int) -> None:
        """This instance's role changed (`Leadership.changed`)."""
        self.role, self.held_epoch = role, epoch
        self.leader.set(1 if role == "leader" else 0)
        self.epoch.set(epoch)

    def arrived(self, _update: object) -> None:
        """One update came in (the update processor's hook)."""
        self.updates.inc()

    def answered(self, method: str, status: int) -> None:
        """The Bot API answered a request (channels/telegram/request.py)."""
        self.requests.labels(method=method, status=str(status)).inc()

    async def _backlog(self) -> dict[str, int] | None:
        """Pending notices by lane (and under `UNKNOWN` those settled unknown), or None when the database does not
        answer in time."""

        async def read() -> dict[str, int]:
            async with self._db.read() as conn:
                await conn.execute(text("SELECT 1"))
                counts = await outbox.pending_by_lane(conn)
                counts[UNKNOWN] = await outbox.unknown_count(conn)
                return counts

        reading = asyncio.ensure_future(read())
        try:
            if await within(self._timer, reading, DATABASE_WITHIN):
                return reading.result()
        except Exception:  # any failure to answer is "unreachable" to a health check
            log.warning("health: the database did not answer", exc_info=True)
        return None

    async def healthz(self, _request: web.Request) -> web.Response:
        backlog = await self._backlog()
        body: dict[str, Any] = {
            "role": self.role,
            "epoch": self.held_epoch,
            "database": backlog is not None,
            "backlog": {lane: (backlog or {}).get(lane, 0) for lane in LANES},
        }
        return web.json_response(body, status=200 if backlog is not None else 503)

    async def metrics(self, _request: web.Request) -> web.Response:
        backlog = await self._backlog()
        for lane in LANES:
            if backlog is not None:
                self.backlog.labels(lane=lane).set(backlog.get(lane, 0))
        if backlog is not None:
            self.unknown.set(backlog.get(UNKNOWN, 0))
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, host: str, port: int) -> None:
        """Serve `/healthz` and `/metrics` on `host:port` (0: a free port, then in `self.port`)."""
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        log.info("health: /healthz and /metrics on %s:%d", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
