"""The lease rules (issue 30): who may take, renew and resign the lease, and the fence a leader's writes pass."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import lease
from storage.db import Database
from storage.schema import leases, update_inbox

TTL = 30.0


async def acquire(db: Database, holder: str, ttl: float = TTL) -> int | None:
    async with db.write() as conn:
        return await lease.acquire(conn, holder, ttl)


async def current(db: Database) -> lease.Lease:
    async with db.read() as conn:
        found = await lease.read(conn)
    assert found is not None
    return found


async def test_the_first_instance_takes_epoch_1_and_a_second_waits_while_it_holds(db: Database) -> None:
    assert await acquire(db, "a") == 1
    assert await acquire(db, "b") is None
    held = await current(db)
    assert (held.holder, held.epoch, held.expired) == ("a", 1, False)
    assert (held.expires_at - held.renewed_at).total_seconds() == pytest.approx(TTL, abs=0.01)


async def test_an_expired_lease_is_taken_over_with_the_next_epoch(db: Database) -> None:
    assert await acquire(db, "a", ttl=0.0) == 1  # expires at once: as if "a" stopped renewing
    assert (await current(db)).expired
    assert await acquire(db, "b") == 2
    assert await acquire(db, "a") is None
    # "a" cannot renew what it lost, "b" can.
    async with db.write() as conn:
        assert not await lease.renew(conn, "a", 1, TTL)
        assert await lease.renew(conn, "b", 2, TTL)
    held = await current(db)
    assert (held.holder, held.epoch, held.expired) == ("b", 2, False)


async def test_a_holder_cannot_renew_a_lease_that_expired_even_if_nobody_took_it(db: Database) -> None:
    assert await acquire(db, "a", ttl=0.0) == 1
    async with db.write() as conn:
        assert not await lease.renew(conn, "a", 1, TTL)
    # It takes it again like anyone would: a new epoch.
    assert await acquire(db, "a") == 2


async def test_resigning_lets_a_standby_take_over_at_once(db: Database) -> None:
    assert await acquire(db, "a") == 1
    async with db.write() as conn:
        assert not await lease.resign(conn, "b", 1)  # not b's to give up
        assert await lease.resign(conn, "a", 1)
    assert await acquire(db, "b") == 2


async def test_a_stale_holders_fenced_write_is_refused_and_changes_nothing(db: Database) -> None:
    assert await acquire(db, "a", ttl=0.0) == 1
    assert await acquire(db, "b") == 2
    row = {"update_id": 1, "chat_key": 1, "user_id": 1, "payload": "{}", "received_at": (await current(db)).renewed_at}

    db.fence = lambda conn: lease.check(conn, 1)  # "a", resumed after its lease was taken
    with pytest.raises(lease.Fenced):
        async with db.write() as conn:
            await conn.execute(update_inbox.insert(), [row])
    db.fence = lambda conn: lease.check(conn, 2)  # "b", the holder
    async with db.write() as conn:
        await conn.execute(update_inbox.insert(), [{**row, "update_id": 2}])
    async with db.read() as conn:
        assert list((await conn.execute(select(update_inbox.c.update_id))).scalars()) == [2]
        assert (await conn.execute(select(leases.c.holder, leases.c.epoch))).all() == [("b", 2)]


async def test_even_the_holder_is_fenced_once_its_lease_expired(db: Database) -> None:
    assert await acquire(db, "a", ttl=0.0) == 1
    async with db.write() as conn:
        with pytest.raises(lease.Fenced):
            await lease.check(conn, 1)
