"""Checks shared by the tests of reports in two languages (test_i18n_reports.py, test_i18n_sector_report.py)."""

from __future__ import annotations

import re

NUMBER = re.compile(r"\d[\d,.]*\d|\d")  # the numbers of a printed figure, whatever words are around them


def assert_same_key_figures(english, swahili) -> None:
    """The two reports' key figures: the same indicators, numbers and statuses, in either language's words."""
    assert [k.code for k in english.key_figures] == [k.code for k in swahili.key_figures]
    for en, sw in zip(english.key_figures, swahili.key_figures, strict=True):
        for field in ("value", "target", "achievement", "last_year", "change"):
            assert NUMBER.findall(getattr(en, field)) == NUMBER.findall(getattr(sw, field)), (en.code, field)
        assert en.status == sw.status
