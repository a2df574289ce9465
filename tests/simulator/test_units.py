"""Unit tests for the simulator's HTML parser, spec validator and flood buckets (no HTTP)."""

from __future__ import annotations

import pytest

from simulator.flood import FloodControl, FloodLimits
from simulator.html import EntityParseError, parse_html, utf16_len
from simulator.spec import SpecError, load_spec


def test_html_tags_and_entities() -> None:
    text, entities = parse_html('<b>王阿姨</b> &lt;3 <a href="https://x.org">link</a> <i><u>iu</u></i> a&amp;b')
    assert text == "王阿姨 <3 link iu a&b"
    assert {"type": "bold", "offset": 0, "length": 3} in entities
    assert {"type": "text_link", "url": "https://x.org", "offset": 7, "length": 4} in entities
    assert {"type": "italic", "offset": 12, "length": 2} in entities
    assert {"type": "underline", "offset": 12, "length": 2} in entities


def test_html_utf16_offsets_and_pre_language() -> None:
    text, entities = parse_html('😀<tg-spoiler>x</tg-spoiler><pre><code class="language-py">p</code></pre>')
    assert text == "😀xp"
    assert utf16_len("😀") == 2
    assert {"type": "spoiler", "offset": 2, "length": 1} in entities
    assert {"type": "pre", "language": "py", "offset": 3, "length": 1} in entities


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("<b>bold", "can't find end tag"),
        ("<b>x</i>", "can't find end tag"),
        ("x</b>", "unexpected end tag"),
        ("<foo>x</foo>", 'unsupported start tag "foo"'),
        ("1 < 2", "unclosed start tag"),
        ('<span class="x">s</span>', "tg-spoiler"),
    ],
)
def test_html_malformed(source: str, fragment: str) -> None:
    with pytest.raises(EntityParseError, match=fragment):
        parse_html(source)


def test_spec_validation_decodes_and_rejects() -> None:
    spec = load_spec()
    decoded = spec.validate(
        "sendMessage",
        {
            "chat_id": "42",
            "text": "hi",
            "reply_markup": '{"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]}',
        },
        {},
    )
    assert decoded["chat_id"] == 42
    assert decoded["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "x"
    with pytest.raises(SpecError, match="unknown parameter 'foo' for method sendMessage"):
        spec.validate("sendMessage", {"chat_id": 1, "text": "x", "foo": 1}, {})
    with pytest.raises(SpecError, match="parameter 'text' is required"):
        spec.validate("sendMessage", {"chat_id": 1}, {})
    with pytest.raises(SpecError, match="must be of type Boolean"):
        spec.validate("sendMessage", {"chat_id": 1, "text": "x", "disable_notification": "maybe"}, {})
    with pytest.raises(SpecError, match="unknown field 'colour'"):
        spec.validate(
            "sendMessage",
            {
                "chat_id": 1,
                "text": "x",
                "reply_markup": '{"inline_keyboard": [[{"text": "a", "colour": 1}]]}',
            },
            {},
        )
    with pytest.raises(SpecError, match="field 'chat_id' is required"):
        spec.validate("setMyCommands", {"commands": "[]", "scope": '{"type": "chat"}'}, {})
    scope = spec.validate("setMyCommands", {"commands": "[]", "scope": '{"type": "chat", "chat_id": 5}'}, {})
    assert scope["scope"] == {"type": "chat", "chat_id": 5}


def test_flood_buckets_with_fake_clock() -> None:
    now = [100.0]
    flood = FloodControl(FloodLimits(), clock=lambda: now[0])
    assert [flood.acquire(1, True) for _ in range(4)] == [0, 0, 0, 1]
    now[0] += 1.0
    assert flood.acquire(1, True) == 0
    assert [flood.acquire(-5, False) for _ in range(20)] == [0] * 20
    assert flood.acquire(-5, False) >= 1  # 20/min per group
    assert FloodControl(FloodLimits(enabled=False)).acquire(1, True) == 0


def test_flood_sliding_window_refuses_what_a_bucket_forgives() -> None:
    now = [100.0]
    flood = FloodControl(FloodLimits(shape="window"), clock=lambda: now[0])
    # Three in a private chat, then nothing until three seconds after the first.
    assert [flood.acquire(1, True) for _ in range(4)] == [0, 0, 0, 3]
    now[0] += 1.0
    assert flood.acquire(1, True) == 2  # a bucket would have refilled one by now
    now[0] += 2.0
    assert flood.acquire(1, True) == 0
    # At most 30 sends in any second for the whole bot, however they are spread.
    now[0] = 200.0
    for chat in range(29):
        assert flood.acquire(1000 + chat, True) == 0
        now[0] += 0.03
    assert flood.acquire(2000, True) == 0  # the 30th, 0.87 s after the first
    assert flood.acquire(2001, True) == 1  # the 31st within the same second
    now[0] = 201.0 + 0.001
    assert flood.acquire(2001, True) == 0  # the first one left the window
