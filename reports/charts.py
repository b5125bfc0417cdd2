"""Small hand-built SVG charts (no JavaScript, no plotting library): fast to render, crisp in PDF."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def _fmt(value: float) -> str:
    if abs(value) >= 1e9:
        return f"{value / 1e9:.1f}bn"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.1f}"


def line_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str, width: int = 320,
               height: int = 120, target: float | None = None, highlight_last: bool = True) -> str:
    """A line of values over periods (gaps for missing ones), with an optional target line."""
    known = [v for v in values if v is not None]
    left, right, top, bottom = 44, 8, 18, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="{left}" y="12" font-size="10" fill="#333">{escape(title)}</text>']
    if not known:
        parts.append(f'<text x="{left}" y="{top + plot_h / 2}" font-size="10" fill="#777">No figures yet</text></svg>')
        return "".join(parts)
    low = min(known + ([target] if target is not None else []))
    high = max(known + ([target] if target is not None else []))
    low = min(0.0, low)
    span = (high - low) or 1.0
    step = plot_w / max(1, len(values) - 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top + plot_h - (v - low) / span * plot_h

    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999" stroke-width="0.5"/>')
    for value in (low, high):
        parts.append(f'<text x="{left - 4}" y="{y(value) + 3:.1f}" font-size="9" text-anchor="end" fill="#555">{_fmt(value)}</text>')
    if target is not None:
        parts.append(f'<line x1="{left}" y1="{y(target):.1f}" x2="{left + plot_w}" y2="{y(target):.1f}" '
                     f'stroke="#8a5a00" stroke-dasharray="4 3" stroke-width="1"/>'
                     f'<text x="{left + plot_w}" y="{y(target) - 3:.1f}" font-size="9" text-anchor="end" fill="#8a5a00">target {_fmt(target)}</text>')
    segment: list[str] = []
    for i, value in enumerate(values):
        if value is None:
            if len(segment) > 1:
                parts.append(f'<polyline fill="none" stroke="#0b6e4f" stroke-width="1.8" points="{" ".join(segment)}"/>')
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(value):.1f}")
    if len(segment) > 1:
        parts.append(f'<polyline fill="none" stroke="#0b6e4f" stroke-width="1.8" points="{" ".join(segment)}"/>')
    for i, value in enumerate(values):
        if value is not None:
            last = highlight_last and i == len(values) - 1
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="{3.2 if last else 2}" fill="{"#a4262c" if last else "#0b6e4f"}"/>')
    for i in (0, len(labels) - 1):
        anchor = "start" if i == 0 else "end"
        parts.append(f'<text x="{x(i):.1f}" y="{height - 6}" font-size="9" text-anchor="{anchor}" fill="#555">{escape(labels[i])}</text>')
    parts.append("</svg>")
    return "".join(parts)
