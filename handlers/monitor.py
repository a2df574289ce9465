"""Placeholder: filled in by the feature that owns this module."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import TongxinContext


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Conversation handlers of this module (registered before every plain handler)."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Plain command and button handlers of this module."""
    return []
