"""Opening the database: one `Database` per process, with reads and writes as separate context managers.

SQLite gets WAL, foreign keys and a busy timeout, and its transactions are issued by us (not by the
driver) so that DDL is transactional too and a write starts with `BEGIN IMMEDIATE`: a write then never
fails half-way on a lock upgrade. Writes inside one process are additionally serialised by an
`asyncio.Lock`, so they queue in memory instead of spinning on SQLite's busy handler. Each statement
costs one trip to aiosqlite's thread instead of four (see the end of the module).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from functools import partial
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.lease import Fenced

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000


_WRITING: ContextVar[bool] = ContextVar("database_writing", default=False)


class Database:
    """An async SQLAlchemy engine plus the conventions every query in `storage/` relies on."""

    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.schema = schema
        # This process among the bot's instances: the lease's holder (channels/lease.py) and, on PostgreSQL, every
        # connection's application_name, so that a takeover can end the sessions of a holder that froze or was cut
        # off (storage/lease.py).
        self.instance = instance_id()
        # hide_parameters: a database error's text must not carry the values of the statement (names, phones).
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            database = self.url.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["async_creator"] = _one_hop_connector(self.url, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        else:
            kwargs["pool_size"] = 10
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = postgres_connect_args(schema, self.instance)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._unpooled: AsyncEngine | None = None
        # Writes on SQLite begin IMMEDIATE; an engine view carrying that option (sharing the pool) saves
        # setting it on every connection.
        self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_on_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_on_begin)
        # Set while this instance leads, or led (issue 30, channels/lease.py): run first in every `write()` transaction,
        # it raises `storage.lease.Fenced` once another instance took the lease, so a stale leader commits nothing.
        self.fence: Callable[[AsyncConnection], Awaitable[None]] | None = None

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for queries that change nothing."""
        async with self.engine.connect() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def write(self, *, fenced: bool = True) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed on success and rolled back on any error. While a `fence`
        is set the transaction first checks it (`fenced=False`: writes any instance may make, leading or not: the
        lease itself, a webhook's update received)."""
        lock = self._write_lock or contextlib.nullcontext()
        fence = self.fence if fenced else None
        async with lock, self._write_engine.connect() as conn, conn.begin():
            if fence is not None:
                await fence(conn)
            token = _WRITING.set(True)
            try:
                yield conn
            finally:
                _WRITING.reset(token)

    @staticmethod
    def writing() -> bool:
        """Whether the running code is inside a `write()` transaction (on SQLite it then holds the one writer's lock:
        a second `write()` from it would wait for itself)."""
        return _WRITING.get()

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def optimize(self) -> None:
        """Refresh the planner's statistics so growing tables keep their indexed plans: `PRAGMA optimize` on
        SQLite (it analyzes only what changed enough), `ANALYZE` on PostgreSQL (autovacuum does it too, late)."""
        async with self.write() as conn:
            await conn.execute(text("PRAGMA optimize" if self.is_sqlite else "ANALYZE"))

    def unpooled(self) -> AsyncEngine:
        """An engine of the same database and connection settings that opens a new connection for each use and
        closes it after (PostgreSQL; SQLite: the pooled one): the lease's (channels/lease.py), so that a renewal never
        waits for a pooled connection, nor reuses one an abandoned statement left half-way."""
        if self.is_sqlite:
            return self.engine
        if self._unpooled is None:
            self._unpooled = create_async_engine(
                self.url,
                poolclass=NullPool,
                hide_parameters=True,
                connect_args=postgres_connect_args(self.schema, self.instance),
            )
        return self._unpooled

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self._unpooled is not None:
            await self._unpooled.dispose()


# Timeouts on every PostgreSQL connection (issue 30): no statement runs past STATEMENT_TIMEOUT, no lock is waited for
# past LOCK_TIMEOUT, and a transaction left idle (its client frozen or cut off) is ended by the server after
# IDLE_IN_TRANSACTION, releasing its locks (the lease row's among them); the server's TCP keepalives find a peer that
# vanished after about KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT seconds instead of Linux's 2 h 11 min.
# On the client side asyncpg gives up on a connection attempt after CONNECT_TIMEOUT and on any query after
# COMMAND_TIMEOUT seconds.
STATEMENT_TIMEOUT_MS = 60_000
LOCK_TIMEOUT_MS = 10_000
IDLE_IN_TRANSACTION_MS = 5_000
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 10, 5, 3
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 70.0


def instance_id() -> str:
    """A name for this process among the instances: host, pid and a random part (a pid may come again)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def postgres_connect_args(schema: str | None = None, instance: str | None = None) -> dict[str, Any]:
    """asyncpg's connect arguments for the bot's connections: the timeouts above, the instance as application_name
    (and a schema's search path)."""
    settings = {
        "statement_timeout": str(STATEMENT_TIMEOUT_MS),
        "lock_timeout": str(LOCK_TIMEOUT_MS),
        "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS),
        "tcp_keepalives_idle": str(KEEPALIVE_IDLE),
        "tcp_keepalives_interval": str(KEEPALIVE_INTERVAL),
        "tcp_keepalives_count": str(KEEPALIVE_COUNT),
    }
    if schema is not None:
        settings["search_path"] = schema
    if instance is not None:
        settings["application_name"] = instance[:63]
    return {"server_settings": settings, "timeout": CONNECT_TIMEOUT, "command_timeout": COMMAND_TIMEOUT}


Write = Callable[[AsyncConnection], Awaitable[None]]


class _Cancellable(Protocol):
    def cancel(self) -> object: ...


class LingerTimer(Protocol):
    """What `GroupCommit` waits on (`core.clock.Timer` is one): no wall clock in storage."""

    def monotonic(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], object]) -> _Cancellable: ...


T = TypeVar("T")


class GroupCommit:
    """Small writes that arrive while one transaction is on its way go together in the next one, so under load
    they cost one commit each group instead of one each (the update inbox: `channels.telegram.inbox`,
    `channels.telegram.persistence`). No write waits for company: a lone write starts its transaction at once. A group
    that fails is tried again one write at a time, so a bad write fails only its own caller. Writes nobody waits for
    (`ride`) gather for `linger` seconds and then go together, with the transaction under way or in one of their own."""

    def __init__(self, db: Database, *, timer: LingerTimer | None = None, linger: float = 0.25) -> None:
        self._db = db
        self._waiting: list[tuple[Write, asyncio.Future[None]]] = []
        self._running: asyncio.Task[None] | None = None
        # Writes nobody waits for (`ride`): they join the next transaction, or start one `linger` seconds later on
        # `timer` (at once without a timer).
        self._clock = timer
        self.linger = linger
        self._riders: list[Write] = []
        self._timer: _Cancellable | None = None
        # Whether the riders' linger is over: only then does a transaction take them (so the riders of a quarter
        # of a second cost one statement, not one each in every transaction meanwhile).
        self._due = False

    def ride(self, write: Write) -> None:
        """Run `write` within `linger` seconds, with the transaction under way then or in one of its own; nobody
        waits for it. For what may be lost in a crash at no cost but a repeat (a handled update's inbox row: the
        update is handled again). A failed rider is kept for the next transaction (the database was down)."""
        self._riders.append(write)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            return
        if self._clock is None:
            self._start()
        else:
            self._timer = self._clock.call_at(self._clock.monotonic() + self.linger, self._start)

    async def flush(self) -> None:
        """Commit the riders now, or wait for the transaction that took them (at shutdown, so a clean stop repeats
        nothing)."""
        if self._riders:
            self._due = True
            await self.write(_nothing)
        elif self._running is not None and not self._running.done():
            await asyncio.shield(self._running)

    def _start(self) -> None:
        self._timer = None
        self._due = bool(self._riders)
        if self._riders and (self._running is None or self._running.done()):
            self._running = asyncio.create_task(self._commit_groups(), name="group-commit")

    async def write(self, write: Write) -> None:
        """Run `write` in a transaction (perhaps with others); returns once committed, raises what it raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((write, done))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._commit_groups(), name="group-commit")
        await done

    async def _commit_groups(self) -> None:
        while self._waiting or (self._riders and self._due):
            group, self._waiting = self._waiting, []
            riders: list[Write] = []
            if self._due:
                riders, self._riders, self._due = self._riders, [], False
                if self._timer is not None:  # riders that came since the linger ended go now too
                    self._timer.cancel()
                    self._timer = None
            try:
                await self._commit([*riders, *(write for write, _ in group)])
            except Exception as exc:
                if len(group) == 1 and not riders:
                    _settle(group[0][1], exc)
                else:
                    for write, done in group:
                        _settle(done, await self._alone(write))
                if riders and isinstance(exc, Fenced):
                    # Another instance leads now (issue 30): these writes belong to an epoch that ended.
                    log.warning("group commit: %d deferred writes dropped (%s)", len(riders), exc)
                    riders = []
                if riders:  # tried again with the next transaction, or alone after `linger`
                    log.warning("group commit: %d deferred writes failed (%s); kept for the next", len(riders), exc)
                    self._riders[:0] = riders
                    self._due = True
                    if not self._waiting:
                        if self._clock is not None:
                            self._due = False
                            self._schedule()
                        return
            else:
                for _, done in group:
                    _settle(done, None)

    async def _alone(self, write: Write) -> Exception | None:
        try:
            await self._commit([write])
        except Exception as exc:
            return exc
        return None

    async def _commit(self, writes: list[Write]) -> None:
        async with self._db.write() as conn:
            for write in writes:
                await write(conn)


class Batched(Generic[T]):
    """Items that go to the database by one statement per commit group (`write(conn, items)`: one executemany for
    many inbox rows), instead of one statement each: what a row costs is mostly the statement, not the data."""

    def __init__(self, group: GroupCommit, write: Callable[[AsyncConnection, list[T]], Awaitable[None]]) -> None:
        self._group = group
        self._write = write
        self._items: list[T] = []
        self._written: asyncio.Future[None] | None = None

    async def add(self, item: T) -> None:
        """Returns once the item is committed (with the others of its group); raises what their write raised."""
        self._items.append(item)
        if len(self._items) == 1:
            taken: list[T] = []

            async def write(conn: AsyncConnection) -> None:
                # The items added until the group's transaction starts; the same ones if it is tried again alone.
                if not taken:
                    taken.extend(self._items)
                    self._items = []
                await self._write(conn, taken)

            self._written = asyncio.ensure_future(self._group.write(write))
        assert self._written is not None
        await asyncio.shield(self._written)


async def _nothing(_: AsyncConnection) -> None:
    """A write that writes nothing: it starts a transaction for the riders (`GroupCommit.flush`)."""


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # the caller was cancelled
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself, so DDL runs inside transactions too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "")
    begin = f"BEGIN {mode}".strip()
    driver = conn.connection.driver_connection
    if isinstance(driver, _OneHopConnection):
        # Sent together with the transaction's first statement, in the same trip to the thread.
        driver.pending_begin = begin
    else:
        conn.exec_driver_sql(begin)


# == SQLite: one thread hop per statement ========================================================
#
# aiosqlite runs each sqlite3 call on the connection's own thread, and SQLAlchemy's adapter makes four
# such calls per statement (open a cursor, execute, fetch, close), each a round trip through a queue,
# the thread and the event loop's self-pipe. With the limits off the round trips, not SQLite, were
# most of the database's share of the bot's CPU. The cursor below does the four in one trip: the
# statement's rows are fetched whole, which is what SQLAlchemy's adapter does anyway.


_Outcome = tuple[Any, list[Any], int, int | None]


class _OneHopCursor:
    """The part of `aiosqlite.Cursor` SQLAlchemy's adapter uses; every statement is one trip to the thread."""

    def __init__(self, connection: _OneHopConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _OneHopCursor:
        outcome = await self._connection.run_statement(_execute_whole, sql, [] if parameters is None else parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _OneHopCursor:
        outcome = await self._connection.run_statement(_execute_many, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = size or 1
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


class _OneHopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors run a whole statement in one trip to its thread.

    A transaction's BEGIN waits in `pending_begin` and goes with its first statement; a transaction
    that ran no statement has nothing to commit or roll back and costs no trip at all.
    """

    pending_begin: str | None = None
    # Whether the open transaction began with a plain (deferred) BEGIN, as every `Database.read()` does:
    # its rollback is not waited for (see `rollback`).
    deferred = False
    # Whether a BEGIN went to the thread and no COMMIT or ROLLBACK since: the pool's rollback of a connection
    # whose transaction was committed (SQLAlchemy's reset on return, after every `Database.write()`) then has
    # nothing to end and costs no trip.
    in_transaction = False

    async def cursor(self) -> _OneHopCursor:  # type: ignore[override]
        return _OneHopCursor(self)

    def run_statement(self, fn: Callable[..., _Outcome], *args: Any) -> Awaitable[_Outcome]:
        """Run `fn(sqlite3_connection, *args)` on the connection's thread, after the pending BEGIN if any."""
        begin, self.pending_begin = self.pending_begin, None
        if begin is not None:
            self.deferred = begin == "BEGIN"
            self.in_transaction = True
        return self._execute(_run_statement, self, begin, fn, *args)  # type: ignore[no-untyped-call]

    async def commit(self) -> None:
        self.deferred = False
        if self.pending_begin is not None:
            self.pending_begin = None
            return
        await super().commit()
        self.in_transaction = False  # only once committed: a failed COMMIT leaves the transaction to roll back

    async def rollback(self) -> None:
        if self.pending_begin is not None:
            self.pending_begin = None
            return
        if not self.in_transaction:
            return
        self.in_transaction = False
        if self.deferred:
            # Ending a read changes nothing anyone could wait for, so it is queued without waiting: the
            # thread runs the connection's calls in order, so it is done before anyone's next statement
            # on this connection. (A deferred transaction that wrote is discarded just the same.)
            self.deferred = False
            self._tx.put_nowait((None, partial(_end_read, self)))
            return
        await super().rollback()


def _run_statement(
    connection: _OneHopConnection, begin: str | None, fn: Callable[..., _Outcome], *args: Any
) -> _Outcome:
    conn = connection._conn
    if begin is not None:
        conn.execute(begin)
    return fn(conn, *args)


def _end_read(connection: _OneHopConnection) -> None:
    try:
        connection._conn.rollback()
    except sqlite3.Error:
        # Should ending a read ever fail, the connection's next BEGIN fails loudly instead.
        log.exception("rolling back a read transaction failed")


def _execute_whole(conn: sqlite3.Connection, sql: str, parameters: Sequence[Any]) -> _Outcome:
    cursor = conn.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _execute_many(conn: sqlite3.Connection, sql: str, parameters: Iterable[Sequence[Any]]) -> _Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(sql, parameters)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _one_hop_connector(url: Any, **connect_args: Any) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """SQLAlchemy's `async_creator` for `url`: the connection aiosqlite would open, with one-trip cursors."""
    args, params = SQLiteDialect_aiosqlite().create_connect_args(url)
    params.update(connect_args)

    async def connect() -> aiosqlite.Connection:
        connection = _OneHopConnection(partial(sqlite3.connect, *args, **params), 64)
        # As SQLAlchemy does for the connections it opens itself: a connection nobody closed must not
        # keep the process alive at exit.
        connection._thread.daemon = True
        return await connection

    return connect


def is_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database could not be reached or lost the connection (an outage, not a bug):
    the work that raised it can be done again once the database is back."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, ConnectionError) or (isinstance(exc, OSError) and exc.errno is not None):
        return True
    # asyncpg's own connection errors, when they escape SQLAlchemy's wrapping.
    module = type(exc).__module__
    if module.startswith("asyncpg") and type(exc).__name__ in {
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "ConnectionFailureError",
        "InterfaceError",
    }:
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and isinstance(cause, ConnectionError | OSError)
