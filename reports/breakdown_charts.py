"""SVG charts of who is reached and of money: shares, age pyramids, lines by group, budget bars.

Sized in points: an SVG `width="500pt"` with a 500-unit view box prints one unit as one point,
so its 9-unit text is 9 pt as printed when the image is shown at its own size (never below 8).
Titles wrap instead of being cut; every label is a word or a figure, never a code.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from html import escape

from reports.i18n import _, localised

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"  # the report's body font
CHAR = 0.6  # DejaVu Sans: average glyph width as a share of the font size
SIZE = 9.0  # label size in points
TITLE = 10.0
INK, MUTED, GRID = "#222", "#555", "#bbb"
# Okabe–Ito: told apart by colour-blind readers; the darker first colours stay apart in grey-scale print.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
WOMEN, MEN = "#7b3294", "#1b7f6b"
BUDGET, SPENT = "#c9d8cf", "#0b6e4f"


def whole(value: float) -> str:
    """A figure in whole units with the report language's separators: 12,345."""
    return localised(f"{value:,.0f}")


def text_width(text: str, size: float = SIZE) -> float:
    return len(text) * CHAR * size


def _open(width: float, height: float, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}pt" height="{height:g}pt" '
            f'viewBox="0 0 {width:g} {height:g}" role="img" aria-label="{escape(title)}" '
            f'font-family="{FONT}"><title>{escape(title)}</title>')


def _text(x: float, y: float, content: str, *, size: float = SIZE, anchor: str = "start", fill: str = INK,
          bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" fill="{fill}"{weight}>'
            f"{escape(content)}</text>")


def _title(title: str, width: float) -> tuple[list[str], float]:
    """The title wrapped onto as many lines as it needs; returns its parts and the height it takes."""
    lines = textwrap.wrap(title, max(10, int((width - 4) / (CHAR * TITLE)))) or [""]
    parts = [_text(2, 12 + n * 13, line, size=TITLE, bold=True) for n, line in enumerate(lines)]
    return parts, 4 + 13 * len(lines)


def _legend(entries: Sequence[tuple[str, str]], y: float, width: float) -> tuple[list[str], float]:
    """Swatches and names in rows under (or over) a chart; returns the parts and the height taken."""
    parts, x, row = [], 2.0, 0
    for name, colour in entries:
        needed = SIZE + 4 + text_width(name) + 12
        if x > 2 and x + needed > width:
            x, row = 2.0, row + 1
        top = y + row * 13
        parts.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{SIZE:g}" height="{SIZE:g}" fill="{colour}"/>')
        parts.append(_text(x + SIZE + 4, top + SIZE - 1, name))
        x += needed
    return parts, (row + 1) * 13 + 2


def _label_column(labels: Sequence[str], width: float, share: float = 0.4) -> tuple[list[list[str]], float]:
    """Row labels wrapped to at most two lines inside a column at most `share` of the width."""
    room = width * share
    chars = max(8, int(room / (CHAR * SIZE)))
    wrapped = [textwrap.wrap(label, chars)[:2] or [""] for label in labels]
    used = max((text_width(line) for lines in wrapped for line in lines), default=0)
    return wrapped, min(room, used) + 8


def split_bars(rows: Sequence[tuple[str, Sequence[tuple[str, float]]]], *, title: str, width: float = 500,
               colours: Sequence[str] = (WOMEN, MEN)) -> str:
    """One 100% bar per row (an indicator) split into its parts (women, men), each part's share written in it."""
    names = list(dict.fromkeys(name for _, parts in rows for name, _ in parts))
    colour = {name: colours[n % len(colours)] for n, name in enumerate(names)}
    head, top = _title(title, width)
    legend, legend_h = _legend([(n, colour[n]) for n in names], top, width)
    wrapped, label_w = _label_column([label for label, _ in rows], width)
    row_h = 26.0
    y0 = top + legend_h + 2
    height = y0 + row_h * max(1, len(rows)) + 4
    parts = [_open(width, height, title), *head, *legend]
    bar_x, bar_w = label_w, width - label_w - 4
    for i, (_row, split) in enumerate(rows):
        y = y0 + i * row_h
        lines = wrapped[i]
        for n, line in enumerate(lines):
            parts.append(_text(label_w - 6, y + row_h / 2 + 3 + (n - (len(lines) - 1) / 2) * 10, line, anchor="end"))
        total = sum(v for _, v in split if v and v > 0)
        x = bar_x
        for name, value in split:
            if not total or not value or value <= 0:
                continue
            w = value / total * bar_w
            parts.append(f'<rect x="{x:.2f}" y="{y + 4:.1f}" width="{w:.2f}" height="{row_h - 8:g}" '
                         f'fill="{colour[name]}" stroke="#fff" stroke-width="1"/>')
            text = localised(f"{value / total * 100:.1f}%")
            if text_width(text) + 6 <= w:
                parts.append(_text(x + w / 2, y + row_h / 2 + 3, text, anchor="middle", fill="#fff", bold=True))
            x += w
        if not total:
            parts.append(_text(bar_x + 2, y + row_h / 2 + 3, _("not broken down"), fill=MUTED))
    return "".join(parts) + "</svg>"


def pyramid(groups: Sequence[str], left: Sequence[float | None], right: Sequence[float | None], *, title: str,
            left_name: str | None = None, right_name: str | None = None, width: float = 500,
            fmt: Callable[[float], str] = whole) -> str:
    """An age pyramid: one row per group (youngest at the bottom), the left side's bars against the right's
    (women against men unless named otherwise)."""
    left_name = _("Women") if left_name is None else left_name
    right_name = _("Men") if right_name is None else right_name
    head, top = _title(title, width)
    values = [v for v in [*left, *right] if v is not None]
    scale = max(values, default=0) or 1.0
    label_w = max((text_width(g) for g in groups), default=0) + 12
    texts = [fmt(v) for v in values] or ["0"]
    value_w = max(text_width(t) for t in texts) + 6
    side = (width - label_w - 2 * value_w - 8) / 2
    if side < 30:
        raise ValueError(f"pyramid {title!r}: width {width} is too narrow for its labels")
    centre_left = 4 + value_w + side
    centre_right = centre_left + label_w
    row_h = 18.0
    y0 = top + 16
    height = y0 + row_h * len(groups) + 6
    parts = [_open(width, height, title), *head,
             _text(centre_left - 2, top + 10, left_name, anchor="end", fill=WOMEN, bold=True),
             _text(centre_right + 2, top + 10, right_name, fill=MEN, bold=True)]
    for i, group in enumerate(reversed(list(groups))):
        n = len(groups) - 1 - i
        y = y0 + i * row_h
        parts.append(_text((centre_left + centre_right) / 2, y + row_h / 2 + 3, group, anchor="middle"))
        for value, sign, colour, edge in ((left[n], -1, WOMEN, centre_left), (right[n], 1, MEN, centre_right)):
            if value is None:
                parts.append(_text(edge + sign * 2, y + row_h / 2 + 3, _("not reported"),
                                   anchor="end" if sign < 0 else "start", fill=MUTED))
                continue
            w = max(0.0, value) / scale * side
            x = edge - w if sign < 0 else edge
            parts.append(f'<rect x="{x:.2f}" y="{y + 3:.1f}" width="{w:.2f}" height="{row_h - 6:g}" fill="{colour}"/>')
            tip = edge + sign * (w + 3)
            parts.append(_text(tip, y + row_h / 2 + 3, fmt(value), anchor="end" if sign < 0 else "start"))
    return "".join(parts) + "</svg>"


def _ticks(high: float, count: int = 4) -> list[float]:
    """Round tick values from zero to at least `high` (at least three)."""
    if high <= 0:
        return [0.0, 1.0, 2.0]
    raw = high / (count - 1)
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 10 ** -len(f"{raw:.10f}".split(".")[1].rstrip("0"))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


def trend_lines(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, title: str,
                width: float = 500, height: float = 190, fmt: Callable[[float], str] = whole,
                axis: str = "") -> str:
    """A line per group over the periods, each named at its right end (labels nudged apart, never overlapping)."""
    head, top = _title(title, width)
    known = [v for _, values in series for v in values if v is not None]
    parts = [_open(width, height, title), *head]
    if not known:
        return "".join(parts) + _text(4, top + 20, _("No figures yet"), fill=MUTED) + "</svg>"
    ticks = _ticks(max(known))
    tick_w = max(text_width(fmt(t)) for t in ticks) + 6
    end_w = max(text_width(name) for name, _ in series) + 10
    left, right = tick_w + 4, width - end_w
    plot_top, plot_bottom = top + (14 if axis else 6), height - 18
    if axis:
        parts.append(_text(2, top + 8, axis, fill=MUTED))
    step = (right - left) / max(1, len(labels) - 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return plot_bottom - v / ticks[-1] * (plot_bottom - plot_top)

    for tick in ticks:
        parts.append(f'<line x1="{left:g}" y1="{y(tick):.1f}" x2="{right:g}" y2="{y(tick):.1f}" stroke="{GRID}" '
                     f'stroke-width="0.5"/>')
        parts.append(_text(left - 4, y(tick) + 3, fmt(tick), anchor="end", fill=MUTED))
    shown = {0, len(labels) - 1}
    every = max(1, int((text_width(max(labels, key=len)) + 8) // step) + 1)
    shown |= set(range(0, len(labels) - 1, every))
    if len(labels) > 1 and (len(labels) - 1 - max(i for i in shown if i < len(labels) - 1)) * step \
            < text_width(labels[-1]) + 8:
        shown.discard(max(i for i in shown if i < len(labels) - 1))
    for i in sorted(shown):
        anchor = "start" if i == 0 and len(labels) > 1 else "end" if i == len(labels) - 1 else "middle"
        parts.append(_text(x(i), height - 5, labels[i], anchor=anchor, fill=MUTED))
    ends: list[tuple[float, str, str]] = []
    for n, (name, values) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        dash = "" if n < 4 else ' stroke-dasharray="4 2"'
        if len(points) > 1:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.8"{dash} points="'
                         + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + '"/>')
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="1.8" fill="{colour}"/>')
        if points:
            ends.append((points[-1][1] + 3, name, colour))
    ends.sort()
    for label_y, (_y, name, colour) in zip(_spread([y for y, _name, _colour in ends], plot_top + SIZE, height - 20, SIZE + 2),
                                          ends, strict=True):
        parts.append(_text(right + 6, label_y, name, fill=colour, bold=True))
    return "".join(parts) + "</svg>"


def _spread(wanted: Sequence[float], low: float, high: float, gap: float) -> list[float]:
    """Baselines as near `wanted` (sorted, top to bottom) as they can be, `gap` apart, within [low, high]:
    pushed down past the one above, then up from the bottom edge only as far as needed, so a label of
    a line at the top stays at the top and the labels of lines near zero stay near zero."""
    placed = [min(max(y, low), high) for y in wanted]
    for n in range(1, len(placed)):
        placed[n] = max(placed[n], placed[n - 1] + gap)
    if placed and placed[-1] > high:
        placed[-1] = high
        for n in range(len(placed) - 2, -1, -1):
            placed[n] = min(placed[n], placed[n + 1] - gap)
    return placed


def budget_bars(rows: Sequence[tuple[str, float | None, float | None]], *, title: str, width: float = 500,
                money: Callable[[float], str], budget_name: str | None = None,
                spent_name: str | None = None) -> str:
    """Per row (a working group, a programme) the budget as a pale bar with the spend inside it, written
    out as "spent of budget · absorption" (legend: "Budget", "Spent to date" unless named otherwise)."""
    budget_name = _("Budget") if budget_name is None else budget_name
    spent_name = _("Spent to date") if spent_name is None else spent_name
    head, top = _title(title, width)
    legend, legend_h = _legend([(budget_name, BUDGET), (spent_name, SPENT)], top, width)
    wrapped, label_w = _label_column([label for label, _budget, _spent in rows], width, 0.3)
    notes = []
    for _name, budget, spent in rows:
        share = localised(f" · {spent / budget * 100:.1f}%") if budget and spent is not None else ""
        notes.append(_("%(spent)s of %(budget)s", spent=money(spent) if spent is not None else _("no spend reported"),
                       budget=money(budget) if budget else _("no budget")) + share)
    row_h = 32.0
    y0 = top + legend_h + 2
    height = y0 + row_h * max(1, len(rows)) + 4
    parts = [_open(width, height, title), *head, *legend]
    bar_x, bar_w = label_w, width - label_w - 6
    scale = max([b or 0 for _, b, _ in rows] + [s or 0 for _, _, s in rows]) or 1.0
    for i, (_name, budget, spent) in enumerate(rows):
        y = y0 + i * row_h
        lines = wrapped[i]
        for n, line in enumerate(lines):
            parts.append(_text(label_w - 6, y + 12 + n * 10, line, anchor="end"))
        if budget:
            parts.append(f'<rect x="{bar_x}" y="{y + 3:.1f}" width="{budget / scale * bar_w:.2f}" height="12" '
                         f'fill="{BUDGET}"/>')
        if spent:
            parts.append(f'<rect x="{bar_x}" y="{y + 5:.1f}" width="{max(0.0, spent) / scale * bar_w:.2f}" '
                         f'height="8" fill="{SPENT}"/>')
        parts.append(_text(bar_x, y + 26, notes[i]))
    return "".join(parts) + "</svg>"
