"""The /stats chart: a PNG drawn headless with matplotlib, in a font that has Chinese glyphs.

The font is looked up among the installed ones (Debian's fonts-noto-cjk, or any font with CJK
glyphs); labels come in already translated, so the chart reads in the staff member's language.
matplotlib is imported on the first chart, not with the bot: it is about 50 MB of resident memory
that a bot nobody asks for a chart never needs.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.font_manager import FontProperties

log = logging.getLogger(__name__)

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Noto Serif CJK SC")
CJK_PROBE = "心愿志愿者报料统计"


def has_glyphs(font_path: str, text: str) -> bool:
    """Whether the font file has a glyph for every character of `text`."""
    from matplotlib.ft2font import FT2Font

    font = FT2Font(font_path)
    return all(font.get_char_index(ord(char)) != 0 for char in text if not char.isspace())


# Font files with Chinese glyphs where the usual packages put them (Debian/Ubuntu fonts-noto-cjk and
# fonts-wqy-zenhei, macOS, Windows): registered with matplotlib directly, whatever its font cache says.
CJK_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


def registered(font_file: str) -> FontProperties:
    """Tell matplotlib about a font file (its cache may predate the install) and use it by path."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(font_file)
    return font_manager.FontProperties(fname=font_file)


@cache
def cjk_font() -> FontProperties:
    """A font with Chinese glyphs: a known font file first (registered directly), then a known CJK family in
    matplotlib's cache, then any font file on the system that has the glyphs."""
    from matplotlib import font_manager

    for font_file in CJK_FILES:
        if Path(font_file).is_file() and has_glyphs(font_file, CJK_PROBE):
            return registered(font_file)
    for family in CJK_FAMILIES:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        if has_glyphs(path, CJK_PROBE):
            return font_manager.FontProperties(fname=path)
    for entry in font_manager.fontManager.ttflist:
        if "CJK" in entry.name and has_glyphs(entry.fname, CJK_PROBE):
            return font_manager.FontProperties(fname=entry.fname)
    # matplotlib's font cache may predate the font's install (it is written once and read ever after):
    # look at the font files on disk themselves before giving up.
    system_fonts = sorted(map(str, font_manager.findSystemFonts()), key=lambda f: ("Regular" not in f, f))
    for font_file in system_fonts:
        if any(hint in font_file for hint in ("CJK", "Han", "wqy")) and has_glyphs(font_file, CJK_PROBE):
            return registered(font_file)
    log.warning(
        "no font with Chinese glyphs found: none of the %d font files on this system (nor %s) has them, so chart "
        "labels will show boxes; install one, e.g. Debian's fonts-noto-cjk",
        len(system_fonts),
        ", ".join(CJK_FILES[:2]),
    )
    return font_manager.FontProperties()


@dataclass(frozen=True, slots=True)
class Panel:
    """One bar chart of the figure: a title and labelled counts."""

    title: str
    labels: Sequence[str]
    values: Sequence[float]


def render_chart(title: str, panels: Sequence[Panel]) -> bytes:
    """Horizontal bar charts side by side, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    font = cjk_font()
    figure = Figure(figsize=(4.2 * max(1, len(panels)), 4.2), dpi=100, layout="constrained")
    figure.suptitle(title, fontproperties=font, fontsize=14)
    axes = figure.subplots(1, max(1, len(panels)), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=False):
        labels = list(panel.labels) or ["—"]
        values = list(panel.values) or [0]
        positions = list(range(len(labels)))
        ax.barh(positions, values, color="#c0392b")
        ax.set_yticks(positions)
        ax.set_yticklabels(labels, fontproperties=font)
        ax.invert_yaxis()
        ax.set_title(panel.title, fontproperties=font)
        for position, value in zip(positions, values, strict=True):
            ax.text(value, position, f" {value:g}", va="center", fontproperties=font)
        ax.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
