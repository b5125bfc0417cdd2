"""Text in charts: widths in the body font, wrapping, round tick values, and labels that never collide.

Charts are drawn in points (one SVG user unit = 1 pt as printed), so a size here is the printed size.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

FONT = "DejaVu Sans, Verdana, sans-serif"  # the body font of the reports
MIN_SIZE = 8.0  # no chart text is printed smaller
ASCENT, DESCENT = 0.8, 0.24  # share of the font size above and below the baseline

# Advance widths of DejaVu Sans (Book and Bold) as a share of the font size, read from the font files.
_CHARS = (" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
          "–—…·×÷≥≤%₤’“”▲▼é")
_BOOK = (0.318, 0.401, 0.46, 0.838, 0.636, 0.95, 0.78, 0.275, 0.39, 0.39, 0.5, 0.838, 0.318, 0.361, 0.318, 0.337,
         *(0.636,) * 10, 0.337, 0.337, 0.838, 0.838, 0.838, 0.531, 1.0, 0.684, 0.686, 0.698, 0.77, 0.632, 0.575,
         0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748, 0.787, 0.603, 0.787, 0.695, 0.635, 0.611, 0.732,
         0.684, 0.989, 0.685, 0.611, 0.685, 0.39, 0.337, 0.39, 0.838, 0.5, 0.5, 0.613, 0.635, 0.55, 0.635, 0.615,
         0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634, 0.612, 0.635, 0.635, 0.411, 0.521, 0.392,
         0.634, 0.592, 0.818, 0.592, 0.592, 0.525, 0.636, 0.337, 0.636, 0.838, 0.5, 1.0, 1.0, 0.318, 0.838, 0.838,
         0.838, 0.838, 0.95, 0.636, 0.318, 0.518, 0.518, 0.769, 0.769, 0.615)
_BOLD = (0.348, 0.456, 0.521, 0.838, 0.696, 1.002, 0.872, 0.306, 0.457, 0.457, 0.523, 0.838, 0.38, 0.415, 0.38,
         0.365, *(0.696,) * 10, 0.4, 0.4, 0.838, 0.838, 0.838, 0.58, 1.0, 0.774, 0.762, 0.734, 0.83, 0.683, 0.683,
         0.821, 0.837, 0.372, 0.372, 0.775, 0.637, 0.995, 0.837, 0.85, 0.733, 0.85, 0.77, 0.72, 0.682, 0.812, 0.774,
         1.103, 0.771, 0.724, 0.725, 0.457, 0.365, 0.457, 0.838, 0.5, 0.5, 0.675, 0.716, 0.593, 0.716, 0.678, 0.435,
         0.716, 0.712, 0.343, 0.343, 0.665, 0.343, 1.042, 0.712, 0.687, 0.716, 0.716, 0.493, 0.595, 0.478, 0.712,
         0.652, 0.924, 0.645, 0.652, 0.582, 0.712, 0.365, 0.712, 0.838, 0.5, 1.0, 1.0, 0.38, 0.838, 0.838, 0.838,
         0.838, 1.002, 0.696, 0.38, 0.657, 0.657, 0.769, 0.769, 0.678)
BOOK_WIDTHS = dict(zip(_CHARS, _BOOK, strict=True))
BOLD_WIDTHS = dict(zip(_CHARS, _BOLD, strict=True))
WIDEST = 1.0  # for a character not in the table: never under-estimate


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Printed width of `text` in points."""
    table = BOLD_WIDTHS if bold else BOOK_WIDTHS
    return sum(table.get(ch, WIDEST) for ch in text) * size


def wrap(text: str, size: float, room: float, bold: bool = False) -> list[str]:
    """`text` broken into lines no wider than `room`: between words, inside a word only when it alone is wider."""
    lines: list[str] = []
    for word in text.split():
        while text_width(word, size, bold) > room and len(word) > 1:
            cut = max(1, max(n for n in range(1, len(word) + 1) if text_width(word[:n], size, bold) <= room)
                      if text_width(word[0], size, bold) <= room else 1)
            if lines and text_width(f"{lines[-1]} {word[:cut]}", size, bold) <= room:
                lines[-1] = f"{lines[-1]} {word[:cut]}"
            else:
                lines.append(word[:cut])
            word = word[cut:]
        if lines and text_width(f"{lines[-1]} {word}", size, bold) <= room:
            lines[-1] = f"{lines[-1]} {word}"
        elif word:
            lines.append(word)
    return lines or [""]


def nice_ticks(low: float, high: float, most: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 × 10ⁿ apart) from at or below `low` to at or above `high`: 3 to `most`."""
    most = max(3, most)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"nice_ticks: the range {low}..{high} is not finite")
    if high - low <= 1e-9 * max(1.0, abs(low), abs(high)):  # one value (or differences below print precision)
        high = low + (abs(low) if abs(low) > 1e-9 else 1.0)
    raw = (high - low) / (most - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10, 20):
        step = factor * magnitude
        first, last = math.floor(low / step), math.ceil(high / step)
        first += (first + 1) * step <= low  # a quotient just under a whole number (float noise)
        last -= (last - 1) * step >= high
        if last - first + 1 <= most:
            break
    if last - first + 1 < 3:
        last = first + 2
    return [float(f"{n * step:.12g}") + 0.0 for n in range(first, last + 1)]


@dataclass(frozen=True)
class Box:
    """Where a text prints: left, top, right, bottom in points, and the words."""

    left: float
    top: float
    right: float
    bottom: float
    text: str

    def overlaps(self, other: Box, gap: float = 0.0) -> bool:
        return not (self.right + gap <= other.left or other.right + gap <= self.left
                    or self.bottom + gap <= other.top or other.bottom + gap <= self.top)

    def inside(self, width: float, height: float, eps: float = 0.05) -> bool:
        return self.left >= -eps and self.top >= -eps and self.right <= width + eps and self.bottom <= height + eps


def box(x: float, y: float, text: str, size: float, anchor: str = "start", bold: bool = False) -> Box:
    """The box of a text drawn at baseline (x, y) with `anchor`."""
    w = text_width(text, size, bold)
    left = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
    return Box(left, y - ASCENT * size, left + w, y + DESCENT * size, text)


@dataclass
class Label:
    """A text a chart wants to print; `spots` are the (x, y) baselines it may take, best first."""

    spots: list[tuple[float, float]]
    text: str
    size: float = MIN_SIZE
    anchor: str = "start"
    fill: str = "#444"
    bold: bool = False
    halo: bool = False  # a white patch behind it, so a line running through does not strike it out
    italic: bool = False

    def box_at(self, spot: tuple[float, float]) -> Box:
        return box(spot[0], spot[1], self.text, self.size, self.anchor, self.bold)


def place(labels: list[Label], width: float, height: float, taken: list[Box] | None = None,
          gap: float = 1.0) -> list[tuple[Label, tuple[float, float]]]:
    """Each label at its first spot clear of the chart's edges and of the labels placed before it.

    Labels come in order of importance; one with no free spot is left out (a lesser label gives way).
    """
    boxes = list(taken or [])
    placed = []
    for label in labels:
        for spot in label.spots:
            candidate = label.box_at(spot)
            if candidate.inside(width, height) and not any(candidate.overlaps(b, gap) for b in boxes):
                boxes.append(candidate)
                placed.append((label, spot))
                break
    return placed


def text_boxes(svg: str) -> list[Box]:
    """The box of every text of a chart, as printed (for tests and for checking a chart by eye)."""
    root = ET.fromstring(svg)
    found = []
    for element in root.iter("{http://www.w3.org/2000/svg}text"):
        size = float(element.get("font-size", MIN_SIZE))
        found.append(box(float(element.get("x", 0)), float(element.get("y", 0)), element.text or "", size,
                         element.get("text-anchor", "start"), element.get("font-weight") == "bold"))
    return found
