"""Long replies are shortened by whole lines, never inside one: a cut inside a line can split an HTML tag, and Telegram
refuses the whole message (/audit cut its text at 4096 characters, a photo card's caption at 1024)."""

from __future__ import annotations

from channels.telegram.render import whole_lines


def test_lines_that_fit_are_kept_whole() -> None:
    assert whole_lines(["<b>a</b>", "b"], 100) == "<b>a</b>\nb"


def test_a_long_text_keeps_whole_lines_and_says_how_many_were_left_out() -> None:
    lines = [f"<b>line {n}</b> {'x' * 30}" for n in range(10)]
    shown = whole_lines(lines, 200, lambda n: f"… {n} more")
    assert len(shown) <= 200
    kept = shown.split("\n")
    assert kept[:-1] == lines[: len(kept) - 1]  # every kept line is whole, tags closed
    assert kept[-1] == f"… {len(lines) - (len(kept) - 1)} more"


def test_without_a_more_line_the_text_just_ends_on_a_whole_line() -> None:
    lines = ["<i>" + "y" * 40 + "</i>"] * 5
    shown = whole_lines(lines, 100)
    assert shown == "\n".join(lines[:2])
