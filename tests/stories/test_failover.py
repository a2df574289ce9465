"""Failover (issue 30): two instances on PostgreSQL against the simulator while 20 people chat, 3 are in the middle
of the wish form and a digest goes out to 500. The leader is killed, frozen (and resumed after the takeover), cut off
from the database while it has a transaction open (and reconnected), and stopped cleanly. Each time the standby leads
within 10 s (1 s after a clean stop), the old leader makes no Bot API request once back, every message is answered
(twice only for one the old leader had just handled when it was killed, frozen or cut), everyone gets the digest
exactly once, and the forms go on. The ten rounds of each the issue asks for: `python -m benchmarks.failover`
(docs/benchmarks.md)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from benchmarks import failover
from simulator import BotApiSimulator
from storage.db import Database
from tests.conftest import TEST_TOKEN, Templates, _copied_database

# One round of the four faults costs about three minutes of wall clock (each takeover waits out the 8 s lease, and the
# run settles a 500-person digest): `make test-slow` runs it, alone.
pytestmark = [
    pytest.mark.wall_clock,
    pytest.mark.serial,
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("TEST_POSTGRES_URL"), reason="needs PostgreSQL (TEST_POSTGRES_URL)"),
]


@pytest.fixture
async def pg_db(templates: Templates, tmp_path: Path) -> AsyncIterator[Database]:
    async for database in _copied_database("postgresql", templates, tmp_path):
        yield database


@pytest.mark.timeout(600)
async def test_the_standby_takes_over_from_a_killed_frozen_cut_or_stopped_leader(
    sim: BotApiSimulator, pg_db: Database, tmp_path: Path
) -> None:
    outcome = await failover.run(sim, pg_db, tmp_path, TEST_TOKEN, rounds=1, recipients=500, chatters=20)
    print(failover.summary(outcome))
    by_fault = {t.fault: t for t in outcome.takeovers}
    assert set(by_fault) == set(failover.FAULTS)
    for fault in ("kill", "stop", "cut"):
        assert by_fault[fault].seconds < failover.TAKEOVER_LIMIT, by_fault[fault]
    assert by_fault["term"].seconds < failover.CLEAN_LIMIT, by_fault["term"]
    assert by_fault["cut"].transaction_open
    # Every epoch one more than the last: each takeover is a new epoch, none was skipped or taken twice.
    epochs = [t.epoch for t in outcome.takeovers]
    assert epochs == list(range(epochs[0], epochs[0] + len(epochs)))
    assert outcome.stale_requests == []
    # A wish form in progress goes on after a clean handover; after a kill, freeze or cut a step the old leader had
    # just answered may be rolled back (its state not yet written): the person is asked to tap again, the draft kept.
    assert outcome.conversations_broken == []
    assert outcome.conversations_continued_by_fault.get("term") == failover.CONVERSERS
    assert outcome.conversations_continued + len(outcome.conversations_asked_again) == failover.CONVERSERS * 4
    # Every message answered; an answer given twice only for a message the old leader had just handled when it was
    # killed, frozen or cut off (at least once: docs/internals.md).
    assert outcome.unanswered == []
    assert outcome.repeats_away_from_a_fault() == []
    # The digest: nobody twice; nobody without it but a person whose row was on the wire at a fault, settled
    # `unknown` by the next leader and not sent again (at most once: docs/internals.md).
    assert outcome.digest_twice == 0
    assert outcome.digest_once + outcome.digest_missing == 500
    assert outcome.digest_missing == outcome.digest_unknown - outcome.digest_unknown_arrived
