"""Local Telegram Bot API simulator for tests and demos.

Point a real python-telegram-bot ``Bot``/``Application`` at :attr:`BotApiSimulator.api_url` and drive the
conversation from the people's side (:class:`Person`, :class:`Group`); every request is validated against
the documented Bot API and recorded. See :mod:`simulator.server` for the HTTP side and
:mod:`simulator.people` for the test API.
"""

from .flood import FloodLimits
from .people import Group, Person
from .server import BotApiSimulator
from .state import BotMessage, RequestRecord, StoredFile

__all__ = ["BotApiSimulator", "BotMessage", "FloodLimits", "Group", "Person", "RequestRecord", "StoredFile"]
