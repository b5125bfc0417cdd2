"""A passage of README quoted in a report: its markdown (paragraphs, bullet and numbered lists, bold,
emphasis, code) as HTML, its words untouched. Only what README's marked passages use; anything else
prints as the text it is.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_ITEM = re.compile(r"^(?P<indent> *)(?P<mark>[-*]|\d+\.) +(?P<text>.*)$")
_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


def inline(text: str) -> str:
    """One line's inline markdown as HTML (escaped first; code spans keep their text as it is)."""
    parts = _CODE.split(text)
    out = []
    for n, part in enumerate(parts):
        if n % 2:
            out.append(f"<code>{escape(part)}</code>")
        else:
            html = str(escape(part))
            html = _STRONG.sub(r"<strong>\1</strong>", html)
            out.append(_EM.sub(r"<em>\1</em>", html))
    return "".join(out)


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def to_html(text: str) -> Markup:
    """The passage as HTML: a heading line (#…) as <h4>, lists as <ul>/<ol>, the rest as paragraphs."""
    out: list[str] = []
    for block in _blocks(text):
        if block[0].lstrip().startswith("#"):
            out.append(f"<h4>{inline(block[0].lstrip('#').strip())}</h4>")
            block = block[1:]
            if not block:
                continue
        first = _ITEM.match(block[0])
        if first:
            tag = "ol" if first.group("mark")[0].isdigit() else "ul"
            items: list[str] = []
            for line in block:
                match = _ITEM.match(line)
                if match and len(match.group("indent")) <= len(first.group("indent")):
                    items.append(match.group("text").strip())
                else:
                    items[-1] += " " + line.strip()
            out.append(f"<{tag}>" + "".join(f"<li>{inline(i)}</li>" for i in items) + f"</{tag}>")
        else:
            out.append("<p>" + inline(" ".join(line.strip() for line in block)) + "</p>")
    return Markup("\n".join(out))
