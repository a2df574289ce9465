"""Placeholder: the scheduler feature installs its jobs and sender here."""

from __future__ import annotations

from typing import Any


async def start(application: Any) -> None:
    """Start the scheduler's jobs and the outbox sender (nothing yet)."""


async def stop(application: Any) -> None:
    """Stop what `start` started (nothing yet)."""
