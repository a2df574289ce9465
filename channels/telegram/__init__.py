"""The Telegram channel: renderer (catalogue markup → HTML), callback codec, keyboards, flood limits, the outbox
sender's transport, and the runtime under python-telegram-bot (context, update processor, durable inbox,
persistence, requests, webhook)."""

import os

# Opt in to PTB's coming behaviour (durations as `timedelta`, e.g. `RetryAfter.retry_after`) now, so the
# deprecation warning PTB raises on every 429 goes away and our code is written for the future API.
os.environ.setdefault("PTB_TIMEDELTA", "1")
