"""Message catalogues: every key in both languages, every key the code uses exists, placeholders agree."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from core.i18n import Catalogues, normalize_language

ROOT = Path(__file__).resolve().parents[2]
KEY_IN_CODE = re.compile(
    r"""(?:\b(?:t|text)\(\s*(?:[a-z_.]+,\s*)?"""  # context.t("k"), catalogues.text(lang, "k")
    r"""|\bNotice\(\s*"""  # Notice("k", ...)
    r"""|\(\s*(?=["'][a-z0-9_.]+["'],\s*f?["'][a-z_]+:))"""  # button rows: ("label.key", "prefix:...")
    r"""["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']"""
)

# share_or_skip(context, "share.key", "skip.key", ...): both labels are message keys.
KEYBOARD_KEYS = re.compile(r"""share_or_skip\(\s*\w+,\s*["']([a-z0-9_.]+)["'],\s*["']([a-z0-9_.]+)["']""")


@pytest.fixture(scope="module")
def catalogues() -> Catalogues:
    return Catalogues()


def test_both_languages_define_the_same_keys(catalogues: Catalogues) -> None:
    assert catalogues.keys("zh-CN") == catalogues.keys("en")


def test_every_key_used_in_code_exists(catalogues: Catalogues) -> None:
    used: set[str] = set()
    for package in ("actions", "bot", "conversations", "handlers", "rules", "scheduler"):
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            used.update(KEY_IN_CODE.findall(source))
            used.update(key for pair in KEYBOARD_KEYS.findall(source) for key in pair)
    assert used, "the pattern found no keys at all"
    missing = used - catalogues.keys("zh-CN")
    assert not missing, f"keys used in code but missing from the catalogues: {sorted(missing)}"


def test_placeholders_agree_between_languages(catalogues: Catalogues) -> None:
    formatter = string.Formatter()
    for key in catalogues.keys("zh-CN"):
        fields = [
            {name for _, name, _, _ in formatter.parse(catalogues.text(lang, key)) if name} for lang in ("zh-CN", "en")
        ]
        assert fields[0] == fields[1], key


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("zh-hans", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("fr", "zh-CN"),
        (None, "zh-CN"),
    ],
)
def test_telegram_language_codes(code: str | None, expected: str) -> None:
    assert normalize_language(code, "zh-CN") == expected
