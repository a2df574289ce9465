"""The read-only web server on SCREEN_PORT (aiohttp, in the bot's process and event loop):

  /screen?token=…            the command-centre page (403 without the right token)
  /screen/data.json?token=…  what it shows, refreshed by the page every few seconds
  /screen/map.json?token=…   the district map (GeoJSON)
  /screen/static/…           the page's script and style, and ECharts (vendored with its licence: no CDN)
  /open311/v2/services.json, /open311/v2/requests.json, /open311/v2/requests/{id}.json   (no token: public data)

Every page answer carries a Content-Security-Policy that allows nothing but this server, so the screen works
offline and never loads anything from elsewhere.
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from core.clock import Clock
from core.i18n import Catalogues
from core.settings import Settings
from rules.district import load_district
from screen import open311
from screen.figures import HotTerms, figures
from storage import cases as case_store
from storage import screen as store
from storage.db import Database

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'"
JSON_UTF8 = "application/json; charset=utf-8"


class ScreenServer:
    """The screen and Open311 on one port; `start` and `stop` around the bot's life."""

    def __init__(self, db: Database, settings: Settings, clock: Clock, catalogues: Catalogues) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.catalogues = catalogues
        self.hot = HotTerms()
        self.district = load_district(settings.screen_map)
        self.language = settings.default_language
        self._runner: web.AppRunner | None = None
        self.port = 0

    def app(self) -> web.Application:
        """The aiohttp application with every route."""
        app = web.Application()
        app.router.add_get("/screen", self.page)
        app.router.add_get("/screen/data.json", self.data)
        app.router.add_get("/screen/map.json", self.map)
        app.router.add_static("/screen/static", STATIC, show_index=False)
        app.router.add_get("/open311/v2/services.json", self.services)
        app.router.add_get("/open311/v2/requests.json", self.requests)
        app.router.add_get("/open311/v2/requests/{request_id}.json", self.request)
        app.on_response_prepare.append(_security_headers)
        return app

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0: a free port); returns the port."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        log.info("command-centre screen on http://%s:%d/screen", host, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authorised(self, request: web.Request) -> None:
        expected = self.settings.screen_token.get_secret_value()
        given = request.query.get("token", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise web.HTTPForbidden(text="403: the screen needs its token (?token=…)")

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The screen's page."""
        self._authorised(request)
        return web.FileResponse(STATIC / "screen.html", headers={"Cache-Control": "no-store"})

    async def data(self, request: web.Request) -> web.Response:
        """The figures the page shows."""
        self._authorised(request)
        shown = await figures(self.db, self.settings, self.catalogues, self.clock.now(), self.hot, self.language)
        return web.json_response(shown, dumps=_dumps, headers={"Cache-Control": "no-store"})

    async def map(self, request: web.Request) -> web.Response:
        """The district map."""
        self._authorised(request)
        return web.json_response(self.district.geojson, dumps=_dumps)

    async def services(self, request: web.Request) -> web.Response:
        """GeoReport v2 services.json."""
        return _open311(open311.services(self.settings.categories, self.catalogues, self.language))

    async def requests(self, request: web.Request) -> web.Response:
        """GeoReport v2 requests.json with its filters."""
        try:
            query = open311.parse_query(
                request.query, self.clock.now(), self.settings.tz, list(self.settings.categories)
            )
        except open311.Open311Error as error:
            return _open311(error.body(), status=error.code)
        async with self.db.read() as conn:
            rows = await store.public_requests(
                conn,
                since=query.since,
                until=query.until,
                wish_statuses=query.wish_statuses,
                case_statuses=query.case_statuses,
                category=query.category,
                limit=open311.MAX_REQUESTS,
            )
            names = await case_store.department_names(conn)
        return _open311([self._public(row, names) for row in rows])

    async def request(self, request: web.Request) -> web.Response:
        """GeoReport v2 requests/{id}.json."""
        try:
            kind, ref_no = open311.parse_request_id(request.match_info["request_id"])
        except open311.Open311Error as error:
            return _open311(error.body(), status=error.code)
        async with self.db.read() as conn:
            row = await store.public_request(conn, kind, ref_no)
            names = await case_store.department_names(conn)
        if row is None:
            return _open311(open311.Open311Error(404, "no such service request").body(), status=404)
        return _open311([self._public(row, names)])

    def _public(self, row: store.PublicRequest, names: dict[int, str]) -> dict[str, Any]:
        return open311.to_request(
            row,
            catalogues=self.catalogues,
            language=self.language,
            tz=self.settings.tz,
            district=self.district,
            departments=names,
            agency=self.catalogues.text(self.language, "open311.agency"),
        )


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _open311(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps, headers={"Access-Control-Allow-Origin": "*"})


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
