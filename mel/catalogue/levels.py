"""The levels of the org-unit tree, DHIS2-style: their numbers, names and how `mel seed --levels` asks for them.

Kenya (1) → the 47 counties of the Constitution's First Schedule (2) → sub-counties, keyed on the
290 IEBC constituencies (3) → the 1,450 county assembly wards (4). Counties keep their codes
`001`…`047`; constituency and ward codes are prefixed (`SC001`…`SC290`, `W0001`…`W1450`) because the
IEBC's own digits would clash with the county codes (mel/catalogue/org_tree.py loads them).
"""

from __future__ import annotations

from collections.abc import Callable

NATIONAL, COUNTY, SUBCOUNTY, WARD = 1, 2, 3, 4
SUBCOUNTY_PREFIX, WARD_PREFIX = "SC", "W"

# `mel seed --levels …`: the deepest level to load.
SEED_LEVELS = {"county": COUNTY, "subcounty": SUBCOUNTY, "ward": WARD}

Pgettext = Callable[[str, str], str]  # (context, English) -> the name in the reader's language


def _english(_context: str, name: str) -> str:
    return name


def level_names(pgettext: Pgettext = _english) -> dict[int, str]:
    """The name of each level, in English or, given flask_babel's `pgettext`, in the page's language.

    A context of their own because "National" is already the adjective "Kitaifa" elsewhere; the level is "Taifa"."""
    return {
        NATIONAL: pgettext("org unit level", "National"),
        COUNTY: pgettext("org unit level", "County"),
        SUBCOUNTY: pgettext("org unit level", "Sub-county (constituency)"),
        WARD: pgettext("org unit level", "Ward"),
    }


LEVEL_NAMES = level_names()  # English: the DHIS2 API and the API's descriptions


def iebc_code(code: str) -> str | None:
    """The IEBC code inside a sub-county or ward code (`SC042` → `042`, `W0123` → `0123`); None for others."""
    for prefix in (SUBCOUNTY_PREFIX, WARD_PREFIX):
        rest = code.removeprefix(prefix)
        if rest != code and rest.isdigit():
            return rest
    return None
