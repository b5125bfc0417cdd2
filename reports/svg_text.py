"""Chart and map labels shaped as whole strings in WeasyPrint's SVG renderer.

WeasyPrint 70 draws every SVG `<text>` code point by code point (one Pango layout and one PDF
text object per character), because SVG allows each glyph its own position. Our charts never
position glyphs: each label is one run with at most one x, y, dx and dy. Shaping the run
whole gives the same extents, keeps the font's kerning and is about a tenth of the work (the
sector report's 750 labels cost 2 s of its main document). This is the workaround the
WeasyPrint maintainers describe for the common case (Kozea/WeasyPrint issue 2249: "draw the
whole text ... when there's no specified x, y, dx, dy or rotate values for specific glyphs").

`install()` hands WeasyPrint a text function that gives such a run to WeasyPrint's own one as a
single "character" and leaves every other text (several positions, rotate, letter-spacing,
textLength) to it unchanged. It is installed only on the WeasyPrint version it was written
against (pinned in pyproject.toml); on any other it does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

VERSION = "70.0"
_GLYPH_ATTRIBUTES = ("rotate", "textLength", "letter-spacing")
_installed = False


class _Run(str):
    """A label WeasyPrint iterates as one character: it is laid out and drawn as one run."""

    def __iter__(self) -> Iterator[str]:
        yield str(self)


def _one_position(value: str | None) -> bool:
    return value is None or len(value.replace(",", " ").split()) <= 1


def whole_run(node) -> bool:
    """True when `node` is a text or tspan in which nothing places or spaces a glyph of its own."""
    if getattr(node, "tag", "text") not in ("text", "tspan"):
        return False
    attributes = node.attrib
    if any(name in attributes for name in _GLYPH_ATTRIBUTES):
        return False
    return all(_one_position(attributes.get(name)) for name in ("x", "y", "dx", "dy"))


def install() -> bool:
    """Install the whole-run text drawing in WeasyPrint's SVG renderer (once); True if installed."""
    global _installed
    if _installed:
        return True
    import weasyprint
    from weasyprint import svg

    if weasyprint.__version__ != VERSION or svg.TAGS.get("text") is not svg.text:
        return False
    per_character = svg.text

    def text(renderer, node, font_size):
        content = node._etree_node.text
        if content and len(content) > 1 and not isinstance(content, _Run) and whole_run(node):
            node._etree_node.text = _Run(content)
        return per_character(renderer, node, font_size)

    # WeasyPrint finds the text function in TAGS and tells text nodes by comparing with svg.text
    svg.text = text
    for tag, function in list(svg.TAGS.items()):
        if function is per_character:
            svg.TAGS[tag] = text
    _installed = True
    return True
