"""The annex "Glossary and indicator definitions": the acronyms a report uses, and each indicator's source and method.

Programme acronyms come from the snapshot's `programmes`; the sector's other acronyms from the
reference notes of the sector (kept here, in one place). An acronym is listed when the report's
words use it: the indicator and programme names, and the report's own text (KES, PMP, MERL TWG…).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from reports.i18n import N_, _
from reports.words import label

# Acronyms of the sector (../shared/reference/kenya-sector-notes.md), other than the programmes' codes;
# their meanings are printed in the report's language (official names stay in their English form).
ACRONYMS: dict[str, str] = {
    "CT-OVC": N_("Cash Transfer for Orphans and Vulnerable Children"),
    "PWSD-CT": N_("Persons with Severe Disabilities Cash Transfer"),
    "PwSD-CT": N_("Persons with Severe Disabilities Cash Transfer"),
    "OPCT": N_("Older Persons Cash Transfer (Inua Jamii 70+)"),
    "NSNP": N_("National Safety Net Programme (Inua Jamii cash transfers)"),
    "NHIF": N_("National Hospital Insurance Fund, replaced by the SHA on 1 October 2024"),
    "SHIF": N_("Social Health Insurance Fund"),
    "SDSP": N_("State Department for Social Protection and Senior Citizen Affairs"),
    "NSPS": N_("National Social Protection Secretariat"),
    "KSEIP": N_("Kenya Social and Economic Inclusion Project"),
    "ESR": N_("Enhanced Single Registry of households"),
    "IPRS": N_("Integrated Population Registration System"),
    "NDMA": N_("National Drought Management Authority"),
    "KNBS": N_("Kenya National Bureau of Statistics"),
    "KHIS": N_("Kenya Health Information System"),
    "VCI": N_("Vegetation Condition Index (triggers HSNP drought scale-up)"),
    "GoK": N_("Government of Kenya"),
    "GDP": N_("Gross domestic product"),
    "SDG": N_("Sustainable Development Goal"),
    "SP": N_("Social protection"),
    "ID": N_("National identity card"),
    "KES": N_("Kenya shillings"),
    "KES m": N_("Millions of Kenya shillings"),
    "FY": N_("Financial year, 1 July to 30 June (Q1 is July to September)"),
    "YTD": N_("Year to date: the financial year's quarters up to the report's"),
    "PMP": N_("Performance monitoring plan: the indicators' baselines and targets for the year"),
    "MERL": N_("Monitoring, evaluation, research and learning"),
    "TWG": N_("Thematic working group"),
    "MEL": N_("Monitoring, evaluation and learning"),
    "pts": N_("Percentage points"),
}
# Used by every report's own words (the method notes, tables and covers), whatever its indicators.
ALWAYS = ("FY", "KES", "KES m", "MERL", "PMP", "TWG", "YTD", "pts")
FREQUENCY_WORDS = {"quarterly": N_("every quarter"), "annual": N_("once a year"), "monthly": N_("every month"),
                   "none": N_("when available")}


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
                  frequency=label(_(FREQUENCY_WORDS[frequency]) if frequency in FREQUENCY_WORDS else frequency) or "–",
                  reported_by=_reporters(snapshot, info.get("reported_by") or []), basis=text("basis"),
                  version=info.get("version"))


def build(snapshot: dict, codes: Iterable[str]) -> Glossary:
    """The glossary of a report showing the indicators `codes` (each once, in the order given)."""
    wanted = list(dict.fromkeys(c for c in codes if c in snapshot["indicators"]))
    programmes = snapshot.get("programmes", {})
    words = " ".join([*(f"{i.get('name', '')} {i.get('short_name', '')} {i.get('numerator', '')} "
                        f"{i.get('denominator', '')}" for i in (snapshot["indicators"][c] for c in wanted)),
                      *(p.get("name", "") for p in programmes.values())])
    acronyms = [Entry(term, _(meaning)) for term, meaning in ACRONYMS.items()
                if term not in programmes and (term in ALWAYS or _used(term, words))]
    return Glossary(
        programmes=[Entry(code, p.get("name", code) + (f" ({p['agency']})" if p.get("agency") else ""))
                    for code, p in sorted(programmes.items())],
        acronyms=sorted(acronyms, key=lambda e: e.term.lower()),
        methods=[method(snapshot, code) for code in wanted])
