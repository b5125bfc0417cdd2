"""How figures are printed in reports: one place, so a test can print an API value the same way."""

from __future__ import annotations

from indicators.compile import STATUS_LABELS  # noqa: F401 - one list of status words, re-exported here
from indicators.display import DASH
from indicators.display import achievement as _achievement
from indicators.display import change as _change
from indicators.display import percent as _percent
from indicators.display import returns_coverage as _returns_coverage
from reports.i18n import N_, _, localised

# Printed in the report's language (reports/i18n.py): words through the catalogue, numbers with the
# locale's symbols; the rounding is indicators/display.py's, the same in every language and product.
TREND_LABELS = {"improving": N_("▲ better"), "worsening": N_("▼ worse"), "stable": N_("= same"), "": "–"}


def percent_text(value: float | None, places: int = 0) -> str:
    return localised(_percent(value, places))


def achievement_text(value: float | None) -> str:
    return localised(_achievement(value))


def change_text(current: float | None, earlier: float | None, measure: str) -> str:
    text = localised(_change(current, earlier, measure))
    return text.replace(" pts", " " + _("pts")) if text.endswith(" pts") else text


def returns_coverage(received: int | None, expected: int | None) -> str:
    """ "1 of 251 returns" when a figure rests on fewer returns than expected; "" when complete."""
    text = _returns_coverage(received, expected)
    if not text or received is None or expected is None:
        return text
    return _("%(received)s of %(expected)s returns", received=localised(f"{received:,}"),
             expected=localised(f"{expected:,}"))


def in_millions(measure: str, unit: str, values) -> bool:
    """Large KES amounts print in millions; small ones (a monthly transfer) in shillings."""
    return measure == "amount" and unit == "KES" and any(v is not None and abs(v) >= 1e6 for v in values)


def table_unit(unit: str, measure: str, millions: bool = False) -> str:
    """The unit a table column shows: KES m for amounts in millions, percentages and days as they are."""
    if millions:
        return _("KES m")
    return {"number": _("number"), "percent": "%", "days": _("days")}.get(unit, unit)


def figure(value: float | None, measure: str, unit: str, millions: bool = False) -> str:
    """A figure as printed in tables: counts whole with separators, ratios to 1 decimal, KES m to 1 decimal."""
    if value is None:
        return DASH
    if measure == "ratio":
        return localised(f"{value:,.1f}")
    if millions:
        return kes_millions(value)
    if measure == "amount":
        return localised(f"{value:,.2f}" if not float(value).is_integer() and abs(value) < 1e4 else f"{value:,.0f}")
    return localised(f"{value:,.0f}")


def headline(value: float | None, measure: str, unit: str) -> str:
    """A figure for a key-figure card: short (1.2 million, KES 10.2 billion, 96.2%)."""
    if value is None:
        return _("not reported")
    if measure == "ratio":
        return localised(f"{value:,.1f}%") if unit == "percent" else localised(f"{value:,.1f}") + " " + _(unit)
    if unit == "KES":
        return kes(value)
    if abs(value) >= 1e9:
        return _("%(number)s billion", number=localised(f"{value / 1e9:,.2f}"))
    if abs(value) >= 1e6:
        return _("%(number)s million", number=localised(f"{value / 1e6:,.2f}"))
    return localised(f"{value:,.0f}")


def percent(value: float | None) -> str:
    """Completeness, timeliness and other shares: whole percent, rounded half up once."""
    return percent_text(value)


def achievement(value: float | None) -> str:
    """Achievement against target: whole percent, truncated (never shows a band not reached)."""
    return achievement_text(value)


def change(current: float | None, earlier: float | None, measure: str) -> str:
    """Change as text: points for ratios (+26.8 pts), relative for counts and amounts (+4.2%)."""
    return change_text(current, earlier, measure)


def money_millions(value) -> str:
    """KES (text or number) in millions for work-plan budgets."""
    if value in (None, ""):
        return DASH
    return kes_millions(value)


def kes_millions(value) -> str:
    """KES as a number of millions to one decimal ("10,204.3"), for a table whose column says KES m."""
    return localised(f"{float(value) / 1e6:,.1f}")


def kes(value) -> str:
    """Money in the one notation of every report, in cards, tables, charts and sentences alike:
    millions of Kenya shillings to one decimal ("KES 10,204.3 m"), whole shillings under a million
    ("KES 2,000"). Tables with a "KES m" column print the same number without the words."""
    if value in (None, ""):
        return DASH
    number = float(value)
    if abs(number) >= 1e6:
        return _("KES %(number)s m", number=kes_millions(number))
    return _("KES %(number)s", number=localised(f"{number:,.0f}"))


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun in the right number: "1 indicator", "3 indicators", "2 activities"."""
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"  # English only (reports/i18n.py)
