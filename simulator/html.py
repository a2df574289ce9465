"""Telegram-flavoured HTML parse mode: turn marked-up text into plain text plus MessageEntity dicts.

Telegram accepts only a handful of tags and is strict about them: an unknown tag, an unclosed tag, a
mismatched end tag or a bare ``<`` makes the whole request fail with "Bad Request: can't parse entities: …".
Bots that build HTML from user input (names, addresses) must escape it, and the simulator's job is to catch
the ones that forget, so this parser is deliberately as strict as Telegram rather than as forgiving as a
browser. Offsets and lengths are counted in UTF-16 code units, like Telegram's, which matters for Chinese
text mixed with emoji.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# tag → entity type; attributes are handled per tag below.
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'", "nbsp": "\u00a0"}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ATTR_RE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_ENTITY_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")


class EntityParseError(ValueError):
    """Malformed HTML; ``str(exc)`` is the part after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    entity: dict[str, Any]
    start: int  # UTF-16 offset in the output
    children: list[str] = field(default_factory=list)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` for Telegram HTML ``source``; raise :class:`EntityParseError`."""
    out: list[str] = []
    out_len = 0  # UTF-16 length of the output so far
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    pos = 0

    def byte_offset(char_pos: int) -> int:
        return len(source[:char_pos].encode("utf-8"))

    def emit(text: str) -> None:
        nonlocal out_len
        out.append(text)
        out_len += utf16_len(text)

    while pos < len(source):
        ch = source[pos]
        if ch == "<":
            m = _TAG_RE.match(source, pos)
            if not m:
                raise EntityParseError(f"unclosed start tag at byte offset {byte_offset(pos)}")
            closing, tag, attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
            if closing:
                if not stack:
                    raise EntityParseError(f"unexpected end tag at byte offset {byte_offset(pos)}")
                top = stack.pop()
                if top.tag != tag:
                    raise EntityParseError(
                        f'can\'t find end tag corresponding to start tag "{top.tag}" at byte offset {byte_offset(pos)}'
                    )
                length = out_len - top.start
                if length > 0 and top.entity:
                    top.entity["offset"] = top.start
                    top.entity["length"] = length
                    entities.append(top.entity)
            else:
                entity = _entity_for(tag, attrs, byte_offset(pos), stack)
                stack.append(_Open(tag, entity, out_len))
            pos = m.end()
        elif ch == "&":
            m = _ENTITY_RE.match(source, pos)
            if m is None:
                emit("&")  # Telegram keeps a lone ampersand literally
                pos += 1
                continue
            name = m.group(1)
            if name.startswith("#x"):
                emit(chr(int(name[2:], 16)))
            elif name.startswith("#"):
                emit(chr(int(name[1:])))
            elif name.lower() in _NAMED_ENTITIES:
                emit(_NAMED_ENTITIES[name.lower()])
            else:
                emit(m.group(0))  # unknown named entity: left as typed
            pos = m.end()
        else:
            nxt = min((i for i in (source.find("<", pos), source.find("&", pos)) if i >= 0), default=len(source))
            emit(source[pos:nxt])
            pos = nxt
    if stack:
        raise EntityParseError(f'can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity_for(tag: str, attrs: str, at: int, stack: list[_Open]) -> dict[str, Any]:
    parsed = {m.group(1).lower(): (m.group(2) or m.group(3) or m.group(4) or "") for m in _ATTR_RE.finditer(attrs)}
    if tag == "a":
        href = parsed.get("href")
        if not href:
            # Telegram drops an <a> without href silently; an empty entity keeps the text only.
            return {}
        return {"type": "text_link", "url": href}
    if tag == "span":
        if parsed.get("class") != "tg-spoiler":
            raise EntityParseError(f'tag "span" must have class "tg-spoiler" at byte offset {at}')
        return {"type": "spoiler"}
    if tag == "tg-emoji":
        emoji_id = parsed.get("emoji-id")
        if not emoji_id:
            raise EntityParseError(f'tag "tg-emoji" must have attribute "emoji-id" at byte offset {at}')
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id}
    if tag == "code" and stack and stack[-1].tag == "pre":
        # <pre><code class="language-python"> sets the language of the enclosing pre entity.
        lang = parsed.get("class", "")
        if lang.startswith("language-"):
            stack[-1].entity["language"] = lang.removeprefix("language-")
            return {}
        return {}
    if tag == "blockquote" and "expandable" in parsed:
        return {"type": "expandable_blockquote"}
    if tag in _SIMPLE:
        return {"type": _SIMPLE[tag]}
    raise EntityParseError(f'unsupported start tag "{tag}" at byte offset {at}')
