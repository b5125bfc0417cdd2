"""The figure vocabulary, defined once: components, their code suffixes, the ingest row, the ratio.

A figure is keyed by indicator × component × option (× programme, org unit, period). Counts and
amounts have one component, `value`; a ratio is never typed in: its `numerator` and
`denominator` are, written `CODE.N` and `CODE.D`, and the ratio is numerator ÷ denominator ×
factor. Every parser, check, page and report imports these names instead of spelling them out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

COMPONENTS = ("value", "numerator", "denominator")
RATIO_PARTS = ("numerator", "denominator")
# component -> code suffix; "ratio" is the computed N ÷ D × factor (checks name it by the indicator)
SUFFIX = {"value": "", "numerator": ".N", "denominator": ".D", "ratio": ""}
COMPONENT_OF_SUFFIX = {".N": "numerator", ".D": "denominator"}  # code suffix -> component
PART_NAMES = {"numerator": "numerator", "denominator": "denominator", "value": "value"}

# The canonical row every channel (web grid, Excel, CSV, JSON, DHIS2) hands to the ingest
# service: the figure's address as people wrote it, its value as text, and where it came from.
LOCATION_COLUMNS = ("file", "sheet", "row", "column")
ROW_COLUMNS = ("indicator", "option", "org_unit", "period", "value", "comment", "explanation", *LOCATION_COLUMNS)


def figure_code(indicator: str, component: str = "value") -> str:
    """`SA12`, `numerator` → `SA12.N`; a value's code is the indicator's."""
    return indicator + SUFFIX[component]


def split_code(code: str) -> tuple[str, str]:
    """`SA12.N` → (`SA12`, `numerator`); `SA02` → (`SA02`, `value`)."""
    component = COMPONENT_OF_SUFFIX.get(code[-2:].upper())
    return (code[:-2], component) if component else (code, "value")


_SEX_WORDS = {"F": ("women", "girls"), "M": ("men", "boys")}
_AGE_RANGE = re.compile(r"^A(\d{2})_(\d{2})$")
_AGE_FROM = re.compile(r"^A(\d{2})P$")


def option_label(code: str, name: str = "") -> str:
    """An option combo in people's words: `F_A70P` → "women 70+", `M_A00_17` → "boys 0–17",
    `F` → "women", `total` → "total"; other codes fall back to the combo's name (or code)."""
    if code in ("default", ""):
        return ""
    if code == "total":
        return "total"
    sex, _, age = code.partition("_")
    if sex not in _SEX_WORDS:
        sex, age = "", code
    young = False
    age_words = ""
    if age:
        if match := _AGE_RANGE.match(age):
            low, high = int(match[1]), int(match[2])
            age_words, young = f"{low}–{high}", high < 18
        elif match := _AGE_FROM.match(age):
            age_words = f"{int(match[1])}+"
        else:
            return name or code
    if not sex:
        return f"aged {age_words}" if age_words else (name or code)
    word = _SEX_WORDS[sex][1 if young else 0]
    return f"{word} {age_words}".strip()


def ingest_row(indicator: str, option: str, org_unit: str, period: str, value: Any = "", *,
               comment: str = "", explanation: str = "", file: str = "", sheet: str = "",
               row: int | None = None, column: str | None = None) -> dict[str, Any]:
    """One canonical ingest row (value as text: "" clears or leaves the figure, per channel)."""
    text = "" if value is None else str(value)
    return {"indicator": indicator, "option": option, "org_unit": org_unit, "period": period, "value": text,
            "comment": comment, "explanation": explanation, "file": file, "sheet": sheet, "row": row,
            "column": column}


def ingest_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Canonical rows as the frame the ingest service takes (the columns even when there are none)."""
    return pd.DataFrame(list(rows), columns=list(ROW_COLUMNS))


def ratio(numerator: float | None, denominator: float | None, factor: int | None) -> float | None:
    """numerator ÷ denominator × factor, or None without a positive denominator."""
    if numerator is None or denominator is None or not denominator > 0:
        return None
    return float(numerator) / float(denominator) * (factor or 1)


def ratios(numerators: pd.Series, denominators: pd.Series, factors: pd.Series | Sequence[float]) -> pd.Series:
    """The ratio formula over columns: NaN where the denominator is missing or not positive."""
    scale = np.asarray(factors, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return numerators.astype(float) / denominators.astype(float).where(denominators > 0) * scale
