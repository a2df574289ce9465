"""Erasing a person for good (/deleteme), after they confirmed it.

Effects:
  erase (the person, about themselves only): in one transaction, what identifies them is blanked in every
    table `storage.privacy.PERSONAL_DATA` registers (names, phone, places, photos, free texts; rows and
    counts stay) and their drafts, follows, holds and unfinished conversations are deleted; every outbox
    notice to them, about them (`payload.about` names them or one of their wishes, tips, applications or cases)
    or quoting them (their name, phone, address or place, a fragment of what they wrote, one of their photos), is
    blanked and marked "privacy erase", and those not yet sent are dropped (`dropped`); one on the wire is taken
    back by the sender when Telegram answers (`withdrawn`); staff's notes and audit details quoting them are
    blanked; audit `privacy.erase` by id only. After the commit their local media files are removed
    (tip media, and photos saved under MEDIA_DIR such as the ones sent on WeChat). Nobody is told.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from actions.env import Env
from actions.hot import forget_cached_topics
from storage import privacy


@dataclass(frozen=True, slots=True)
class Erased:
    """What the erasure changed: rows touched per table."""

    touched: dict[str, int]


async def forget_stale(env: Env, now: dt.datetime) -> int:
    """The sweep's hourly forgetting: handled WeChat callbacks and abandoned draft photos a week old (their files
    too, once committed); how many files went."""
    async with env.db.write() as conn:
        files = await privacy.forget_stale(conn, now)
    privacy.remove_saved_files(env.settings.media_dir, files)
    return len(files)


async def erase(env: Env, person_id: int) -> Erased:
    """Erase what identifies the person everywhere (the caller makes sure it is the person asking)."""
    async with env.db.write() as conn:
        saved = await privacy.saved_media_files(conn, person_id)
        erasure = await privacy.erase_person(conn, person_id, now=env.now())
    forget_cached_topics()  # no topic example may quote the erased texts, not even from the last minute
    # Files go only once the erasure is committed: a rolled-back erasure must not lose them.
    privacy.remove_media_files(erasure.files)
    privacy.remove_saved_files(env.settings.media_dir, saved)
    return Erased(erasure.touched)
