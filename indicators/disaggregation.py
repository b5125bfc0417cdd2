"""Option combinations of a disaggregation set, generated as DHIS2 does, and the codes they may use.

A set crosses the options of its categories in category order: one combination per choice of one
option from each category, its code the option codes joined by `_` and its name their names joined
by `, ` (`F_A70P`, "Female, 70 years and above"). A disaggregated set also gets `total`; a set
without categories has the single combination `default`. A combination that holds a retired option
is retired too (since the earliest of its options' retirements): it keeps its figures, takes no new
ones. The seed and the secretariat's editor both generate combinations here, and nowhere else.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

TOTAL_CODE, TOTAL_NAME = "total", "Total"
DEFAULT_CODE, DEFAULT_NAME = "default", "default (no disaggregation)"
RESERVED_CODES = frozenset({TOTAL_CODE, DEFAULT_CODE})
SEPARATOR, NAME_SEPARATOR = "_", ", "
COMBO_CODE_LENGTH, COMBO_NAME_LENGTH = 80, 200  # option_combo.code / option_combo.name
MAX_COMBINATIONS = 120  # cells of one indicator on a return: beyond this, the grid is no longer readable
MAX_CATEGORIES = 4
OPTION_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{0,19}$")  # F, A00_17, A70P
CATEGORY_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # sex, age_group (also the set codes)


@dataclass(frozen=True)
class Option:
    """One option of a category as generation needs it."""

    code: str
    name: str
    retired_at: datetime | None = None


@dataclass(frozen=True)
class Combination:
    """One generated option combination, in its place."""

    code: str
    name: str
    is_total: bool
    sort_order: int
    options: tuple[str, ...] = ()  # the option codes it crosses, in category order
    retired_at: datetime | None = None  # set when one of its options is retired

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


def combinations(categories: Sequence[Sequence[Option]]) -> list[Combination]:
    """The option combinations of a set whose categories hold these options, in order."""
    if not categories:
        return [Combination(DEFAULT_CODE, DEFAULT_NAME, False, 0)]
    found = []
    for position, crossed in enumerate(itertools.product(*categories)):
        retired = [o.retired_at for o in crossed if o.retired_at is not None]
        found.append(Combination(
            SEPARATOR.join(o.code for o in crossed), NAME_SEPARATOR.join(o.name for o in crossed), False, position,
            tuple(o.code for o in crossed), min(retired) if retired else None))
    return found + [Combination(TOTAL_CODE, TOTAL_NAME, True, len(found))]


def combination_problems(categories: Sequence[Sequence[Option]]) -> list[str]:
    """Why these categories cannot be crossed into stored combinations ([] when they can): too many
    cells, a code or name longer than the columns hold, or two crossings spelled alike."""
    if not categories:
        return []
    size = 1
    for options in categories:
        size *= len(options)
    if size == 0:
        return ["a category of the set has no option, so the set would have no cell to fill."]
    if size > MAX_COMBINATIONS:
        return [f"the categories cross into {size} combinations, more than {MAX_COMBINATIONS} cells per "
                "indicator; use fewer categories or options."]
    problems: list[str] = []
    seen: dict[str, tuple[str, ...]] = {}
    for combo in combinations(categories):
        if len(combo.code) > COMBO_CODE_LENGTH:
            problems.append(f"the combination code {combo.code[:40]}… would be {len(combo.code)} characters "
                            f"(at most {COMBO_CODE_LENGTH}); use shorter option codes.")
        if len(combo.name) > COMBO_NAME_LENGTH:
            problems.append(f"the combination name “{combo.name[:40]}…” would be {len(combo.name)} characters "
                            f"(at most {COMBO_NAME_LENGTH}); use shorter option names.")
        if combo.code in seen:
            problems.append(f"options {' × '.join(seen[combo.code])} and {' × '.join(combo.options)} both give the "
                            f"combination code {combo.code}; change one of the option codes.")
        seen.setdefault(combo.code, combo.options)
        if len(problems) >= 5:
            break
    return problems
