"""A person's own settings.

Effects:
  choose_language (the person): their language is the one chosen (every later message and notice, including
    those already waiting in the outbox, is rendered in it). Nobody is told; no audit (not a staff action).

Refusals: `ValueError` (a language the bot does not speak), `NotFound` (the bot never met the person).
"""

from __future__ import annotations

from actions.env import Env
from core.settings import LANGUAGES
from storage import users


async def choose_language(env: Env, person_id: int, language: str) -> users.User:
    """Remember the person's language; the person as they are now."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for language {language!r}")
    async with env.db.write() as conn:
        await users.set_language(conn, person_id, language)
        return await users.get_user(conn, person_id)
