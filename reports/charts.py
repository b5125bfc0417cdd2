"""Small hand-built SVG charts (no JavaScript, no plotting library): fast to render, crisp in PDF."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape

from indicators.compile import STATUS_LABELS, STATUS_ORDER
from reports.icons import ICONS, icon

__all__ = ["ICONS", "STATUS_COLOURS", "STATUS_LABELS", "STATUS_ORDER", "bar_chart", "data_uri", "hbar_chart", "icon",
           "line_chart", "status_strip"]


def _fmt(value: float) -> str:
    if abs(value) >= 1e9:
        return f"{value / 1e9:.1f}bn"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.1f}"


STATUS_COLOURS: dict[str, str] = {"on_track": "#1b7f3b", "needs_attention": "#b36b00",
                                  "off_track": "#b3261e", "not_reported": "#6b6b6b",
                                  "no_target": "#4a5a8a", "not_added": "#8a8a8a"}
SERIES = "#0b6e4f"
SERIES_DARK = "#064d37"  # SERIES darkened: the latest point of a line
SERIES_MUTED = "#79af9e"  # SERIES at 55% on white: earlier periods recede, the latest stands out
TARGET = "#8a5a00"
CHAR_WIDTH = 0.55  # average glyph width as a share of font size (Liberation Sans / Arial)
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"


def _text_width(text: str, size: float) -> float:
    return len(text) * CHAR_WIDTH * size


def _max_chars(room: float, size: float) -> int:
    return max(1, int(room / (CHAR_WIDTH * size)))


def _truncate(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[:max(0, max_chars - 1)].rstrip() + "…"


def _open(width: float, height: float, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
            f'viewBox="0 0 {width:g} {height:g}" role="img" aria-label="{escape(title)}" '
            f'font-family="{FONT}"><title>{escape(title)}</title>')


def _text(x: float, y: float, content: str, *, size: float = 9, anchor: str = "start",
          fill: str = "#555", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" '
            f'fill="{fill}"{extra}>{escape(content)}</text>')


def _halo(x: float, y: float, content: str, size: float, anchor: str = "start") -> str:
    """A white patch behind a label, so a target line running through it does not strike it out."""
    w = _text_width(content, size)
    left = x - w / 2 if anchor == "middle" else x - w if anchor == "end" else x
    return (f'<rect class="halo" x="{left - 1:.1f}" y="{y - size * 0.8:.1f}" width="{w + 2:.1f}" '
            f'height="{size + 1:g}" fill="#fff"/>')


def _header(title: str, width: float, target_text: str = "") -> list[str]:
    """The title on the left and, when there is a target, a dashed-line key on the right."""
    parts = []
    room = width - 8
    if target_text:
        key_w = _text_width(target_text, 9)
        parts.append(f'<line x1="{width - 4 - key_w - 18:.1f}" y1="8.5" x2="{width - 4 - key_w - 4:.1f}" '
                     f'y2="8.5" stroke="{TARGET}" stroke-dasharray="4 3" stroke-width="1"/>')
        parts.append(_text(width - 4, 12, target_text, anchor="end", fill=TARGET))
        room -= key_w + 28
    parts.append(_text(4, 12, _truncate(title, _max_chars(room, 10)), size=10, fill="#333"))
    return parts


def _place(centres: Sequence[float], texts: Sequence[str], size: float, lo: float, hi: float,
           *, min_chars: int | None = None, gap: float = 4) -> list[tuple[int, float, str]]:
    """Pick every n-th label, always the last, so that none overlaps another or leaves [lo, hi].

    Labels shorter than `min_chars` are never truncated; without `min_chars` none is (numbers).
    Returns (index, centre x, text) for each label to draw, centred on x.
    """
    count = len(centres)
    pitch = centres[1] - centres[0] if count > 1 else hi - lo
    placed: list[tuple[int, float, str, float]] = []
    for step in range(1, count + 1):
        chosen = sorted(range(count - 1, -1, -step))
        chars = _max_chars(min(step * pitch - gap, hi - lo), size)
        needed = max(len(texts[i]) if min_chars is None else min(len(texts[i]), min_chars)
                     for i in chosen)
        if needed > chars and step < count:
            continue
        placed = []
        for i in chosen:
            text = _truncate(texts[i], chars)
            half = _text_width(text, size) / 2
            placed.append((i, min(max(centres[i], lo + half), hi - half), text, half))
        if all(a[1] + a[3] + gap <= b[1] - b[3] for a, b in zip(placed, placed[1:], strict=False)):
            break
    return [(i, x, text) for i, x, text, _ in placed]


def _start(values: Sequence[float | None], *, title: str, width: float, height: float,
           target: float | None, target_suffix: str = "") -> tuple[str, list[str], float, float]:
    """Open a chart (svg, title row with the target key) and scale it from zero.

    Returns (empty, parts, low, high): `empty` is the whole "No figures yet" chart when no value
    is known, else "".
    """
    known = [v for v in values if v is not None]
    target_text = f"target {_fmt(target)}{target_suffix}" if target is not None else ""
    parts = [_open(width, height, title), *_header(title, width, target_text)]
    if not known:
        parts.append(_text(4, height / 2, "No figures yet", size=10, fill="#777"))
        return "".join(parts) + "</svg>", parts, 0.0, 0.0
    scale = known + ([target] if target is not None else [])
    return "", parts, min(0.0, *scale), max(0.0, *scale)


def line_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str, width: int = 320,
               height: int = 120, target: float | None = None, highlight_last: bool = True) -> str:
    """A line of values over periods (gaps for missing ones), with an optional target line.

    The title row holds the title and, when there is a target, a dashed-line key (as in bar_chart),
    so the target's words never meet the title or the line. Only the first and last periods are
    named: shrunk to 8 px when they crowd each other, then only the last.
    """
    empty, parts, low, high = _start(values, title=title, width=width, height=height, target=target)
    if empty:
        return empty
    span = (high - low) or 1.0
    y_texts = [_fmt(low)] if _fmt(high) == _fmt(low) else [_fmt(low), _fmt(high)]
    # the y labels sit right-aligned in a column as wide as the wider of them; the plot starts
    # 22 px down, so the highest label (9 px, raised 3 px) clears the 10 px title row
    right, top, bottom = 8.0, 22.0, 18.0
    left = max(24.0, max(_text_width(t, 9) for t in y_texts) + 10)
    plot_w, plot_h = max(1.0, width - left - right), max(1.0, height - top - bottom)
    step = plot_w / max(1, len(values) - 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top + plot_h - (v - low) / span * plot_h

    parts.append(f'<line x1="{left:g}" y1="{top + plot_h:g}" x2="{left + plot_w:g}" y2="{top + plot_h:g}" '
                 f'stroke="#999" stroke-width="0.5"/>')
    if len(y_texts) == 2 and plot_h < 10:  # too short to name both ends apart: keep the top
        y_texts = y_texts[1:]
    for text in y_texts:
        level = high if text == _fmt(high) else low
        parts.append(_text(left - 4, y(level) + 3, text, anchor="end"))
    if target is not None:
        parts.append(f'<line x1="{left:g}" y1="{y(target):.1f}" x2="{left + plot_w:g}" y2="{y(target):.1f}" '
                     f'stroke="{TARGET}" stroke-dasharray="4 3" stroke-width="1"/>')
    segment: list[str] = []
    for i, value in enumerate([*values, None]):
        if value is not None:
            segment.append(f"{x(i):.1f},{y(value):.1f}")
            continue
        if len(segment) > 1:
            parts.append(f'<polyline fill="none" stroke="{SERIES}" stroke-width="1.8" '
                         f'points="{" ".join(segment)}"/>')
        segment = []
    last = len(values) - 1
    for i, value in enumerate(values):
        if value is None:
            continue
        if highlight_last and i == last:  # the latest figure: bigger, darker, ringed in white
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.6" fill="{SERIES_DARK}" '
                         f'stroke="#fff" stroke-width="1"/>')
        else:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="2" fill="{SERIES}"/>')
    parts += _line_x_labels(labels, left, left + plot_w, height - 5)
    return "".join(parts) + "</svg>"


def _line_x_labels(labels: Sequence[str], start: float, end: float, baseline: float) -> list[str]:
    """The first period's name at the left end of the plot and the last's at the right end."""
    if not labels:
        return []
    first, final = labels[0], labels[-1]
    if len(labels) == 1:  # a single period: its point stands at the left end
        return [_text(start, baseline, _truncate(first, _max_chars(end + 6 - start, 9)))]
    for size in (9.0, 8.5, 8.0):
        if start + _text_width(first, size) + 6 <= end - _text_width(final, size):
            return [_text(start, baseline, first, size=size),
                    _text(end, baseline, final, size=size, anchor="end")]
    # alone, the last name may reach back past the plot's left end, but not out of the chart
    return [_text(end, baseline, _truncate(final, _max_chars(end - 2, 9)), anchor="end")]


def bar_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str, width: int = 320,
              height: int = 140, target: float | None = None, unit: str = "",
              highlight_last: bool = True) -> str:
    """Vertical bars from zero, one per period, labelled with their values; gaps say n/a."""
    if len(labels) != len(values):
        raise ValueError(f"bar_chart {title!r}: {len(labels)} labels but {len(values)} values")
    if height < 70:
        raise ValueError(f"bar_chart {title!r}: height {height} leaves no room for bars (70 at least)")
    empty, parts, low, high = _start(values, title=title, width=width, height=height, target=target,
                                     target_suffix=unit)
    if empty:
        return empty
    span = (high - low) or 1.0
    negative = low < 0
    # room above the plot for value labels, below it for x labels (and labels of negative bars)
    top, bottom = 30.0, height - 16.0 - (11 if negative else 0)
    side = 6.0
    slot = (width - 2 * side) / len(values)
    bar_w = min(slot * 0.7, 48.0)
    centres = [side + slot * (i + 0.5) for i in range(len(values))]

    def y(value: float) -> float:
        return bottom - (value - low) / span * (bottom - top)

    base = y(0)
    last = len(values) - 1
    for i, value in enumerate(values):
        if value is None:
            continue
        fill = SERIES if not highlight_last or i == last else SERIES_MUTED
        parts.append(f'<rect class="bar" x="{centres[i] - bar_w / 2:.2f}" y="{min(y(value), base):.2f}" '
                     f'width="{bar_w:.2f}" height="{abs(base - y(value)):.2f}" fill="{fill}"/>')
    parts.append(f'<line x1="{side}" y1="{base:.1f}" x2="{width - side}" y2="{base:.1f}" '
                 f'stroke="#999" stroke-width="0.75"/>')
    if target is not None:
        parts.append(f'<line x1="{side}" y1="{y(target):.1f}" x2="{width - side}" y2="{y(target):.1f}" '
                     f'stroke="{TARGET}" stroke-dasharray="4 3" stroke-width="1"/>')
    value_texts = ["n/a" if v is None else f"{_fmt(v)}{unit}" for v in values]
    for i, x, text in _place(centres, value_texts, 9, 1, width - 1):
        value = values[i]
        if value is None:
            parts.append(_text(x, base - 3, text, size=8, anchor="middle", fill="#777"))
            continue
        bold = ' font-weight="bold"' if highlight_last and i == last else ""
        label_y = y(value) - 3 if value >= 0 else y(value) + 10
        parts.append(_halo(x, label_y, text, 9, "middle"))
        parts.append(_text(x, label_y, text, anchor="middle", fill="#333", extra=bold))
    for _, x, text in _place(centres, list(labels), 9, 1, width - 1, min_chars=10):
        parts.append(_text(x, height - 5, text, anchor="middle"))
    return "".join(parts) + "</svg>"


def hbar_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str, width: int = 360,
               bar_height: int = 14, max_value: float | None = None, unit: str = "%",
               statuses: Sequence[str] | None = None, reference: float | None = None,
               reference_label: str = "target") -> str:
    """One horizontal bar per row (say, achievement per indicator), named on the left."""
    if len(labels) != len(values) or (statuses is not None and len(statuses) != len(values)):
        raise ValueError(f"hbar_chart {title!r}: labels, values and statuses must be the same length")
    unknown = sorted(set(statuses or ()) - set(STATUS_LABELS))
    if unknown:
        raise ValueError(f"hbar_chart {title!r}: unknown status {unknown}; use one of {list(STATUS_LABELS)}")
    row = max(bar_height + 6, 13)
    top = 18 + (12 if reference is not None else 0)
    height = top + max(1, len(values)) * row + 4
    parts = [_open(width, height, title), *_header(title, width)]
    if not values:
        parts.append(_text(4, top + row / 2 + 3, "No figures yet", size=10, fill="#777"))
        return "".join(parts) + "</svg>"
    known = [v for v in values if v is not None]
    value_texts = [f"{_fmt(v)}{unit}" for v in known]
    value_w = max((_text_width(t, 9) for t in value_texts), default=0) + 8
    status_w = max(_text_width(STATUS_LABELS[s], 8) for s in statuses) + 6 if statuses else 0
    # the label column gives way before the bars get shorter than 40 px
    label_w = min(round(width * 0.38), width - value_w - status_w - 2 - 40)
    if label_w < 30:
        raise ValueError(f"hbar_chart {title!r}: width {width} is too narrow for its values and statuses")
    bar_x = label_w
    room = width - bar_x - value_w - status_w - 2
    scale = max_value or max([*known, reference or 0, 0]) or 1.0

    def length(value: float) -> float:
        return max(0.0, min(value, scale)) / scale * room

    label_chars = _max_chars(label_w - 8, 9)
    words: list[str] = []  # drawn after the reference line, so it never runs through them
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_y = top + i * row + (row - bar_height) / 2
        text_y = bar_y + bar_height / 2 + 3.2
        words.append(_text(label_w - 6, text_y, _truncate(label, label_chars), anchor="end", fill="#333"))
        status = statuses[i] if statuses else None
        if value is None:
            missing = _truncate("not reported", _max_chars(room + value_w - 4, 8))
            words += [_halo(bar_x + 2, text_y, missing, 8),
                      _text(bar_x + 2, text_y, missing, size=8, fill="#6b6b6b", extra=' font-style="italic"')]
        else:
            fill = STATUS_COLOURS[status] if status else SERIES
            parts.append(f'<rect class="bar" x="{bar_x}" y="{bar_y:.2f}" width="{length(value):.2f}" '
                         f'height="{bar_height}" fill="{fill}"/>')
            text = f"{_fmt(value)}{unit}"
            words += [_halo(bar_x + length(value) + 4, text_y, text, 9),
                      _text(bar_x + length(value) + 4, text_y, text, fill="#333")]
        if status:
            words.append(_text(width - 2, text_y, STATUS_LABELS[status], size=8, anchor="end",
                               fill=STATUS_COLOURS[status]))
    if reference is not None:
        ref_x = bar_x + length(reference)
        parts.append(f'<line x1="{ref_x:.1f}" y1="{top - 2}" x2="{ref_x:.1f}" y2="{height - 2}" '
                     f'stroke="{TARGET}" stroke-dasharray="3 2" stroke-width="1"/>')
        text = _truncate(f"{reference_label} {_fmt(reference)}{unit}".strip(), _max_chars(width - 4, 8))
        half = _text_width(text, 8) / 2
        parts.append(_text(min(max(ref_x, 2 + half), width - 2 - half), top - 4, text, size=8,
                           anchor="middle", fill=TARGET))
    parts += words
    return "".join(parts) + "</svg>"


def _legend_lines(entries: Sequence[str], width: float) -> tuple[float, list[list[str]]]:
    """Font size and lines for the legend: shrink to 8 before wrapping onto more lines."""
    def entry_w(text: str, size: float) -> float:
        return size + 3 + _text_width(text, size)  # swatch, gap, words

    room = width - 4
    for size in (9.0, 8.5, 8.0):
        if sum(entry_w(e, size) for e in entries) + 10 * (len(entries) - 1) <= room:
            return size, [list(entries)]
    lines: list[list[str]] = [[]]
    used = 0.0
    for entry in entries:
        needed = entry_w(entry, 8) + (10 if lines[-1] else 0)
        if lines[-1] and used + needed > room:
            lines.append([])
            used, needed = 0.0, entry_w(entry, 8)
        lines[-1].append(entry)
        used += needed
    return 8.0, lines


def status_strip(counts: Mapping[str, int], *, width: int = 360, height: int = 34,
                 title: str = "Indicator status") -> str:
    """One stacked bar of indicator statuses with a legend of counts underneath."""
    unknown = sorted(set(counts) - set(STATUS_LABELS))
    if unknown:
        raise ValueError(f"status_strip: unknown status {unknown}; use one of {list(STATUS_LABELS)}")
    if any(count < 0 for count in counts.values()):
        raise ValueError(f"status_strip: counts must not be negative, got {dict(counts)}")
    items = [(key, counts[key]) for key in STATUS_ORDER if counts.get(key, 0) > 0]
    entries = [f"{STATUS_LABELS[key]} {count}" for key, count in items]
    summary = " · ".join(entries) or "No indicators"
    if not items:
        return _open(width, height, f"{title}: {summary}") + _text(2, height / 2 + 3, summary,
                                                                    size=10, fill="#777") + "</svg>"
    size, lines = _legend_lines(entries, width)
    bar_y, bar_h, bar_w = 2.0, max(8.0, height - 20.0), width - 4.0
    first_line = bar_y + bar_h + 11
    height = max(height, round(first_line + (len(lines) - 1) * 11 + 5))
    parts = [_open(width, height, f"{title}: {summary}")]
    total = sum(count for _, count in items)
    x = 2.0
    for key, count in items:
        seg_w = count / total * bar_w
        parts.append(f'<rect class="segment" x="{x:.2f}" y="{bar_y}" width="{seg_w:.2f}" height="{bar_h}" '
                     f'fill="{STATUS_COLOURS[key]}"/>')
        if bar_h >= 10 and _text_width(str(count), 8) <= seg_w - 4:
            parts.append(_text(x + seg_w / 2, bar_y + bar_h / 2 + 3, str(count), size=8, anchor="middle",
                               fill="#fff", extra=' font-weight="bold"'))
        if x > 2:  # a white seam keeps segments apart in grey-scale print
            parts.append(f'<line x1="{x:.2f}" y1="{bar_y}" x2="{x:.2f}" y2="{bar_y + bar_h}" '
                         f'stroke="#fff" stroke-width="1"/>')
        x += seg_w
    colours = {entry: STATUS_COLOURS[key] for entry, (key, _) in zip(entries, items, strict=True)}
    for n, line in enumerate(lines):
        x, y = 2.0, first_line + n * 11
        for entry in line:
            text = _truncate(entry, _max_chars(width - 4 - size - 3, size))
            parts.append(f'<rect class="swatch" x="{x:.1f}" y="{y - size * 0.8:.1f}" width="{size:g}" '
                         f'height="{size:g}" fill="{colours[entry]}"/>')
            parts.append(_text(x + size + 3, y, text, size=size, fill="#333"))
            x += size + 3 + _text_width(text, size) + 10
    return "".join(parts) + "</svg>"


def data_uri(svg: str) -> str:
    """The SVG as a data: URI for <img src>, which WeasyPrint renders faster than inline SVG."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# Block letters on a 90 × 100 grid, drawn as strokes: a watermark of paths has no text to
# get mixed into the words of the page when a reader copies or extracts them.
_LETTERS = {"D": "M10 0 V100 H40 Q80 100 80 50 Q80 0 40 0 Z", "R": "M10 100 V0 H50 Q80 0 80 25 Q80 50 50 50 H10 M45 50 L80 100",
            "A": "M5 100 L40 0 L75 100 M20 60 H60", "F": "M75 0 H10 V100 M10 50 H60", "T": "M5 0 H75 M40 0 V100"}


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
