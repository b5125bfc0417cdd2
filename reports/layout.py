"""Page-layout helpers for the report templates: table rows kept together across page breaks.

WeasyPrint has no orphans/widows for table rows, but when a row does not fit it looks for an
earlier break allowed by `break-before` (reports/report.css: `tr.keep-prev { break-before: avoid }`).
Marking a table's second row and its last row that way means a page never holds a table's first
row alone, nor its last row alone. (A kept <tbody> would not do: WeasyPrint then lays out the
first row group as if on an empty page, and splits it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

KEEP = 2  # rows that stay together at each end of a table


def kept_rows(rows: Sequence[Any], keep: int = KEEP) -> list[tuple[Any, bool]]:
    """(row, keep with the row before it) for each row: the first `keep` rows stay together, and so
    do the last `keep` (a table of at most 2 × `keep` rows stays whole)."""
    rows = list(rows)
    return [(row, 0 < n < keep or (n > 0 and n >= len(rows) - keep + 1)) for n, row in enumerate(rows)]
