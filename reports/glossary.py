"""The annex "Glossary and indicator definitions": the acronyms a report uses, and each indicator's source and method.

Programme acronyms come from the snapshot's `programmes`; the sector's other acronyms from the
reference notes of the sector (kept here, in one place). An acronym is listed when the report's
words use it: the indicator and programme names, and the report's own text (KES, PMP, MERL TWG…).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from reports.words import label

# Acronyms of the sector (../shared/reference/kenya-sector-notes.md), other than the programmes' codes.
ACRONYMS: dict[str, str] = {
    "CT-OVC": "Cash Transfer for Orphans and Vulnerable Children",
    "PWSD-CT": "Persons with Severe Disabilities Cash Transfer",
    "PwSD-CT": "Persons with Severe Disabilities Cash Transfer",
    "OPCT": "Older Persons Cash Transfer (Inua Jamii 70+)",
    "NSNP": "National Safety Net Programme (Inua Jamii cash transfers)",
    "NHIF": "National Hospital Insurance Fund, replaced by the SHA on 1 October 2024",
    "SHIF": "Social Health Insurance Fund",
    "SDSP": "State Department for Social Protection and Senior Citizen Affairs",
    "NSPS": "National Social Protection Secretariat",
    "KSEIP": "Kenya Social and Economic Inclusion Project",
    "ESR": "Enhanced Single Registry of households",
    "IPRS": "Integrated Population Registration System",
    "NDMA": "National Drought Management Authority",
    "KNBS": "Kenya National Bureau of Statistics",
    "KHIS": "Kenya Health Information System",
    "VCI": "Vegetation Condition Index (triggers HSNP drought scale-up)",
    "GoK": "Government of Kenya",
    "GDP": "Gross domestic product",
    "SDG": "Sustainable Development Goal",
    "SP": "Social protection",
    "ID": "National identity card",
    "KES": "Kenya shillings",
    "KES m": "Millions of Kenya shillings",
    "FY": "Financial year, 1 July to 30 June (Q1 is July to September)",
    "YTD": "Year to date: the financial year's quarters up to the report's",
    "PMP": "Performance monitoring plan: the indicators' baselines and targets for the year",
    "MERL": "Monitoring, evaluation, research and learning",
    "TWG": "Thematic working group",
    "MEL": "Monitoring, evaluation and learning",
    "pts": "Percentage points",
}
# Used by every report's own words (the method notes, tables and covers), whatever its indicators.
ALWAYS = ("FY", "KES", "KES m", "MERL", "PMP", "TWG", "YTD", "pts")
FREQUENCY_WORDS = {"quarterly": "every quarter", "annual": "once a year", "monthly": "every month", "none": "when available"}


@dataclass(frozen=True)
class Entry:
    term: str
    meaning: str


@dataclass(frozen=True)
class Method:
    """One indicator's source and method line."""

    code: str
    name: str
    definition: str
    numerator: str
    denominator: str
    disaggregation: str
    frequency: str
    reported_by: str
    basis: str
    version: int | None = None  # the reference sheet's version the report used (None: kept before versions)


@dataclass
class Glossary:
    programmes: list[Entry] = field(default_factory=list)
    acronyms: list[Entry] = field(default_factory=list)
    methods: list[Method] = field(default_factory=list)


def _used(term: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", text) is not None


def _reporters(snapshot: dict, codes: Iterable[str]) -> str:
    """The programmes reporting an indicator by code: the annex's programme list names them once, so a
    line per indicator stays short (a county profile's annex was five pages of repeated names)."""
    return ", ".join(codes) or "–"


def method(snapshot: dict, code: str) -> Method:
    """The source and method line of an indicator, in words (a dash for what the catalogue leaves empty)."""
    info = snapshot["indicators"][code]

    def text(key: str) -> str:
        return label(str(info.get(key) or "").strip().rstrip(".")) or "–"

    frequency = info.get("frequency") or ""
    return Method(code=code, name=info.get("name") or info.get("short_name", code), definition=text("definition"),
                  numerator=text("numerator"), denominator=text("denominator"),
                  disaggregation=text("disaggregation"),
                  frequency=label(FREQUENCY_WORDS.get(frequency, frequency)) or "–",
                  reported_by=_reporters(snapshot, info.get("reported_by") or []), basis=text("basis"),
                  version=info.get("version"))


def build(snapshot: dict, codes: Iterable[str]) -> Glossary:
    """The glossary of a report showing the indicators `codes` (each once, in the order given)."""
    wanted = list(dict.fromkeys(c for c in codes if c in snapshot["indicators"]))
    programmes = snapshot.get("programmes", {})
    words = " ".join([*(f"{i.get('name', '')} {i.get('short_name', '')} {i.get('numerator', '')} "
                        f"{i.get('denominator', '')}" for i in (snapshot["indicators"][c] for c in wanted)),
                      *(p.get("name", "") for p in programmes.values())])
    acronyms = [Entry(term, meaning) for term, meaning in ACRONYMS.items()
                if term not in programmes and (term in ALWAYS or _used(term, words))]
    return Glossary(
        programmes=[Entry(code, p.get("name", code) + (f" ({p['agency']})" if p.get("agency") else ""))
                    for code, p in sorted(programmes.items())],
        acronyms=sorted(acronyms, key=lambda e: e.term.lower()),
        methods=[method(snapshot, code) for code in wanted])
