"""Chart geometry for the report's inline SVG: share bars with interval whiskers and histograms.

Only numbers and label strings are computed here; the SVG itself is drawn by the jinja
templates (templates/_charts.html.j2) so every label, including post ids and handles taken
from the export, goes through the same autoescaping as the rest of the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.signals import epoch_seconds
from pipeline.values import parse_flags

WIDTH = 1000  # about the page's content width, so SVG text renders near its CSS size
COMPACT_WIDTH = 480
LABEL_W = 220
VALUE_W = 170
ROW_H = 22
LABEL_CHARS = 28


@dataclass(frozen=True)
class Bar:
    label: str  # shortened for the axis; `title` keeps the full text for the tooltip
    title: str
    y: float
    width: float  # 0 for groups without a share
    lo_x: float | None
    hi_x: float | None
    corrected_x: float | None
    value: float | None
    lo: float | None
    hi: float | None
    corrected: float | None
    note: str  # e.g. "not enough comments" instead of a number


@dataclass(frozen=True)
class Tick:
    x: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    x0: int
    plot_w: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    has_corrected: bool
    fake: bool = False  # the bars show the fake share (spam + coordinated generic)


@dataclass(frozen=True)
class Bin:
    x: float
    w: float
    h_all: float
    h_flagged: float
    n_all: int
    n_flagged: int
    title: str


@dataclass(frozen=True)
class Histogram:
    width: int
    height: int
    x0: int
    base_y: int
    bins: tuple[Bin, ...]
    x_ticks: tuple[Tick, ...]
    y_max: int
    marker_x: float | None  # the decision threshold on the p_spam histogram
    marker_text: str


def shorten(text: object, limit: int = LABEL_CHARS) -> str:
    text = "" if text is None or text is pd.NA else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


SPAM_KEYS = ("flagged_share", "wilson_lo", "wilson_hi", "corrected_share")
FAKE_KEYS = ("fake_share", "fake_lo", "fake_hi", "fake_corrected")


def share_bars(rows: Sequence[Mapping], label_key: str) -> BarChart:
    """One bar per group row, in order: the fake share, its interval and estimate where the
    rows have verdicts (the tables sort by it), else the flagged and corrected shares."""
    fake = any(r.get("fake_share") is not None for r in rows)
    keys = FAKE_KEYS if fake else SPAM_KEYS
    # The corrected share counts p_spam >= its rates' threshold (0.5), not the flag, so it can
    # lie beyond the flagged interval: the scale must hold its marker too.
    ends = [_num(r.get(k)) or 0.0 for r in rows for k in (keys[2], keys[3])]
    top = max([*ends, 0.05])
    scale_max, step = _nice_scale(min(1.0, top * 1.05))
    plot_w = WIDTH - LABEL_W - VALUE_W
    bars = tuple(_bar(r, label_key, i, plot_w / scale_max, keys) for i, r in enumerate(rows))
    n_ticks = round(scale_max / step)
    ticks = tuple(
        Tick(LABEL_W + plot_w * k / n_ticks, f"{k * step:.0%}") for k in range(n_ticks + 1)
    )
    has_corrected = any(b.corrected is not None for b in bars)
    height = 28 + ROW_H * max(1, len(bars))
    return BarChart(WIDTH, height, LABEL_W, plot_w, bars, ticks, has_corrected, fake)


def _bar(row: Mapping, label_key: str, index: int, px: float, keys=SPAM_KEYS) -> Bar:
    value, lo, hi, corrected = (_num(row.get(k)) for k in keys)
    note = "" if value is not None else str(row.get("status") or "no share")
    return Bar(
        label=shorten(row.get(label_key)),
        title=str(row.get(label_key)),
        y=8 + ROW_H * index,
        width=(value or 0.0) * px,
        lo_x=None if lo is None else LABEL_W + lo * px,
        hi_x=None if hi is None else LABEL_W + hi * px,
        corrected_x=None if corrected is None or value is None else LABEL_W + corrected * px,
        value=value,
        lo=lo,
        hi=hi,
        corrected=corrected if value is not None else None,
        note=note,
    )


def p_spam_histogram(p: pd.Series, flagged: pd.Series, threshold: float | None) -> Histogram:
    """20 bins over [0, 1]; the flagged part of each bin is drawn on top of the total."""
    values = pd.to_numeric(p, errors="coerce").to_numpy(dtype=float)
    edges = np.linspace(0.0, 1.0, 21)
    labels = [f"p_spam {a:.2f}\u2013{b:.2f}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    ticks = [(k / 5, f"{k / 5:.1f}") for k in range(6)]
    marker = None if threshold is None else float(threshold)
    text = "" if marker is None else f"threshold {marker:.2f}"
    return _histogram(values, flagged, edges, labels, ticks, marker, text)


def time_histogram(
    created_at: pd.Series, flagged: pd.Series, max_bins: int = 48, width: int = WIDTH
) -> Histogram | None:
    """Comments over time (UTC) in evenly sized bins; None when no timestamp parses."""
    seconds = epoch_seconds(created_at)
    finite = seconds[np.isfinite(seconds)]
    if finite.size == 0:
        return None
    start, step = _time_bins(float(finite.min()), float(finite.max()), max_bins)
    n_bins = _n_bins(start, float(finite.max()), step)
    edges = start + step * np.arange(n_bins + 1)
    labels = [f"{_stamp(a, step)} \u2013 {_stamp(a + step, step)} UTC" for a in edges[:-1]]
    # Date labels are ~80 px wide: five fit a full-width chart, three a compact one.
    picks = np.linspace(0, n_bins, min(5 if width >= 800 else 3, n_bins + 1)).round().astype(int)
    ticks = [(float(p) / n_bins, _stamp(edges[p], step)) for p in picks]
    return _histogram(seconds, flagged, edges, labels, ticks, None, "", width)


def _histogram(
    values, flagged, edges, labels, ticks, marker, marker_text, width=WIDTH
) -> Histogram:
    height, x0, base_y = 190, 44, 160
    flags = _flag_array(flagged, len(values))
    ok = np.isfinite(values)
    n_all = np.histogram(values[ok], edges)[0]
    n_flag = np.histogram(values[ok & flags], edges)[0]
    y_max = max(1, int(n_all.max(initial=0)))
    plot_w, plot_h, lo, span = width - x0 - 16, base_y - 14, edges[0], edges[-1] - edges[0]
    bins = tuple(
        _bin(x0 + plot_w * (a - lo) / span, plot_w * (b - a) / span, c, f, plot_h / y_max, t)
        for a, b, c, f, t in zip(edges[:-1], edges[1:], n_all, n_flag, labels, strict=True)
    )
    x_ticks = tuple(Tick(x0 + plot_w * f, t, _anchor(f)) for f, t in ticks)
    mx = None if marker is None else x0 + plot_w * (marker - lo) / span
    return Histogram(width, height, x0, base_y, bins, x_ticks, y_max, mx, marker_text)


def _anchor(fraction: float) -> str:
    """Edge labels hang inwards so the first and last tick text stays inside the chart."""
    return "start" if fraction <= 0.0 else "end" if fraction >= 1.0 else "middle"


def _bin(x: float, w: float, n: int, k: int, px: float, label: str) -> Bin:
    title = f"{label}: {n:,} comments, {k:,} flagged"
    return Bin(x, max(w - 1.0, 0.5), n * px, k * px, int(n), int(k), title)


def _flag_array(flagged: pd.Series, n: int) -> np.ndarray:
    if flagged is None or len(flagged) != n:
        return np.zeros(n, dtype=bool)
    return parse_flags(pd.Series(flagged)).fillna(False).to_numpy(dtype=bool)


_STEPS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400, 30 * 86400)


def _time_bins(lo: float, hi: float, max_bins: int) -> tuple[float, float]:
    """(aligned start, bin width in seconds): the smallest readable width giving <= max_bins."""
    # Bins start on a whole step at or before lo, so the span to cover includes that offset.
    fits = (s for s in _STEPS if _n_bins(math.floor(lo / s) * s, hi, s) <= max_bins)
    width = next(fits, None)
    if width is None:  # longer than 48 months: whole days, starting on lo's day
        start = math.floor(lo / 86400) * 86400
        width = max(1, math.ceil((hi - start) / max_bins / 86400)) * 86400
        return start, float(width)
    return math.floor(lo / width) * width, float(width)


def _n_bins(start: float, hi: float, step: float) -> int:
    """Bins of `step` from `start` that hold `hi` (a value on an edge opens the next bin)."""
    return max(1, math.ceil((hi - start) / step + 1e-9))


def _stamp(seconds: float, width: float) -> str:
    m = pd.Timestamp(seconds, unit="s", tz="UTC")
    # From components, not strftime: a bin edge may lie past the year 9999 that strftime ends at.
    if width >= 86400:
        return f"{m.year:04d}-{m.month:02d}-{m.day:02d}"
    return f"{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d}"


# (axis maximum, tick step): round percentages on every axis, 4 to 6 intervals.
_SCALES = ((0.05, 0.01), (0.1, 0.02), (0.2, 0.05), (0.25, 0.05), (0.4, 0.1), (0.5, 0.1),
           (0.6, 0.1), (0.8, 0.2), (1.0, 0.2))  # fmt: skip


def _nice_scale(x: float) -> tuple[float, float]:
    """The smallest axis maximum from _SCALES that is >= x, with its tick step."""
    return next(scale for scale in _SCALES if scale[0] >= x - 1e-12)


def _num(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


# --- Stacked verdict bars ------------------------------------------------------------------

STACK = (("spam", "spam"), ("coordinated", "coordinated generic"),
         ("generic", "generic, no coordination signal"), ("genuine", "genuine"))  # fmt: skip


@dataclass(frozen=True)
class Segment:
    css: str  # class name: seg-spam, seg-coordinated, ...
    x: float
    width: float
    share: float
    text: str


@dataclass(frozen=True)
class Stack:
    label: str
    title: str
    y: float
    segments: tuple[Segment, ...]
    fake: float | None  # spam + coordinated generic, printed beside the bar
    note: str


@dataclass(frozen=True)
class StackChart:
    width: int
    height: int
    x0: int
    plot_w: int
    stacks: tuple[Stack, ...]


def verdict_stacks(rows: Sequence[Mapping], label_key: str) -> StackChart:
    """One 100% bar per group row: spam | coordinated generic | generic | genuine shares."""
    plot_w = WIDTH - LABEL_W - VALUE_W
    stacks = tuple(_stack(r, label_key, i, plot_w) for i, r in enumerate(rows))
    return StackChart(WIDTH, 12 + ROW_H * max(1, len(stacks)), LABEL_W, plot_w, stacks)


def _stack(row: Mapping, label_key: str, index: int, plot_w: float) -> Stack:
    shares = [_num(row.get(f"{name}_share")) for name, _ in STACK]
    label = row.get(label_key)
    if any(s is None for s in shares):
        note = str(row.get("status") or "no verdicts")
        return Stack(shorten(label), str(label), 8 + ROW_H * index, (), None, note)
    x, segments = float(LABEL_W), []
    for (name, text), share in zip(STACK, shares, strict=True):
        segments.append(Segment(f"seg-{name}", x, share * plot_w, share, text))
        x += share * plot_w
    fake = shares[0] + shares[1]
    return Stack(shorten(label), str(label), 8 + ROW_H * index, tuple(segments), fake, "")
