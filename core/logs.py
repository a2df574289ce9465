"""Logs without secrets or personal data.

`install(*secrets)` puts one redaction in front of every log record of the process — ours and every library's, whichever
handler later writes it: the secrets it was given (the bot token; WeChat's AppSecret, Token and EncodingAESKey; WeCom's
Secret, Token and EncodingAESKey), anything shaped like a Telegram token (`bot<digits>:<secret>`, or a bare
`<digits>:<35 characters>`) and the value of any credential parameter in a URL or JSON (`access_token=…`, `secret=…`,
`"access_token": "…"`: WeChat's access tokens change every two hours; `media_id=…`, a person's photo; a WeCom card's
one-time `response_code`) are replaced in the message, its arguments and the formatted traceback. It works through the
log record factory, so records of child loggers are covered too (a filter on the root logger alone sees only records
logged on the root logger itself), at every level.

Personal data is kept out by what we log: error records name the update (id, type, chat id), the handler and the
exception, never the update's text, names, phones, addresses or coordinates (`describe_update`); a full update is
logged at DEBUG only, with those fields blanked (`redacted_update`). SQL parameters stay out of database errors
(`storage.db.Database` builds its engine with `hide_parameters=True`).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"
# A Telegram bot token in a URL (`/bot123456:ABC…/getUpdates`), or alone in a real token's shape.
TOKEN_PATTERN = re.compile(r"(bot)\d+:[A-Za-z0-9_-]+|(?<![A-Za-z0-9])()\d{6,}:[A-Za-z0-9_-]{30,}")
# A credential's value in a URL's query or a JSON body (WeChat's and WeCom's APIs, whatever logs the URL); a
# `media_id` too: it names a person's photo on WeChat's servers for three days.
CREDENTIAL_PATTERN = re.compile(
    r"((?:access_token|secret|corpsecret|appsecret|encodingaeskey|token|media_id)=)[^&\s\"'<>]+"
    r"|(\"(?:access_token|secret|corpsecret|media_id|response_code)\"\s*:\s*\")[^\"]*",
    re.IGNORECASE,
)
# Update fields that hold what a person wrote or who they are; blanked even in DEBUG dumps.
PERSONAL_FIELDS = frozenset(
    {
        "text",
        "caption",
        "first_name",
        "last_name",
        "username",
        "phone_number",
        "vcard",
        "latitude",
        "longitude",
        "address",
        "title",
        "file_id",
        "file_unique_id",
        "bio",
        "query",
        "data",
        "email",
    }
)

_secrets: set[str] = set()
_installed: list[Callable[..., logging.LogRecord]] = []


def redact(text: str) -> str:
    """`text` without the token or anything shaped like one."""
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    text = CREDENTIAL_PATTERN.sub(lambda m: (m.group(1) or m.group(2) or "") + REDACTED, text)
    return TOKEN_PATTERN.sub(lambda m: (m.group(1) or "") + REDACTED, text)


def _clean(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message, traceback and stack redacted (the message is formatted once, here)."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what we can
        message = f"{record.msg!r} {record.args!r}"
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """The same redaction as a filter, for handlers set up elsewhere (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _clean(record)
        return True


def install(*secrets: str) -> None:
    """Redact these secrets (the bot token) and token-shaped text from every log record from now on."""
    _secrets.update(s for s in secrets if s)
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    _installed.append(previous)

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _clean(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    root = logging.getLogger()
    if not any(isinstance(f, RedactingFilter) for f in root.filters):
        root.addFilter(RedactingFilter())


def redacted_update(data: Any) -> Any:
    """An update as a dict with every personal field blanked (for DEBUG logs)."""
    if isinstance(data, dict):
        return {
            k: (REDACTED if k in PERSONAL_FIELDS and v is not None else redacted_update(v)) for k, v in data.items()
        }
    if isinstance(data, list):
        return [redacted_update(item) for item in data]
    return data
