"""Tongxin (同心): the bot package — entry point, settings, application assembly, i18n."""

import os

# Opt in to PTB's coming behaviour (durations as `timedelta`, e.g. `RetryAfter.retry_after`) now, so the
# deprecation warning PTB raises on every 429 goes away and our code is written for the future API.
os.environ.setdefault("PTB_TIMEDELTA", "1")
