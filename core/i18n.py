"""Message catalogues: gettext `.po` files per language, compiled to `.mo` in memory at start.

Every feature keeps its own catalogue file (`core/locale/<lang>/LC_MESSAGES/<feature>.po`) whose msgids
are stable dotted keys such as `start.welcome`; both languages must define every key (a test checks).
Values use `str.format` placeholders: `{name}`; the only markup is `**bold**` (no HTML: channels render it).
"""

from __future__ import annotations

import gettext
import io
import logging
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.settings import LANGUAGES, Language

LOCALE_DIR = Path(__file__).with_name("locale")
log = logging.getLogger(__name__)


def locale_dirname(language: str) -> str:
    """`zh-CN` → `zh_CN`, the folder name gettext uses."""
    return language.replace("-", "_")


def normalize_language(code: str | None, default: Language) -> Language:
    """Map a Telegram `language_code` (en, en-US, zh-hans, zh-CN…) to a supported language."""
    if not code:
        return default
    code = code.lower()
    if code.startswith("en"):
        return "en"
    if code.startswith("zh"):
        return "zh-CN"
    return default


class Catalogues:
    """All languages' messages, looked up by key."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self._translations: dict[str, gettext.GNUTranslations] = {}
        self._keys: dict[str, set[str]] = {}
        for language in LANGUAGES:
            merged = Catalog(locale=locale_dirname(language))
            keys: set[str] = set()
            for po_path in sorted((locale_dir / locale_dirname(language) / "LC_MESSAGES").glob("*.po")):
                with po_path.open("rb") as handle:
                    catalog = read_po(handle, locale=locale_dirname(language))
                for message in catalog:
                    if message.id and message.string:
                        merged.add(message.id, message.string)
                        keys.add(str(message.id))
            buffer = io.BytesIO()
            write_mo(buffer, merged)
            buffer.seek(0)
            self._translations[language] = gettext.GNUTranslations(buffer)
            self._keys[language] = keys

    def keys(self, language: str) -> set[str]:
        """Every key a language defines (for tests)."""
        return set(self._keys[language])

    def has(self, language: str, key: str, /) -> bool:
        """Whether the language defines `key` (channels look up their own variant of a message this way)."""
        return key in self._keys.get(language, ())

    def template(self, language: str, key: str, /) -> str:
        """The message `key` in `language` as the catalogue holds it: `{placeholders}` and `**markup**`."""
        translations = self._translations.get(language) or self._translations["zh-CN"]
        template = translations.gettext(key)
        if template == key and key not in self._keys.get(language, ()):
            log.warning("missing message %r for language %s", key, language)
        return template

    def text(self, language: str, key: str, /, **values: object) -> str:
        """The message `key` in `language`, with `{placeholders}` filled in and its markup kept (channel
        renderers turn it into their own; see `channels/telegram/render.py`)."""
        template = self.template(language, key)
        if not values:
            return template
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            log.exception("cannot fill message %r (%s) with values named %s", key, language, sorted(values))
            return template
