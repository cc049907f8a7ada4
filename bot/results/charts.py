"""Bar charts as shapes for inline SVG: pure functions, no drawing library, no JavaScript.

The caller gives labels and the percentages it already has (from `bot.report`); this module only
lays them out. Bars are horizontal, one line of label above each group, so long answer texts fit
a phone's width; every bar has its value written after it, so nothing is told by colour alone.
A chart's `summary` is its text alternative (the same words and numbers as the picture).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.language import listing

WIDTH = 360  # about a phone's width in CSS pixels, so the text stays readable there
FONT = 12  # user units; the SVG scales with the page
LABEL_HEIGHT = 18
BAR_HEIGHT = 14
BAR_STEP = 18
GROUP_GAP = 6
SERIES_GUTTER = 80  # room for "Before" / "After" left of paired bars
VALUE_ROOM = 90  # room for "100 (100 %)" right of the longest bar
MAX_LABEL = 52


@dataclass(frozen=True)
class Value:
    """One bar: `percent` (of 100) sets its length; `text` is written after it."""

    text: str
    percent: int | None
    series: str = ""  # "" in a one-series chart; e.g. "Before" / "After" for paired bars


@dataclass(frozen=True)
class Group:
    """The bars of one answer: one bar, or one per series (paired bars)."""

    label: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # 0 for the first series, 1 for the second, ...


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    kind: str  # "label", "series" or "value"


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    texts: tuple[Text, ...]
    summary: str  # the text alternative: every label with its values
    paired: bool


def shorten(text: str, limit: int = MAX_LABEL) -> str:
    """A label that fits one line of the picture; the full text is in the summary and table."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(groups: Sequence[Group]) -> BarChart:
    """Lay out horizontal bars, 100 % being the full width left for bars."""
    paired = any(value.series for group in groups for value in group.values)
    start = SERIES_GUTTER if paired else 0
    room = WIDTH - start - VALUE_ROOM
    bars: list[Bar] = []
    texts: list[Text] = []
    y = 4.0
    for group in groups:
        texts.append(Text(0, y + FONT, shorten(group.label), "label"))
        y += LABEL_HEIGHT
        for index, value in enumerate(group.values):
            share = min(max(value.percent or 0, 0), 100)
            length = round(room * share / 100, 1)
            bars.append(Bar(start, y, length, BAR_HEIGHT, index))
            baseline = y + BAR_HEIGHT - 3
            if value.series:
                texts.append(Text(0, baseline, value.series, "series"))
            texts.append(Text(start + length + 4, baseline, value.text, "value"))
            y += BAR_STEP
        y += GROUP_GAP
    return BarChart(
        width=WIDTH,
        height=int(y + 2),
        bars=tuple(bars),
        texts=tuple(texts),
        summary=summary(groups),
        paired=paired,
    )


def summary(groups: Sequence[Group]) -> str:
    """ "A new job: 14 (37 %); An internship: 4 (11 %)", or with series
    "High: Before 5 (42 %) and After 3 (25 %)", the values joined as the active language writes
    a list."""
    parts = []
    for group in groups:
        values = listing(
            f"{value.series} {value.text}" if value.series else value.text for value in group.values
        )
        parts.append(f"{group.label}: {values}")
    return "; ".join(parts)
