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
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

log = logging.getLogger(__name__)

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Noto Serif CJK SC")
CJK_PROBE = "心愿志愿者报料统计"
BAR = 0.8  # a bar's thickness, in rows: the same in every panel


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
    """One bar chart of the figure: a title and labelled values. A value of None is no data (drawn as no bar, with
    `no_data` beside it), never as 0; `limit` fixes the axis' upper end (100 for percentages); `unit` follows each
    value's label."""

    title: str
    labels: Sequence[str]
    values: Sequence[float | None]
    no_data: str = "—"
    limit: float | None = None
    unit: str = ""


def percent_panel(title: str, labels: Sequence[str], shares: Sequence[float | None], no_data: str) -> Panel:
    """Shares (0–1, None: nothing to measure) as a panel of percentages on a 0–100 axis."""
    values = [None if share is None else round(share * 100, 1) for share in shares]
    return Panel(title, labels, values, no_data=no_data, limit=100, unit="%")


def draw_panel(ax: Axes, panel: Panel, font: FontProperties) -> None:
    """One panel on its axes: bars for the values, `no_data` where there is none; a panel without any value shows
    only its title and `no_data` (no axis to read a 0 from)."""
    ax.set_title(panel.title, fontproperties=font)
    known = [value for value in panel.values if value is not None]
    if not known:
        ax.set_axis_off()
        ax.text(0.5, 0.5, panel.no_data, ha="center", va="center", transform=ax.transAxes, fontproperties=font)
        return
    positions = list(range(len(panel.labels)))
    measured = [(position, value) for position, value in zip(positions, panel.values, strict=True) if value is not None]
    ax.barh([position for position, _ in measured], [value for _, value in measured], height=BAR, color="#c0392b")
    ax.set_yticks(positions)
    ax.set_yticklabels(list(panel.labels), fontproperties=font)
    # The rows span every label, not only the measured bars (matplotlib's autoscale would stretch the bars of a
    # panel with missing values and push the last label onto the x-axis); first label on top.
    ax.set_ylim(len(positions) - 0.5, -0.5)
    ax.set_xlim(0, panel.limit if panel.limit is not None else max(max(known), 1) * 1.15)
    for position, value in zip(positions, panel.values, strict=True):
        said = panel.no_data if value is None else f"{value:g}{panel.unit}"
        ax.text(
            value or 0, position, f" {said}", va="center", fontproperties=font, color="#888" if value is None else None
        )
    ax.spines[["top", "right"]].set_visible(False)


def draw_chart(title: str, panels: Sequence[Panel]) -> Figure:
    """Horizontal bar charts side by side, as a matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    font = cjk_font()
    figure = Figure(figsize=(4.2 * max(1, len(panels)), 4.2), dpi=100, layout="constrained")
    figure.suptitle(title, fontproperties=font, fontsize=14)
    axes = figure.subplots(1, max(1, len(panels)), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=False):
        draw_panel(ax, panel, font)
    return figure


def render_chart(title: str, panels: Sequence[Panel]) -> bytes:
    """Horizontal bar charts side by side, as PNG bytes."""
    buffer = io.BytesIO()
    draw_chart(title, panels).savefig(buffer, format="png")
    return buffer.getvalue()
