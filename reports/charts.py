"""Small hand-built SVG charts (no JavaScript, no plotting library): fast to render, crisp in PDF.

Every chart is drawn in points (one user unit = 1 pt, `width="…pt"`), so its text prints at the size
written here, never below 8 pt, in the body font of the reports. Titles wrap onto lines and are never
cut; axes carry round tick values and a caption naming the unit; the latest value is labelled on the
chart. Labels are placed in order of importance: one that would touch another gives way.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape

from indicators.compile import STATUS_LABELS, STATUS_ORDER
from indicators.periods import parse_period
from reports.chart_text import (
    FONT,
    MIN_SIZE,
    Box,
    Label,
    box,
    nice_ticks,
    place,
    text_boxes,
    text_width,
    wrap,
)
from reports.i18n import N_, _, localised, number, period_label
from reports.icons import ICONS, icon

__all__ = ["ICONS", "STATUS_COLOURS", "STATUS_LABELS", "STATUS_ORDER", "bar_chart", "data_uri", "hbar_chart", "icon",
           "line_chart", "period_axis", "point_chart", "snapshot_period", "status_strip", "text_boxes"]

# The status words as indicators/compile.py spells them (STATUS_LABELS), marked here for the catalogue:
# every chart prints `_(STATUS_LABELS[status])`, in the report's language.
_STATUS_WORDS = (N_("On track"), N_("Needs attention"), N_("Off track"), N_("No target"), N_("Not added"),
                 N_("Not reported"))
NO_FIGURES = N_("No figures yet")

STATUS_COLOURS: dict[str, str] = {"on_track": "#1b7f3b", "needs_attention": "#b36b00",
                                  "off_track": "#b3261e", "not_reported": "#6b6b6b",
                                  "no_target": "#4a5a8a", "not_added": "#8a8a8a"}
SERIES = "#0b6e4f"
SERIES_DARK = "#064d37"  # SERIES darkened: the latest point of a line
SERIES_MUTED = "#79af9e"  # SERIES at 55% on white: earlier periods recede, the latest stands out
TARGET = "#8a5a00"
PAPER = "#fffffe"  # a chart's background: white to the eye, and how a test finds the chart on a PDF page
GRID = "#e2e6e4"
TITLE_SIZE, TEXT_SIZE = 9.0, MIN_SIZE
TITLE_LEAD, TEXT_LEAD = 11.0, 9.8  # baseline to baseline


def _fmt(value: float) -> str:
    """A chart's short number: 812k, 1.4M, 50bn, 96.5 (in the report's language's words and symbols)."""
    for size, suffix in ((1e9, N_("%(value)sbn")), (1e6, N_("%(value)sM"))):
        if abs(value) >= size:
            return _(suffix, value=localised(f"{value / size:.2f}".rstrip("0").removesuffix(".")))
    if abs(value) >= 1e4:
        return _("%(value)sk", value=localised(f"{value / 1e3:.0f}"))
    return localised(f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.1f}")


def period_axis(periods: Sequence[str], labels: Sequence[str]) -> list[str]:
    """The short labels of `periods` (ids: 2025Q1) on an axis, in the report's language; the `labels`
    given (the snapshot's) when the periods do not match them one for one."""
    if len(periods) != len(labels):
        return list(labels)
    return [period_label(parse_period(p), short=True) for p in periods]


def snapshot_period(snapshot: Mapping, key: str = "period", label: str = "period_label", short: bool = False) -> str:
    """A period of the snapshot (its id under `key`) as words in the report's language; the snapshot's
    own label (under `label`) when it has no id."""
    if snapshot.get(key):
        return period_label(parse_period(snapshot[key]), short=short)
    return snapshot.get(label) or ""


def _open(width: float, height: float, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}pt" height="{height:g}pt" '
            f'viewBox="0 0 {width:g} {height:g}" role="img" aria-label="{escape(title)}" '
            f'font-family="{FONT}"><title>{escape(title)}</title>'
            f'<rect class="paper" width="{width:g}" height="{height:g}" fill="{PAPER}"/>')


def _text(x: float, y: float, content: str, *, size: float = TEXT_SIZE, anchor: str = "start",
          fill: str = "#444", bold: bool = False, italic: bool = False) -> str:
    extra = (' font-weight="bold"' if bold else "") + (' font-style="italic"' if italic else "")
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" '
            f'fill="{fill}"{extra}>{escape(content)}</text>')


def _draw(placed: list[tuple[Label, tuple[float, float]]]) -> list[str]:
    parts = []
    for label, (x, y) in placed:
        if label.halo:
            b = label.box_at((x, y))
            parts.append(f'<rect class="halo" x="{b.left - 1:.1f}" y="{b.top:.1f}" width="{b.right - b.left + 2:.1f}" '
                         f'height="{b.bottom - b.top:.1f}" fill="#fff"/>')
        parts.append(_text(x, y, label.text, size=label.size, anchor=label.anchor, fill=label.fill,
                           bold=label.bold, italic=label.italic))
    return parts


def _title(title: str, width: float) -> tuple[list[str], list[Box], float]:
    """The full title, wrapped: its texts, their boxes and the y where the chart below it may start."""
    parts, boxes = [], []
    y = 2.0
    for line in wrap(title, TITLE_SIZE, width - 6, bold=True):
        y += TITLE_LEAD
        parts.append(_text(3, y, line, size=TITLE_SIZE, fill="#222", bold=True))
        boxes.append(box(3, y, line, TITLE_SIZE, bold=True))
    return parts, boxes, y + 4


def _no_figures(title: str, width: float, height: float) -> str:
    parts, _boxes, top = _title(title, width)
    height = max(height, top + 2 * TEXT_LEAD)
    return (_open(width, height, title) + "".join(parts)
            + _text(3, top + TEXT_LEAD, _(NO_FIGURES), size=9, fill="#666") + "</svg>")


UNIT_CAPTIONS = {"%": N_("Per cent"), "": N_("Number")}


def _unit_caption(unit: str, y_label: str) -> str:
    return y_label or (_(UNIT_CAPTIONS[unit]) if unit in UNIT_CAPTIONS else unit)


def _x_layout(centres: Sequence[float], texts: Sequence[str], width: float, pitch: float,
              max_lines: int = 2) -> list[tuple[int, float, list[str]]]:
    """Which x labels to print (every n-th, always the last) and their lines, so none meets another.

    Returns (index, centre, lines); a label wider than its room wraps onto up to `max_lines` lines,
    more only when it is the one label left.
    """
    count = len(centres)
    chosen: list[tuple[int, float, list[str]]] = []
    for step in range(1, count + 1):
        indices = sorted(range(count - 1, -1, -step))
        room = min(step * pitch - 6, width - 4) if count > 1 else width - 4
        chosen = []
        for i in indices:
            lines = wrap(texts[i], TEXT_SIZE, max(room, TEXT_SIZE))
            half = max(text_width(line, TEXT_SIZE) for line in lines) / 2
            chosen.append((i, min(max(centres[i], 2 + half), width - 2 - half), lines))
        too_deep = any(len(lines) > max_lines for _, _, lines in chosen)
        apart = all(a[1] + max(text_width(t, TEXT_SIZE) for t in a[2]) / 2 + 6
                    <= b[1] - max(text_width(t, TEXT_SIZE) for t in b[2]) / 2
                    for a, b in zip(chosen, chosen[1:], strict=False))
        if apart and (not too_deep or len(indices) == 1):
            break
    return chosen


class _Axes:
    """The frame shared by the line, point and bar charts: title, value axis with round ticks, x labels."""

    def __init__(self, *, title: str, width: float, height: float, scale: Sequence[float], unit: str,
                 y_label: str, x_label: str, x_texts: Sequence[str], slots: bool) -> None:
        self.width, self.unit = width, unit
        self.parts, self.taken, top = _title(title, width)
        self.caption = _unit_caption(unit, y_label)
        caption_lines = wrap(self.caption, TEXT_SIZE, width - 6)
        self.caption_y = [top + TEXT_LEAD * (n + 0.8) for n in range(len(caption_lines))]
        for y, line in zip(self.caption_y, caption_lines, strict=True):
            self.parts.append(_text(3, y, line, fill="#555"))
            self.taken.append(box(3, y, line, TEXT_SIZE))
        self.top = self.caption_y[-1] + 8
        low, high = min(0.0, *scale), max(0.0, *scale)
        tick_texts = [self.tick_text(t) for most in range(3, 7) for t in nice_ticks(low, high, most)]
        self.left = max(text_width(t, TEXT_SIZE) for t in tick_texts) + 9
        self.right = width - 8
        count = max(1, len(x_texts))
        plot_w = max(1.0, self.right - self.left)
        self.pitch = plot_w / count if slots else plot_w / max(1, count - 1)
        self.centres = ([self.left + self.pitch * (i + 0.5) for i in range(count)] if slots
                        else [self.left + i * self.pitch for i in range(count)])
        self.x_labels = _x_layout(self.centres, x_texts, width, self.pitch) if x_texts else []
        depth = max((len(lines) for _, _, lines in self.x_labels), default=0)
        self.x_caption = x_label
        bottom_room = 8 + depth * TEXT_LEAD + (TEXT_LEAD + 2 if x_label else 0)
        self.height = max(float(height) + self.top - 36, self.top + 3 * 14 + bottom_room)
        self.bottom = self.height - bottom_room
        plot_h = self.bottom - self.top
        self.ticks = nice_ticks(low, high, min(6, max(3, int(plot_h // 14) + 1)))
        self.marks: list[Box] = []  # points that labels must not cover
        self.low, self.high = self.ticks[0], self.ticks[-1]

    def tick_text(self, value: float) -> str:
        return f"{_fmt(value)}{self.unit}" if self.unit == "%" else _fmt(value)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)

    def frame(self) -> list[Label]:
        """Grid lines, the zero line and the tick and x labels (drawn; returned as placed labels)."""
        for tick in self.ticks:
            colour, stroke = ("#888", 0.7) if tick == 0 else (GRID, 0.5)
            self.parts.append(f'<line x1="{self.left:.1f}" y1="{self.y(tick):.1f}" x2="{self.right:.1f}" '
                              f'y2="{self.y(tick):.1f}" stroke="{colour}" stroke-width="{stroke}"/>')
        labels = [Label([(self.left - 6, self.y(t) + 2.8)], self.tick_text(t), anchor="end", fill="#555")
                  for t in self.ticks]
        base = self.bottom + 6 + TEXT_LEAD * 0.8
        for _index, x, lines in self.x_labels:
            labels += [Label([(x, base + n * TEXT_LEAD)], line, anchor="middle", fill="#444")
                       for n, line in enumerate(lines)]
        if self.x_caption:
            labels.append(Label([(self.left + (self.right - self.left) / 2, self.height - 3)], self.x_caption,
                                anchor="middle", fill="#555"))
        return labels

    def finish(self, title: str, labels: list[Label]) -> str:
        placed = place(labels, self.width, self.height, self.taken + self.marks)
        return _open(self.width, self.height, title) + "".join(self.parts) + "".join(_draw(placed)) + "</svg>"

    def point(self, x: float, y: float, radius: float, fill: str, ring: bool = False) -> None:
        """A dot, which no label may cover."""
        edge = ' stroke="#fff" stroke-width="1"' if ring else ""
        self.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:g}" fill="{fill}"{edge}/>')
        self.marks.append(Box(x - radius, y - radius, x + radius, y + radius, ""))


def _target_label(axes: _Axes, target: float, unit: str) -> Label:
    value = _fmt(target) + unit
    y, text = axes.y(target), _("target %(value)s", value=value)
    return Label([(axes.right, y - 3), (axes.right, y + 9), (axes.left + 2 + text_width(text, TEXT_SIZE), y - 3),
                  (axes.left + 2 + text_width(text, TEXT_SIZE), y + 9)], text, anchor="end", fill=TARGET, halo=True)


def _point_label(x: float, y: float, text: str, *, bold: bool, width: float) -> Label:
    """A value beside its point: above, below, then further out; kept inside the chart."""
    half = text_width(text, TEXT_SIZE, bold) / 2
    spots = [(x, y - 7), (x, y + 14), (x - half - 6, y + 3), (x + half + 6, y + 3), (x, y - 17), (x, y + 24),
             (x - half - 6, y - 9), (x - half - 6, y + 15), (x, y - 27), (x, y + 34)]
    return Label([(min(max(sx, half + 1), width - half - 1), sy) for sx, sy in spots], text, anchor="middle",
                 fill="#222", bold=bold, halo=True)


def _target_line(axes: _Axes, target: float) -> None:
    axes.parts.append(f'<line x1="{axes.left:.1f}" y1="{axes.y(target):.1f}" x2="{axes.right:.1f}" '
                      f'y2="{axes.y(target):.1f}" stroke="{TARGET}" stroke-dasharray="4 3" stroke-width="1"/>')


def _check_lengths(kind: str, title: str, labels: Sequence[str], values: Sequence[float | None]) -> None:
    if len(labels) != len(values):
        raise ValueError(f"{kind} {title!r}: {len(labels)} labels but {len(values)} values")


def line_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str, width: float = 250,
               height: float = 150, target: float | None = None, highlight_last: bool = True, unit: str = "",
               y_label: str = "", x_label: str | None = None) -> str:
    """A line of values over periods (gaps for missing ones), its latest value labelled, with an optional target.

    `unit` "%" is written after every value; any other unit is named once, in the value axis' caption
    (`y_label` when given). The x axis' caption is "Quarter" unless `x_label` says otherwise.
    """
    _check_lengths("line_chart", title, labels, values)
    x_label = _("Quarter") if x_label is None else x_label
    known = [v for v in values if v is not None]
    if not known:
        return _no_figures(title, width, height)
    axes = _Axes(title=title, width=width, height=height, scale=known + ([target] if target is not None else []),
                 unit=unit, y_label=y_label, x_label=x_label, x_texts=labels, slots=False)
    labels_out = axes.frame()
    if target is not None:
        _target_line(axes, target)
    segment: list[str] = []
    for i, value in enumerate([*values, None]):
        if value is not None:
            segment.append(f"{axes.centres[i]:.1f},{axes.y(value):.1f}")
            continue
        if len(segment) > 1:
            axes.parts.append(f'<polyline fill="none" stroke="{SERIES}" stroke-width="1.8" '
                              f'points="{" ".join(segment)}"/>')
        segment = []
    latest = max(i for i, v in enumerate(values) if v is not None)
    for i, value in enumerate(values):
        if value is None:
            continue
        x, y = axes.centres[i], axes.y(value)
        if highlight_last and i == latest:  # the latest figure: bigger, darker, ringed in white
            axes.point(x, y, 3.6, SERIES_DARK, ring=True)
        else:
            axes.point(x, y, 2, SERIES)
    value = values[latest]
    assert value is not None
    labels_out.append(_point_label(axes.centres[latest], axes.y(value), axes.tick_text(value), bold=True,
                                      width=axes.width))
    if target is not None:
        labels_out.append(_target_label(axes, target, "%" if unit == "%" else ""))
    return axes.finish(title, labels_out)


def point_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str, width: float = 250,
                height: float = 150, target: float | None = None, unit: str = "", y_label: str = "",
                x_label: str | None = None) -> str:
    """One labelled point per year, for indicators measured once a year: no line between quarters never measured."""
    _check_lengths("point_chart", title, labels, values)
    x_label = _("Financial year") if x_label is None else x_label
    known = [v for v in values if v is not None]
    if not known:
        return _no_figures(title, width, height)
    axes = _Axes(title=title, width=width, height=height, scale=known + ([target] if target is not None else []),
                 unit=unit, y_label=y_label, x_label=x_label, x_texts=labels, slots=True)
    labels_out = axes.frame()
    if target is not None:
        _target_line(axes, target)
    latest = max(i for i, v in enumerate(values) if v is not None)
    values_first, missing = [], []
    for i in sorted(range(len(values)), key=lambda n: (n != latest, -n)):  # the latest first, then back in time
        value = values[i]
        if value is None:
            missing.append(Label([(axes.centres[i], axes.y(0) - 4)], _("n/a"), anchor="middle", fill="#666"))
            continue
        x, y = axes.centres[i], axes.y(value)
        fill, radius = (SERIES_DARK, 4.2) if i == latest else (SERIES, 3.2)
        axes.point(x, y, radius, fill, ring=True)
        values_first.append(_point_label(x, y, axes.tick_text(value), bold=i == latest, width=axes.width))
    labels_out += values_first + missing
    if target is not None:
        labels_out.append(_target_label(axes, target, "%" if unit == "%" else ""))
    return axes.finish(title, labels_out)


def bar_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str, width: float = 320,
              height: float = 140, target: float | None = None, unit: str = "", highlight_last: bool = True,
              y_label: str = "", x_label: str = "") -> str:
    """Vertical bars from zero, one per label, each labelled with its value where there is room; gaps say n/a."""
    _check_lengths("bar_chart", title, labels, values)
    if height < 70:
        raise ValueError(f"bar_chart {title!r}: height {height} leaves no room for bars (70 at least)")
    known = [v for v in values if v is not None]
    if not known:
        return _no_figures(title, width, height)
    axes = _Axes(title=title, width=width, height=height, scale=known + ([target] if target is not None else []),
                 unit=unit, y_label=y_label, x_label=x_label, x_texts=labels, slots=True)
    labels_out = axes.frame()
    base = axes.y(0)
    bar_w = min(axes.pitch * 0.7, 48.0)
    last = len(values) - 1
    for i, value in enumerate(values):
        if value is None:
            continue
        fill = SERIES if not highlight_last or i == last else SERIES_MUTED
        top = axes.y(value)
        axes.parts.append(f'<rect class="bar" x="{axes.centres[i] - bar_w / 2:.2f}" y="{min(top, base):.2f}" '
                          f'width="{bar_w:.2f}" height="{abs(base - top):.2f}" fill="{fill}"/>')
    if target is not None:
        _target_line(axes, target)
    for i in sorted(range(len(values)), key=lambda n: -n):  # the latest first: it is never the one to give way
        value, x = values[i], axes.centres[i]
        if value is None:
            labels_out.append(Label([(x, base - 3), (x, base + 10)], _("n/a"), anchor="middle", fill="#666"))
            continue
        y = axes.y(value)
        spots = [(x, y - 3), (x, y - 12)] if value >= 0 else [(x, y + 9), (x, y + 18)]
        labels_out.append(Label(spots, axes.tick_text(value), anchor="middle", fill="#222",
                                bold=highlight_last and i == last, halo=True))
    if target is not None:
        labels_out.append(_target_label(axes, target, "%" if unit == "%" else ""))
    return axes.finish(title, labels_out)


def hbar_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str, width: float = 360,
               bar_height: float = 12, max_value: float | None = None, unit: str = "%",
               statuses: Sequence[str] | None = None, reference: float | None = None,
               reference_label: str | None = None, x_label: str = "") -> str:
    """One horizontal bar per row (say, timeliness per programme), named in words on the left.

    Long names wrap onto lines; the value axis below has round ticks and a caption naming the unit;
    a `reference` line is labelled "target" unless `reference_label` says otherwise.
    """
    if len(labels) != len(values) or (statuses is not None and len(statuses) != len(values)):
        raise ValueError(f"hbar_chart {title!r}: labels, values and statuses must be the same length")
    unknown = sorted(set(statuses or ()) - set(STATUS_LABELS))
    if unknown:
        raise ValueError(f"hbar_chart {title!r}: unknown status {unknown}; use one of {list(STATUS_LABELS)}")
    if not values:
        return _no_figures(title, width, 40)
    parts, taken, top = _title(title, width)
    grid: list[str] = []  # drawn under the bars
    known = [v for v in values if v is not None]
    scale = max_value or max([*known, reference or 0, 0]) or 1.0
    ticks = [t for t in nice_ticks(0, scale, 5) if t <= scale + 1e-9] if max_value else nice_ticks(0, scale, 5)
    scale = ticks[-1] if not max_value else scale

    def value_text(value: float) -> str:
        return f"{_fmt(value)}{unit}" if unit == "%" else _fmt(value)

    status_words = {s: _(STATUS_LABELS[s]) for s in statuses or ()}
    value_w = max((text_width(value_text(v), TEXT_SIZE) for v in known), default=0) + 8
    status_w = max(text_width(status_words[s], TEXT_SIZE) for s in statuses) + 6 if statuses else 0
    label_w = min(round(width * 0.38), width - value_w - status_w - 2 - 40)
    if label_w < 30:
        raise ValueError(f"hbar_chart {title!r}: width {width} is too narrow for its values and statuses")
    bar_x = label_w
    room = width - bar_x - value_w - status_w - 2
    if reference is not None:
        top += TEXT_LEAD + 2
    rows = [wrap(str(label), TEXT_SIZE, label_w - 8) for label in labels]
    heights = [max(bar_height + 6, len(lines) * TEXT_LEAD + 4) for lines in rows]
    caption = _unit_caption(unit, x_label)
    axis_y = top + sum(heights)
    height = axis_y + 4 + TEXT_LEAD + (TEXT_LEAD + 2) + 2

    def length(value: float) -> float:
        return max(0.0, min(value, scale)) / scale * room

    labels_out: list[Label] = []
    words: list[Label] = []
    y0 = top
    for i, (lines, value) in enumerate(zip(rows, values, strict=True)):
        row_h = heights[i]
        bar_y = y0 + (row_h - bar_height) / 2
        text_y = bar_y + bar_height / 2 + 2.8
        first = y0 + (row_h - len(lines) * TEXT_LEAD) / 2 + TEXT_LEAD * 0.8
        words += [Label([(label_w - 6, first + n * TEXT_LEAD)], line, anchor="end", fill="#222")
                  for n, line in enumerate(lines)]
        status = statuses[i] if statuses else None
        if value is None:
            words.append(Label([(bar_x + 2, text_y)], _("not reported"), fill="#6b6b6b", italic=True, halo=True))
        else:
            fill = STATUS_COLOURS[status] if status else SERIES
            parts.append(f'<rect class="bar" x="{bar_x}" y="{bar_y:.2f}" width="{length(value):.2f}" '
                         f'height="{bar_height}" fill="{fill}"/>')
            words.append(Label([(bar_x + length(value) + 4, text_y)], value_text(value), fill="#222", halo=True))
        if status:
            words.append(Label([(width - 2, text_y)], status_words[status], anchor="end",
                               fill=STATUS_COLOURS[status]))
        y0 += row_h
    for tick in ticks:
        x = bar_x + length(tick)
        grid.append(f'<line x1="{x:.1f}" y1="{top - 2:.1f}" x2="{x:.1f}" y2="{axis_y + 2:.1f}" '
                     f'stroke="{"#888" if tick == 0 else GRID}" stroke-width="0.5"/>')
        labels_out.append(Label([(x, axis_y + 4 + TEXT_LEAD * 0.8)], value_text(tick), anchor="middle", fill="#555"))
    parts.append(f'<line x1="{bar_x}" y1="{axis_y:.1f}" x2="{bar_x + room:.1f}" y2="{axis_y:.1f}" stroke="#888" '
                 f'stroke-width="0.7"/>')
    labels_out.append(Label([(bar_x + room / 2, height - 4), (bar_x, height - 4)], caption, anchor="middle",
                            fill="#555"))
    if reference is not None:
        ref_x = bar_x + length(reference)
        parts.append(f'<line x1="{ref_x:.1f}" y1="{top - 2:.1f}" x2="{ref_x:.1f}" y2="{axis_y:.1f}" '
                     f'stroke="{TARGET}" stroke-dasharray="3 2" stroke-width="1"/>')
        named = _("target") if reference_label is None else reference_label
        text = f"{named} {value_text(reference)}".strip()
        half = text_width(text, TEXT_SIZE) / 2
        labels_out.insert(0, Label([(min(max(ref_x, 2 + half), width - 2 - half), top - 4)], text,
                                   anchor="middle", fill=TARGET))
    # row names and values first: the tick labels and captions give way to them
    placed = place(words + labels_out, width, height, taken)
    title_parts = len(taken)
    return (_open(width, height, title) + "".join(parts[:title_parts]) + "".join(grid) + "".join(parts[title_parts:])
            + "".join(_draw(placed)) + "</svg>")


def _legend_lines(entries: Sequence[str], width: float) -> list[list[str]]:
    """The legend's entries in lines that fit the width (an entry too wide alone wraps within its line)."""
    room = width - 4
    lines: list[list[str]] = [[]]
    used = 0.0
    for entry in entries:
        needed = TEXT_SIZE + 3 + text_width(entry, TEXT_SIZE) + (10 if lines[-1] else 0)
        if lines[-1] and used + needed > room:
            lines.append([])
            used, needed = 0.0, TEXT_SIZE + 3 + text_width(entry, TEXT_SIZE)
        lines[-1].append(entry)
        used += needed
    return lines


def status_strip(counts: Mapping[str, int], *, width: float = 360, height: float = 34,
                 title: str | None = None) -> str:
    """One stacked bar of indicator statuses with a legend of counts underneath ("Indicator status" by default)."""
    title = _("Indicator status") if title is None else title
    unknown = sorted(set(counts) - set(STATUS_LABELS))
    if unknown:
        raise ValueError(f"status_strip: unknown status {unknown}; use one of {list(STATUS_LABELS)}")
    if any(count < 0 for count in counts.values()):
        raise ValueError(f"status_strip: counts must not be negative, got {dict(counts)}")
    items = [(key, counts[key]) for key in STATUS_ORDER if counts.get(key, 0) > 0]
    entries = [f"{_(STATUS_LABELS[key])} {number(count)}" for key, count in items]
    summary = " · ".join(entries) or _("No indicators")
    if not items:
        return _open(width, height, f"{title}: {summary}") + _text(2, height / 2 + 3, summary, size=9,
                                                                    fill="#666") + "</svg>"
    bar_y, bar_h, bar_w = 2.0, max(10.0, height - 22.0), width - 4.0
    rows: list[list[tuple[str, list[str]]]] = [
        [(entry, wrap(entry, TEXT_SIZE, width - 4 - TEXT_SIZE - 3)) for entry in line]
        for line in _legend_lines(entries, width)]
    depth = sum(max(len(lines) for _, lines in row) for row in rows)
    first_line = bar_y + bar_h + 11
    height = max(height, round(first_line + (depth - 1) * TEXT_LEAD + 4))
    parts = [_open(width, height, f"{title}: {summary}")]
    total = sum(count for _, count in items)
    x = 2.0
    for key, count in items:
        seg_w = count / total * bar_w
        parts.append(f'<rect class="segment" x="{x:.2f}" y="{bar_y}" width="{seg_w:.2f}" height="{bar_h}" '
                     f'fill="{STATUS_COLOURS[key]}"/>')
        if text_width(number(count), TEXT_SIZE, bold=True) <= seg_w - 4:
            parts.append(_text(x + seg_w / 2, bar_y + bar_h / 2 + 2.8, number(count), anchor="middle",
                               fill="#fff", bold=True))
        if x > 2:  # a white seam keeps segments apart in grey-scale print
            parts.append(f'<line x1="{x:.2f}" y1="{bar_y}" x2="{x:.2f}" y2="{bar_y + bar_h}" '
                         f'stroke="#fff" stroke-width="1"/>')
        x += seg_w
    colours = {entry: STATUS_COLOURS[key] for entry, (key, _) in zip(entries, items, strict=True)}
    y = first_line
    for row in rows:
        x = 2.0
        for entry, lines in row:
            parts.append(f'<rect class="swatch" x="{x:.1f}" y="{y - TEXT_SIZE * 0.8:.1f}" width="{TEXT_SIZE:g}" '
                         f'height="{TEXT_SIZE:g}" fill="{colours[entry]}"/>')
            for n, line in enumerate(lines):
                parts.append(_text(x + TEXT_SIZE + 3, y + n * TEXT_LEAD, line, fill="#222"))
            x += TEXT_SIZE + 3 + max(text_width(line, TEXT_SIZE) for line in lines) + 10
        y += max(len(lines) for _, lines in row) * TEXT_LEAD
    return "".join(parts) + "</svg>"


def data_uri(svg: str) -> str:
    """The SVG as a data: URI for <img src>, which WeasyPrint renders faster than inline SVG."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# Block letters on a 90 × 100 grid, drawn as strokes: a watermark of paths has no text to
# get mixed into the words of the page when a reader copies or extracts them.
_LETTERS = {"D": "M10 0 V100 H40 Q80 100 80 50 Q80 0 40 0 Z", "R": "M10 100 V0 H50 Q80 0 80 25 Q80 50 50 50 H10 M45 50 L80 100",
            "A": "M5 100 L40 0 L75 100 M20 60 H60", "F": "M75 0 H10 V100 M10 50 H60", "T": "M5 0 H75 M40 0 V100",
            # RASIMU, the Kiswahili mark
            "S": "M75 12 Q62 0 40 0 Q10 0 10 25 Q10 50 40 50 Q75 50 75 75 Q75 100 40 100 Q17 100 5 88",
            "I": "M40 0 V100 M20 0 H60 M20 100 H60", "M": "M10 100 V0 L40 60 L70 0 V100",
            "U": "M10 0 V65 Q10 100 40 100 Q70 100 70 65 V0"}


def watermark(word: str = "DRAFT", *, colour: str = "#b3261e", opacity: float = 0.11) -> str:
    """A large diagonal word in block letters, for a page background (the DRAFT mark)."""
    unknown = sorted(set(word) - set(_LETTERS))
    if unknown:
        raise ValueError(f"watermark: no letter shape for {unknown}; known: {''.join(sorted(_LETTERS))}")
    width = 90 * len(word)
    letters = "".join(f'<path transform="translate({90 * n} 0)" d="{_LETTERS[ch]}"/>' for n, ch in enumerate(word))
    size = width + 40
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
            f'role="img" aria-label="{escape(word)}"><title>{escape(word)}</title>'
            f'<g transform="rotate(-40 {size / 2} {size / 2}) translate(20 {size / 2 - 50})" fill="none" '
            f'stroke="{colour}" stroke-opacity="{opacity}" stroke-width="13" stroke-linejoin="round" '
            f'stroke-linecap="round">{letters}</g></svg>')
