"""Small checks on what people type, shared by wishes, tips and plain words."""

from __future__ import annotations

import re

# A word character of any script: an ideograph, a letter or a digit (emoji, symbols and punctuation are not).
_WORDY = re.compile(r"[^\W_]", re.UNICODE)
# A description or tip needs at least this many letters or ideographs: emoji and punctuation alone say nothing.
MIN_WORDS = 2


def word_count(text: str) -> int:
    """How many letters, digits or ideographs a text has."""
    return len(_WORDY.findall(text))
