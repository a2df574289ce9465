"""Which errors mean the database is out of reach (the update is kept and handled again) and which are bugs."""

from __future__ import annotations

from sqlalchemy import exc

from storage.db import is_unavailable


def test_lost_or_refused_connections_are_outages() -> None:
    assert is_unavailable(ConnectionRefusedError(111, "Connection refused"))
    assert is_unavailable(exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    assert is_unavailable(exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")))
    assert is_unavailable(exc.TimeoutError("QueuePool limit reached"))
    invalidated = exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert is_unavailable(invalidated)


def test_bugs_are_not_outages() -> None:
    assert not is_unavailable(ValueError("bad input"))
    assert not is_unavailable(KeyError("draft"))
    assert not is_unavailable(exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_unavailable(TimeoutError())
