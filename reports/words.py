"""Words, not codes, in the reports: counted nouns, labels that start a sentence, programme and option names."""

from __future__ import annotations

from indicators.figures import option_label
from reports import i18n
from reports.i18n import _, ngettext


def plural(count: int, singular: str, many: str | None = None) -> str:
    """ "1 indicator", "2 indicators", "0 indicators" (`many` for irregular plurals)."""
    return f"{count:,} {singular if count == 1 else many or singular + 's'}"


def verb(count: int, one: str, many: str) -> str:
    """The verb agreeing with a count: verb(1, "is", "are") → "is"."""
    return one if count == 1 else many


def label(text: str) -> str:
    """A label as it starts a line or a cell: first letter capital, the rest as written ("Women 70+", "NSSF")."""
    return text[:1].upper() + text[1:]


def option_words(code: str, name: str = "") -> str:
    """An option combo's name as a label: `F_A70P` → "Women 70+"."""
    return label(option_label(code, name) or name or code)


def programme_name(programmes: dict, code: str) -> str:
    """A programme's name from the snapshot's `programmes` (its code when unknown)."""
    return (programmes.get(code) or {}).get("name", code)


def on_time(returns: dict | None) -> str:
    """A county's returns by the due date in words: "on time", "late", "not received", or "2 of 3 on time"."""
    if not returns or not returns.get("expected"):
        return _("none expected")
    expected, received, timely = returns["expected"], returns.get("received", 0), returns.get("on_time", 0)
    if expected == 1:
        return _("on time") if timely else _("late") if received else _("not received")
    return _("%(timely)s of %(expected)s on time", timely=timely, expected=expected)


def status_sentence(counts: dict[str, int], total: int) -> str:
    """ "8 on track, 1 needs attention, 1 off track of 17 indicators." """
    attention = counts.get("needs_attention", 0)
    if i18n.language() != i18n.DEFAULT:  # English agrees the verb with the count, below
        return ngettext("%(on_track)s on track, %(attention)s needing attention, %(off_track)s off track of "
                        "%(num)s indicator.", "%(on_track)s on track, %(attention)s needing attention, "
                        "%(off_track)s off track of %(num)s indicators.", total,
                        on_track=i18n.number(counts.get("on_track", 0)), attention=i18n.number(attention),
                        off_track=i18n.number(counts.get("off_track", 0)))
    return (f"{counts.get('on_track', 0)} on track, {attention} {verb(attention, 'needs', 'need')} attention, "
            f"{counts.get('off_track', 0)} off track of {plural(total, 'indicator')}.")


def quality_words(quality: dict, programmes: dict, indicators: dict | None = None) -> dict:
    """The data-quality annex with programme, indicator and option names where its rows hold codes."""
    if not quality:
        return quality

    def named(rows: list[dict]) -> list[dict]:
        return [{**row, "programme_name": programme_name(programmes, row.get("programme", ""))} for row in rows]

    unchanged = [{**row, "option_label": label(row.get("option_label") or option_label(row.get("option", ""))),
                  "indicator_name": ((indicators or {}).get(row.get("indicator", "")) or {}).get("short_name", "")}
                 for row in named(quality.get("unchanged", []))]
    approvals = {programme_name(programmes, code): n for code, n in (quality.get("approvals_by_programme") or {}).items()}
    return {**quality, "outliers": named(quality.get("outliers", [])), "unchanged": unchanged,
            "approvals_by_programme": approvals}


FILTERS = {"plural": plural, "verb": verb, "label": label, "on_time": on_time, "status_sentence": status_sentence}
