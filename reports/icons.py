"""Small pictograms for fact sheets, drawn on a 24-unit grid with plain strokes (no fonts but one)."""

from __future__ import annotations

from html import escape

# name -> (alt text, SVG shapes); shapes inherit stroke="colour" fill="none" from the <g>
ICONS: dict[str, tuple[str, str]] = {
    "people": ("People", '<circle cx="9" cy="8" r="3.2"/>'
                         '<path d="M3 20v-1.5a5 5 0 0 1 5-5h2a5 5 0 0 1 5 5V20"/>'
                         '<circle cx="16.5" cy="6.8" r="2.6"/>'
                         '<path d="M15.6 11.6h1.4a4.5 4.5 0 0 1 4.5 4.5V18"/>'),
    "money": ("Money (KES)", '<rect x="1.5" y="5.5" width="21" height="13" rx="2"/>'
                             '<text x="12" y="14.9" font-size="8" font-weight="bold" text-anchor="middle" '
                             'fill="{colour}" stroke="none" font-family="Liberation Sans, Arial, '
                             'Helvetica, sans-serif">KES</text>'),
    "clock": ("Timeliness", '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3.5 2.2"/>'),
    "shield": ("Coverage", '<path d="M12 3l7.5 3v5.2c0 4.6-3.1 8.3-7.5 9.8-4.4-1.5-7.5-5.2-7.5-9.8V6z"/>'
                           '<path d="M8.8 12.2l2.2 2.2 4.3-4.4"/>'),
    "health": ("Health", '<path d="M9.5 3h5v6.5H21v5h-6.5V21h-5v-6.5H3v-5h6.5z" fill="{colour}"/>'),
    "chat": ("Grievances", '<path d="M4.5 4.5h15a1.5 1.5 0 0 1 1.5 1.5v9.5a1.5 1.5 0 0 1-1.5 1.5H11'
                           'l-5 4v-4H4.5A1.5 1.5 0 0 1 3 15.5V6a1.5 1.5 0 0 1 1.5-1.5z"/>'
                           '<circle cx="8" cy="10.8" r="1.1" fill="{colour}" stroke="none"/>'
                           '<circle cx="12" cy="10.8" r="1.1" fill="{colour}" stroke="none"/>'
                           '<circle cx="16" cy="10.8" r="1.1" fill="{colour}" stroke="none"/>'),
    "registry": ("Registry", '<rect x="2.5" y="5" width="19" height="14" rx="2"/>'
                             '<circle cx="8" cy="10.3" r="2"/>'
                             '<path d="M5 16.2c.5-1.8 1.6-2.7 3-2.7s2.5.9 3 2.7"/>'
                             '<path d="M13.5 10h5M13.5 13h5M13.5 16h3"/>'),
    "pension": ("Pension (savings)", '<path d="M5 13c0-3.4 3.1-5.7 7-5.7 3.4 0 5.6 1.4 6.6 3.3H20.5v3.8h-1.7'
                                     'c-.5 1.1-1.3 2-2.4 2.7V20h-2.6v-2h-3.4v2H7.8v-3C6.1 15.9 5 14.6 5 13z"/>'
                                     '<path d="M5 12.6c-1.3 0-2-.8-2-1.8"/><path d="M10.2 9.7h3.4"/>'
                                     '<circle cx="12" cy="3.6" r="1.9"/>'
                                     '<circle cx="16.2" cy="11.6" r="0.9" fill="{colour}" stroke="none"/>'),
    "check": ("Done", '<circle cx="12" cy="12" r="9"/><path d="M8 12.4l2.8 2.8L16.2 9.6"/>'),
}


def icon(name: str, *, size: int = 28, colour: str = "#0b6e4f") -> str:
    """A square pictogram by name (people, money, clock, …) as a standalone SVG."""
    if name not in ICONS:
        raise ValueError(f"unknown icon {name!r}; known icons: {', '.join(ICONS)}")
    alt, shapes = ICONS[name]
    colour = escape(colour)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 24 24" '
            f'role="img" aria-label="{escape(alt)}"><title>{escape(alt)}</title>'
            f'<g fill="none" stroke="{colour}" stroke-width="1.8" stroke-linecap="round" '
            f'stroke-linejoin="round">{shapes.replace("{colour}", colour)}</g></svg>')
