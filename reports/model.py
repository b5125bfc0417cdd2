"""The plain report model: what a report shows, built from a snapshot of compiled results.

No Flask, no database: `build(snapshot, ...)` takes the JSON-ready snapshot that the service
gathered (and stored with the run) and returns dataclasses the templates print as they are.
Figures are formatted here, once, with reports.format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from indicators.explanations import reason, tally
from reports import charts, i18n, story, trends, words
from reports.charts import STATUS_ORDER
from reports.county_maps import CountyMap, county_maps, locator_uri
from reports.disaggregation import WhoIsReached, who_is_reached
from reports.evidence import PillarEvidence
from reports.evidence import for_pillar as evidence_for
from reports.format import (
    STATUS_LABELS,
    TREND_LABELS,
    achievement,
    change,
    figure,
    headline,
    in_millions,
    kes,
    percent,
    returns_coverage,
    table_unit,
)
from reports.glossary import Glossary
from reports.glossary import build as glossary_of
from reports.i18n import N_, _
from reports.money import Money, programme_money, workplan_money
from reports.revisions import is_revised_target, revision_note

KIND_TITLES = {"sector": N_("Social Protection Sector Quarterly Progress Report"),
               "programme": N_("Programme Progress Report"), "county": N_("County Social Protection Profile"),
               "factsheet": N_("Social Protection Fact Sheet")}
# The key figures policymakers ask for first (DESIGN.md): payments, money, coverage, timeliness, grievances.
KEY_FIGURES = (("SA02", N_("Older persons paid (Inua Jamii 70+)"), "people"),
               ("SA04", N_("CT-OVC households paid"), "people"),
               ("SA10", N_("Cash transfers disbursed"), "money"),
               ("SPX05", N_("Population covered by at least one benefit"), "shield"),
               ("SA11", N_("Payments made on schedule"), "clock"),
               ("SPX10", N_("Grievances received"), "chat"),
               ("SPX11", N_("Grievances resolved within the standard"), "check"),
               ("HI01", N_("SHA registered principal members"), "health"))


@dataclass
class Figure:
    """One indicator's line: printed text for every column, and the raw numbers for charts."""

    code: str
    name: str
    unit: str
    level: str
    baseline: str
    target: str
    actual: str
    achievement: str
    status: str
    status_label: str
    trend: str
    previous: str
    last_year: str
    ytd_target: str = "–"
    ytd_actual: str = "–"
    ytd_achievement: str = "–"
    ytd_status: str = "not_reported"
    note: str = ""
    value: float | None = None
    target_value: float | None = None
    coverage: str = ""  # "1 of 251 returns" when the figure rests on fewer returns than expected
    target_source: str = ""  # where a target not from the report's own plan came from
    target_note: str = ""  # why there is no target
    target_revised: bool = False  # the target comes from a revised plan (reports/revisions.py)
    variance: str = ""  # the secretariat's note on this figure (reports/story.py)
    lineage: str = ""  # "Retired; replaced by SA20 (…)" or "Replaces SA03 (…)" (lineage_note)


@dataclass
class KeyFigure:
    code: str
    label: str
    icon: str
    value: str
    target: str
    achievement: str
    status: str
    status_label: str
    last_year: str
    change: str
    note: str = ""
    coverage: str = ""
    target_source: str = ""
    target_revised: bool = False
    has_target: bool = False


@dataclass
class Chart:
    title: str
    uri: str  # data:image/svg+xml;base64,… (rendered as <img> with alt text)


@dataclass
class PillarSection:
    code: str
    name: str
    description: str
    figures: list[Figure]
    charts: list[Chart]
    status_counts: dict[str, int]
    evidence: PillarEvidence | None = None  # what the evidence register says (reports/evidence.py)


@dataclass
class CountyPage:
    code: str
    name: str
    figures: list[Figure]
    returns: dict | None
    strip: str  # data URI of the status strip
    locator: str = ""  # data URI of the county within Kenya


@dataclass
class WorkingGroup:
    code: str
    name: str
    activities: list[dict]
    status_counts: dict[str, int]
    budget: str


@dataclass
class Report:
    kind: str
    title: str
    subtitle: str
    period: str
    period_label: str
    scope: str
    generated_at: str
    data_as_of: str
    is_draft: bool
    reference: str
    key_figures: list[KeyFigure] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    status_counts: dict[str, int] = field(default_factory=dict)
    status_strip: str = ""
    returns: dict = field(default_factory=dict)
    completeness_chart: str = ""
    pillars: list[PillarSection] = field(default_factory=list)
    programmes: list[PillarSection] = field(default_factory=list)
    workplan: list[WorkingGroup] = field(default_factory=list)
    counties: list[CountyPage] = field(default_factory=list)
    county_table: list[dict] = field(default_factory=list)
    quality: dict = field(default_factory=dict)
    method: list[tuple[str, str]] = field(default_factory=list)
    accessible: bool = False
    maps: list[CountyMap] = field(default_factory=list)  # county choropleths
    locator: str = ""  # county profile: the county within Kenya (data URI)
    glossary: Glossary | None = None  # the annex of acronyms and indicator definitions
    revision_note: str = ""  # footnote on targets of a revised plan (reports/revisions.py)
    story: story.Story | None = None  # key messages, commentary, quotes, actions (reports/story.py)
    who: WhoIsReached | None = None  # breakdowns by sex, age and other categories (reports/disaggregation.py)
    money: Money | None = None  # work-plan budget or programme disbursement against budget (reports/money.py)
    language: str = "en"  # the language it is written in (reports/i18n.py)
    catalogues: str = ""  # where its language's compiled catalogues are, for laying it out elsewhere


def _when(text: str | None, zone: str = "UTC") -> str:
    """A stored instant in the report's time zone, named: `16 January 2026, 02:30 EAT`."""
    if not text:
        return "–"
    moment = datetime.fromisoformat(text)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps naive UTC
    moment = moment.astimezone(ZoneInfo(zone))
    if i18n.language() != i18n.DEFAULT:  # "16 Januari 2026, 02:30 EAT"
        return f"{i18n.day(moment, with_time=True)} {moment:%Z}"
    return moment.strftime("%d %B %Y, %H:%M %Z").lstrip("0")


def _figure(row: dict, info: dict, ytd: dict | None = None, own_plan: str | None = None) -> Figure:
    measure, unit = info["measure"], info["unit"]
    ytd = ytd or {}
    millions = in_millions(measure, unit, [row.get(k) for k in ("actual", "target", "baseline", "previous", "last_year")]
                           + [ytd.get("actual"), ytd.get("target")])

    def fmt(value):
        return figure(value, measure, unit, millions)

    status = row.get("status") or "not_reported"
    return Figure(
        code=row["indicator"], name=info["short_name"], unit=table_unit(unit, measure, millions), level=info["level"],
        baseline=fmt(row.get("baseline")), target=fmt(row.get("target")), actual=fmt(row.get("actual")),
        achievement=achievement(row.get("achievement")), status=status, status_label=_(STATUS_LABELS[status]),
        trend=_(TREND_LABELS.get(row.get("previous_trend") or "", "–")), previous=fmt(row.get("previous")),
        last_year=fmt(row.get("last_year")), ytd_target=fmt(ytd.get("target")), ytd_actual=fmt(ytd.get("actual")),
        ytd_achievement=achievement(ytd.get("achievement")), ytd_status=ytd.get("status") or "not_reported",
        note=row.get("note") or "", value=row.get("actual"), target_value=row.get("target"),
        coverage=coverage(row), target_source=_borrowed(row, own_plan), target_note=row.get("target_note") or "")


def lineage_note(indicators: dict, code: str) -> str:
    """A retired indicator's replacement and what an indicator replaces, in words (empty when neither;
    snapshots taken before indicators were versioned have neither)."""
    info = indicators.get(code, {})

    def named(other: str) -> str:
        return f"{other} ({indicators.get(other, {}).get('short_name') or other})"

    parts = []
    if info.get("replaced_by"):
        parts.append(_("Retired; replaced by %(indicator)s.", indicator=named(info["replaced_by"])))
    if info.get("replaces"):
        parts.append(_("Replaces %(indicators)s.", indicators=", ".join(named(c) for c in info["replaces"])))
    return " ".join(parts)


def coverage(row: dict) -> str:
    """ "1 of 251 returns" for a figure resting on fewer returns than expected (never for a figure not added)."""
    if row.get("status") in ("not_reported", "not_added"):
        return ""
    return returns_coverage(row.get("returns_received"), row.get("returns_expected"))


def _own_plan(snapshot: dict) -> str | None:
    """The report's own plan as results name it ("SECTOR 2024July"), if it has one."""
    own = snapshot.get("pmp")
    return f"{own['scope']} {own['fiscal_year']}" if own else None


def _borrowed(row: dict, own_plan: str | None) -> str:
    """The source of a target that is not the report's own plan ("sum of programme targets: …")."""
    source = row.get("target_source") or ""
    if not source or (own_plan and row.get("pmp") == own_plan):
        return ""
    return source


def _counts(figures: list[Figure]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for item in figures:
        counts[item.status] += 1
    return counts


def _figures(snapshot: dict, rows: list[dict], ytd_rows: list[dict] | None = None,
             codes: list[str] | None = None, own_plan: str | None = None) -> list[Figure]:
    indicators = snapshot["indicators"]
    ytd = {r["indicator"]: r for r in ytd_rows or []}
    wanted = set(codes) if codes is not None else None
    ordered = sorted(rows, key=lambda r: (r["indicator"][:2], int("".join(c for c in r["indicator"] if c.isdigit()) or 0)))
    own_plan = own_plan or _own_plan(snapshot)
    made = [(_figure(r, indicators[r["indicator"]], ytd.get(r["indicator"]), own_plan), r) for r in ordered
            if wanted is None or r["indicator"] in wanted]
    for item, row in made:
        item.target_revised = is_revised_target(row, snapshot.get("pmp"))
        item.lineage = lineage_note(indicators, item.code)
    return [item for item, _ in made]


def _key_figures(snapshot: dict, rows: list[dict]) -> list[KeyFigure]:
    found = {r["indicator"]: r for r in rows}
    own_plan = _own_plan(snapshot)
    out = []
    for code, label, icon in KEY_FIGURES:
        row, info = found.get(code), snapshot["indicators"][code]
        if row is None:
            continue
        status = row.get("status") or "not_reported"
        out.append(KeyFigure(
            code=code, label=_(label), icon=icon, value=headline(row.get("actual"), info["measure"], info["unit"]),
            target=headline(row.get("target"), info["measure"], info["unit"]) if row.get("target") is not None else _("no target"),
            has_target=row.get("target") is not None,
            achievement=achievement(row.get("achievement")), status=status, status_label=_(STATUS_LABELS[status]),
            last_year=headline(row.get("last_year"), info["measure"], info["unit"]) if row.get("last_year") is not None else "–",
            change=change(row.get("actual"), row.get("last_year"), info["measure"]), note=row.get("note") or "",
            coverage=coverage(row), target_source=_borrowed(row, own_plan),
            target_revised=is_revised_target(row, snapshot.get("pmp"))))
    return out


def _history_charts(snapshot: dict, figures: list[Figure], limit: int | None = None) -> list[Chart]:
    return [Chart(title, uri) for title, uri in trends.history_charts(snapshot, figures, limit)]


def _summary(snapshot: dict, counts: dict[str, int], returns: dict) -> list[str]:
    measured = counts["on_track"] + counts["needs_attention"] + counts["off_track"]
    lines = []
    if measured:
        lines.append(i18n.ngettext(
            # English reads "8 are on track, 1 needs attention" (words.verb) in the branch below
            "Of %(num)s indicator with a target and a figure this quarter, %(on_track)s on track, "
            "%(attention)s needing attention and %(off_track)s off track.",
            "Of %(num)s indicators with a target and a figure this quarter, %(on_track)s on track, "
            "%(attention)s needing attention and %(off_track)s off track.", measured,
            on_track=i18n.number(counts["on_track"]), attention=i18n.number(counts["needs_attention"]),
            off_track=i18n.number(counts["off_track"]))
            if i18n.language() != i18n.DEFAULT else
            f"Of {words.plural(measured, 'indicator')} with a target and a figure this quarter, "
            f"{counts['on_track']} {words.verb(counts['on_track'], 'is', 'are')} on track, "
            f"{counts['needs_attention']} {words.verb(counts['needs_attention'], 'needs', 'need')} attention "
            f"and {counts['off_track']} {words.verb(counts['off_track'], 'is', 'are')} off track.")
    if counts["no_target"]:
        lines.append(i18n.ngettext("%(num)s indicator was reported without a target in the PMP.",
                                   "%(num)s indicators were reported without a target in the PMP.", counts["no_target"]))
    if counts["not_reported"]:
        lines.append(i18n.ngettext("%(num)s indicator has no approved figure for the quarter.",
                                   "%(num)s indicators have no approved figure for the quarter.", counts["not_reported"]))
    if counts["not_added"]:
        lines.append(i18n.ngettext(
            "%(num)s indicator is not added across programmes, because the same people can be in several; the "
            "programme reports give their figures.",
            "%(num)s indicators are not added across programmes, because the same people can be in several; the "
            "programme reports give their figures.", counts["not_added"]))
    overall = returns.get("overall")
    if overall and i18n.language() == i18n.DEFAULT:  # the verb agrees with the returns received
        lines.append(f"{overall['received']} of {words.plural(overall['expected'], 'expected return')} "
                     f"{words.verb(overall['received'], 'was', 'were')} received "
                     f"({percent(overall['completeness'])} complete); {overall['on_time']} by the due date "
                     f"({percent(overall['timeliness'])} on time).")
    elif overall:
        lines.append(i18n.ngettext(
            "%(received)s of %(num)s expected return received (%(complete)s complete); %(on_time)s by the due "
            "date (%(timely)s on time).",
            "%(received)s of %(num)s expected returns received (%(complete)s complete); %(on_time)s by the due "
            "date (%(timely)s on time).", overall["expected"], received=i18n.number(overall["received"]),
            complete=percent(overall["completeness"]), on_time=i18n.number(overall["on_time"]),
            timely=percent(overall["timeliness"])))
    thresholds = snapshot["thresholds"]
    lines.append(_("Status bands: on track at %(on_track)s%% of target or more, needs attention from "
                   "%(attention)s%%, off track below.", on_track=f"{thresholds['on_track']:.0f}",
                   attention=f"{thresholds['needs_attention']:.0f}"))
    return lines


def _method(snapshot: dict) -> list[tuple[str, str]]:
    zone = snapshot.get("timezone", "UTC")
    pmp = snapshot.get("pmp")
    plan = (_("Targets and baselines come from the %(plan)s (version %(version)s, %(reason)s).", plan=pmp["title"],
              version=pmp["version"], reason=pmp["reason"])
            if pmp else _("This scope has no performance monitoring plan of its own for the year."))
    plan += " " + _("Where that plan sets no target for a figure, a county's targets are added up to the national one "
                    "(counts and amounts), and a sector figure takes the target of the only programme reporting it, or "
                    "the sum of the programmes' targets when several report a count or an amount that may be added and "
                    "every one of them has a target; such targets are labelled with their source. A baseline is used "
                    "only at the org unit and plan of its target.")
    on_track, attention = f"{snapshot['thresholds']['on_track']:.0f}", f"{snapshot['thresholds']['needs_attention']:.0f}"
    return [
        (_("Data used"), _("Approved figures only, as of %(as_of)s. Figures submitted but not yet approved by the MERL "
                           "TWG are left out. The report was generated on %(generated)s; its figures are kept with it, "
                           "so generating it again later prints the same numbers.",
                           as_of=_when(snapshot.get("data_as_of"), zone), generated=_when(snapshot.get("generated_at"), zone))),
        (_("Aggregation"), _("Counts and amounts add across counties and programmes. Percentages add their numerators "
                             "and denominators separately and then divide; they are never averages of percentages. "
                             "Within a financial year, flow indicators add their quarters and stock indicators take each "
                             "reporting unit's latest quarter. Indicators that could count the same person twice are "
                             "not added across programmes.")),
        (_("Targets and achievement"), plan + " " + _(
            "Achievement is actual ÷ target for indicators that should rise; for those that should fall it is progress "
            "from the baseline toward the target when the plan promises a fall from the baseline, else target ÷ actual. "
            "It is 100% or more exactly when the target is met, and is printed truncated to a whole percent, so a "
            "missed target never prints as 100%.")),
        (_("Status"), _("On track: %(on_track)s%% of target or more; needs attention: from %(attention)s%%; off track: "
                        "below. Every colour also carries its label, for grey-scale print and colour-blind readers.",
                        on_track=on_track, attention=attention)),
        (_("Completeness and timeliness"), _("Completeness is returns received (submitted or approved) ÷ returns "
                                             "expected from the reporting forms; timeliness counts only those received "
                                             "by the due date (15 days after the quarter).")),
        (_("Units"), _("Money has one notation in cards, tables, charts and text: millions of Kenya shillings to one "
                       "decimal (KES 240.5 m; KES 10,204.3 m rather than billions), amounts under a million in whole "
                       "shillings (KES 2,000); a table column headed KES m holds the same number of millions. "
                       "Absorption is spend to date ÷ budget. A programme's budget is the PMP's annual target of its "
                       "disbursement indicator, labelled \"budget (PMP target for the financial year)\", as the PMP has "
                       "no budget of its own. Breakdowns by sex and age add the figures of each option (ratios add their "
                       "numerators and denominators, then divide) and equal the results API's answer by option; "
                       "shares are of the figures broken down. Percentages to one decimal. Changes of a percentage are "
                       "in percentage points (pts), changes of counts and amounts relative (%). Figures are rounded "
                       "once, when printed. A figure resting on fewer returns than expected says so (\"40 of 47 "
                       "returns\").")),
    ]


def _header(snapshot: dict, *, is_draft: bool, reference: str, accessible: bool) -> dict:
    kind = snapshot["kind"]
    if kind == "programme":
        scope = f"{snapshot['programmes'][snapshot['programme']]['name']} ({snapshot['programme']})"
    elif kind == "county":
        scope = _("%(county)s County (%(code)s)", county=snapshot["org_unit_name"], code=snapshot["org_unit"])
    else:
        scope = _("Kenya, all programmes")
    label = i18n.period_label(snapshot["period"]) if i18n.language() != i18n.DEFAULT else snapshot["period_label"]
    return {"kind": kind, "title": _(KIND_TITLES[kind]), "subtitle": label,
            "period": snapshot["period"], "period_label": label, "scope": scope,
            "generated_at": _when(snapshot.get("generated_at"), snapshot.get("timezone", "UTC")),
            "data_as_of": _when(snapshot.get("data_as_of"), snapshot.get("timezone", "UTC")),
            "is_draft": is_draft, "reference": reference, "accessible": accessible,
            "language": i18n.language(), "catalogues": i18n.folder()}


def _pillar_sections(snapshot: dict, figures: list[Figure], chart_limit: int | None = None) -> list[PillarSection]:
    sections = []
    for pillar in snapshot["pillars"]:
        mine = [f for f in figures if snapshot["indicators"][f.code]["pillar"] == pillar["code"]]
        if mine:
            sections.append(PillarSection(pillar["code"], pillar["name"], pillar["description"], mine,
                                          _history_charts(snapshot, mine, chart_limit), _counts(mine),
                                          evidence_for(snapshot, pillar["code"])))
    return sections


def _returns(snapshot: dict) -> dict:
    returns = snapshot.get("returns") or {}
    names = {**{c: p["name"] for c, p in snapshot["programmes"].items()}, **snapshot["counties"],
             "KE": _("Kenya (national)")}
    for key, field_name in (("by_programme", "programme"), ("by_org_unit", "org_unit")):
        for row in returns.get(key, []):
            row["name"] = names.get(row[field_name], row[field_name])
    return returns


def _completeness_chart(returns: dict, programmes: dict) -> str:
    return trends.completeness_chart(returns, programmes)


def _quality(quality: dict) -> dict:
    """The data-quality annex: the snapshot's part, with its explained warnings counted by reason
    (a snapshot taken before reasons were kept: the reason of each explanation's text)."""
    if not quality:
        return {}
    codes = (reason(f.get("explanation_code") or "", f.get("explanation") or "")[0]
             for f in quality.get("flags", []))
    return {**quality, "by_reason": tally(codes)}


def build(snapshot: dict, *, is_draft: bool = True, reference: str = "", accessible: bool = False) -> Report:
    """The report model of a snapshot (any kind)."""
    report = Report(**_header(snapshot, is_draft=is_draft, reference=reference, accessible=accessible))
    report.method = _method(snapshot)
    report.revision_note = revision_note(snapshot.get("pmp"))
    report.returns = _returns(snapshot)
    report.quality = words.quality_words(_quality(snapshot.get("quality") or {}), snapshot["programmes"],
                                         snapshot["indicators"])
    figures = _figures(snapshot, snapshot["results"], snapshot.get("ytd"))
    report.glossary = glossary_of(snapshot, [f.code for f in figures])
    report.key_figures = _key_figures(snapshot, snapshot["results"])
    report.status_counts = _counts(figures)
    report.status_strip = charts.data_uri(charts.status_strip(report.status_counts, width=trends.WIDE_WIDTH,
                                                              title=_("Status of all indicators this quarter")))
    report.summary = _summary(snapshot, report.status_counts, report.returns)
    report.completeness_chart = _completeness_chart(report.returns, snapshot["programmes"])
    report.story = story.attach(snapshot, report.key_figures, figures)
    kind = snapshot["kind"]
    report.who = who_is_reached(snapshot, charts_limit={"factsheet": 0, "county": 2}.get(kind, 4),
                                sex_rows=5 if kind == "factsheet" else None)
    report.money = workplan_money(snapshot) if kind == "sector" else programme_money(snapshot)
    if kind == "county":
        for code, rows in snapshot.get("by_programme", {}).items():
            mine = _figures(snapshot, rows, own_plan=f"{code} {snapshot['fiscal_year']}")
            name = snapshot["programmes"][code]["name"]
            report.programmes.append(PillarSection(code, name, "", mine, [], _counts(mine)))
        # one trend chart a pillar, and the county's coverage among the other counties
        report.pillars = _pillar_sections(snapshot, figures, chart_limit=1)
        report.locator = locator_uri(snapshot["org_unit"], snapshot["org_unit_name"])
        report.maps = county_maps(snapshot, 1, map_width=170, highlight=snapshot["org_unit"])
        return report
    report.pillars = _pillar_sections(snapshot, figures, chart_limit=1 if kind == "factsheet" else None)
    if kind in ("sector", "factsheet"):
        # the fact sheet's map a little smaller in a language that runs longer than English: two pages
        report.maps = county_maps(snapshot, limit=4) if kind == "sector" else county_maps(
            snapshot, 1, map_width=170 if i18n.language() == i18n.DEFAULT else 150)
    if kind in ("sector", "programme"):
        report.counties = _county_pages(snapshot) if kind == "sector" else []
        report.county_table = _county_table(snapshot) if kind == "programme" else []
    if kind == "sector":
        report.workplan = _workplan(snapshot)
    return report


def _county_pages(snapshot: dict) -> list[CountyPage]:
    by_unit: dict[str, list[dict]] = {}
    for row in snapshot.get("by_county", []):
        if row.get("actual") is not None or row.get("target") is not None:
            by_unit.setdefault(row["org_unit"], []).append(row)
    returns = {r["org_unit"]: r for r in (snapshot.get("returns") or {}).get("by_org_unit", [])}
    pages = []
    for code, name in snapshot["counties"].items():
        figures = _figures(snapshot, by_unit.get(code, []))
        pages.append(CountyPage(code, name, figures, returns.get(code),
                                charts.data_uri(charts.status_strip(_counts(figures), width=trends.STRIP_WIDTH,
                                                                    title=_("%(county)s: status of indicators", county=name))),
                                locator_uri(code, width=80, caption=False)))
    return pages


def _county_table(snapshot: dict) -> list[dict]:
    """Programme report: each county's figure for the programme's indicators (first five)."""
    codes = snapshot.get("carried", [])[:5]
    info = snapshot["indicators"]
    returns = {r["org_unit"]: r for r in (snapshot.get("returns") or {}).get("by_org_unit", [])}
    cells: dict[str, dict[str, str]] = {}
    for row in snapshot.get("by_county", []):
        if row["indicator"] in codes:
            i = info[row["indicator"]]
            text = kes(row.get("actual")) if i["unit"] == "KES" else figure(row.get("actual"), i["measure"], i["unit"])
            cells.setdefault(row["org_unit"], {})[row["indicator"]] = text
    return [{"code": code, "name": snapshot["counties"].get(code, code), "cells": [cells.get(code, {}).get(c, "–") for c in codes],
             "returns": returns.get(code), "codes": codes, "names": [info[c]["short_name"] for c in codes]}
            for code in sorted(set(cells) | set(returns)) if code in snapshot["counties"]]


# The work-plan activities' status words (indicators/workplan.py ACTIVITY_STATUSES, the templates'
# ACTIVITY_LABELS), listed here to be extracted; the templates translate them where they print them.
ACTIVITY_WORDS = (N_("Not started"), N_("On track"), N_("Delayed"), N_("Completed"), N_("Dropped"))


def _workplan(snapshot: dict) -> list[WorkingGroup]:
    plan = snapshot.get("workplan")
    if not plan:
        return []
    groups = []
    for code, name in plan["working_groups"].items():
        activities = [a for a in plan["activities"] if a["working_group"] == code]
        if not activities:
            continue
        counts: dict[str, int] = {}
        for activity in activities:
            status = (activity["current"] or {}).get("status", "not_started")
            counts[status] = counts.get(status, 0) + 1
        budget = sum(float(a["budget_kes"] or 0) for a in activities)
        groups.append(WorkingGroup(code, name, activities, counts, kes(budget)))
    return groups
