"""The charts, maps and breakdowns of a report in Kiswahili: every word from the catalogue, the same figures
as in English, and English untouched outside `speaking` (reports/i18n.py)."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

from indicators.compile import STATUS_LABELS
from mel.i18n import SOURCES, compile_catalogues
from reports import breakdown_charts as bc
from reports import charts, glossary, maps, trends
from reports.county_maps import county_maps, in_context, locator_uri
from reports.disaggregation import who_is_reached
from reports.format import kes
from reports.i18n import speaking
from reports.money import programme_money, workplan_money
from reports.revisions import revision_note

NS = "{http://www.w3.org/2000/svg}"
MODULES = ("charts", "trends", "county_maps", "maps", "breakdown_charts", "disaggregation", "chart_text",
           "glossary", "money", "revisions")
QUARTERS = ["2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"]
LABELS = ["FY23/24 Q1", "FY23/24 Q2", "FY23/24 Q3", "FY23/24 Q4", "FY24/25 Q1", "FY24/25 Q2", "FY24/25 Q3",
          "FY24/25 Q4"]
AGES = [("A00_17", "Miaka 0-17"), ("A18_34", "Miaka 18-34"), ("A35_59", "Miaka 35-59"), ("A60_69", "Miaka 60-69"),
        ("A70P", "Miaka 70 na zaidi")]
SEX = {"code": "sex", "name": "Jinsia", "options": [{"code": "F", "name": "Mwanamke"}, {"code": "M", "name": "Mwanamume"}]}
AGE = {"code": "age_group", "name": "Kundi la umri", "options": [{"code": c, "name": n} for c, n in AGES]}
SETS = {"sex": {"name": "Jinsia", "categories": [SEX], "combos": {"F": "Mwanamke", "M": "Mwanamume", "total": "Jumla"}},
        "sex_age": {"name": "Jinsia na umri", "categories": [SEX, AGE],
                    "combos": {f"{s}_{a}": f"{s}, {a}" for s in "FM" for a, _ in AGES} | {"total": "Jumla"}}}
# English words the charts print (a word of a Kiswahili translation, "lengo", "Robo", is none of these)
ENGLISH = ["On track", "Needs attention", "Off track", "No target", "Not added", "Not reported", "not reported",
           "No figures yet", "Per cent", "Number", "Quarter", "Financial year", "target", "n/a", "Indicator status",
           "Women", "Men", "Aged", "Girls", "Boys", "No data", "county", "counties", "County", "Kenya shillings",
           "Days", "contributors", "Classes", "quantiles", "Map of", "by county", "achievement", "Approved",
           "highest first", "Budget", "Spent to date", "Disbursed", "no budget", "no spend", "working group",
           "Joint work plan", "by sex and age group", "by age group", "among those reached", "not broken down",
           "Returns received", "all on time", "expected returns", "Targets marked", "revision", "within Kenya",
           "FY", "to date", "5th", "of "]
SUFFIXES = re.compile(r"\d(?:k|M|bn)\b|\d m\b|\d k\b")  # 812k, 1.4M, 50bn, 1.5 m: English short numbers
NUMBER = re.compile(r"\d(?:[\d,]*\d)?(?:\.\d+)?")
# A period on an axis ("FY24/25 Q1", "Robo 1, 24/25", or a line of it): wider words leave room for fewer
AXIS_PERIOD = re.compile(r"FY\d\d/\d\d Q\d|FY\d{4}/\d\d|Robo \d, \d\d/\d\d|Mwaka wa Fedha \d{4}/\d\d"
                         r"|FY\d\d/\d\d|Q\d|Robo \d,|\d\d/\d\d|\d{4}/\d\d")


@pytest.fixture(scope="module")
def catalogues(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("translations")
    compile_catalogues(folder)
    return folder


def demo_snapshot() -> dict:
    """A quarter of the demo data, in the shape mel/reporting/snapshot.py writes, its names in Kiswahili."""
    codes = [code for code, _, _ in maps.counties()]
    counties = {code: name for code, name, _ in maps.counties()}
    indicators = {
        "SA02": {"name": "Wazee wanaolipwa na OPCT", "short_name": "Wazee wanaolipwa", "measure": "count",
                 "unit": "number", "frequency": "quarterly", "factor": None, "reported_by": ["OPCT"]},
        "SA03": {"name": "Wazee wa miaka 70+ wanaofikiwa", "short_name": "Wazee wanaofikiwa", "measure": "ratio",
                 "unit": "percent", "frequency": "annual", "factor": 100, "reported_by": ["OPCT"]},
        "SA07": {"name": "Kaya za HSNP zinazolipwa", "short_name": "Kaya za HSNP", "measure": "count",
                 "unit": "number", "frequency": "quarterly", "factor": None, "reported_by": ["HSNP"]},
        "SA10": {"name": "Fedha za uhamisho zilizotolewa", "short_name": "Fedha zilizotolewa", "measure": "amount",
                 "unit": "KES", "frequency": "quarterly", "factor": None, "reported_by": ["OPCT"]},
    }
    values = {f"{s}_{a}": (120_000 if s == "F" else 90_000) * (n + 1) for s in "FM" for n, (a, _) in enumerate(AGES)}
    by_option = [{"indicator": "SA02", "option": o, "actual": float(v), "last_year": float(v) * 0.9}
                 for o, v in values.items()]
    by_option.append({"indicator": "SA02", "option": "total", "actual": 5_000.0})
    option_history = {"quarters": QUARTERS[-4:], "labels": LABELS[-4:], "series": {"SA02": {
        o: {"actual": [v * (0.7 + q / 10) for q in range(4)], "numerator": [None] * 4, "denominator": [None] * 4}
        for o, v in values.items()}}}
    by_county = [{"indicator": "SA03", "org_unit": c, "actual": 40.0 + n * 1.3 if n % 9 else None,
                  "achievement": None} for n, c in enumerate(codes)]
    by_county += [{"indicator": "SA07", "org_unit": c, "actual": 1_000.0 * (n + 1), "achievement": 70.0 + 6 * n}
                  for n, c in enumerate(codes[:9])]
    workplan = {"fiscal_year": "2024July", "fiscal_year_label": "FY2024/25 (Jul 2024–Jun 2025)",
                "working_groups": {"SERA": "Sera", "MERL": "MERL"},
                "activities": [{"code": "SER-01", "title": "Sheria ya hifadhi ya jamii", "working_group": "SERA",
                                "budget_kes": "18000000.00", "current": {"spend_to_date": "9000000.00"}},
                               {"code": "MER-01", "title": "Uzinduzi", "working_group": "MERL",
                                "budget_kes": "2500000", "current": None}]}
    return {
        "kind": "factsheet", "period": "2025Q2", "period_label": "FY2024/25 Q4 (Apr–Jun 2025)",
        "fiscal_year": "2024July", "fiscal_year_label": "FY2024/25 (Jul 2024–Jun 2025)",
        "indicators": indicators, "counties": counties, "by_county": by_county,
        "programmes": {"OPCT": {"name": "Inua Jamii – Uhamisho wa fedha kwa wazee"},
                       "HSNP": {"name": "Mpango wa Hunger Safety Net"}},
        "history": {"quarters": QUARTERS, "labels": LABELS, "series": {
            "SA02": [810_000.0, 815_500.0, None, 830_000.0, 845_250.0, 860_000.0, 871_000.0, 1_020_000.0],
            "SA03": [None, None, None, 73.7, None, None, None, 78.1]}},
        "by_option": by_option, "option_history": option_history,
        "disaggregation": {"sets": SETS, "indicators": {"SA02": "sex_age"}},
        "ytd": [{"indicator": "SA10", "actual": 30e9}],
        "budgets": [{"indicator": "SA10", "fiscal_year": "2024July", "fiscal_year_label": "FY2024/25",
                     "budget": 40e9, "source": "", "note": ""}],
        "workplan": workplan,
        "pmp": {"version": 2, "title": "PMP ya sekta 2024/25", "reason": "bajeti ilipunguzwa"},
        "returns": {"by_programme": [{"programme": "OPCT", "timeliness": 96.0}, {"programme": "HSNP", "timeliness": 40.0}]},
    }


def svg_of(uri: str) -> str:
    return base64.b64decode(uri.split(",", 1)[1]).decode("utf-8")


def words(svg: str) -> list[str]:
    """What a reader meets in a chart: its texts, its title (tooltips too) and its aria-label."""
    root = ET.fromstring(svg)
    found = [root.get("aria-label") or ""]
    found += [element.text or "" for element in root.iter() if element.tag in (f"{NS}text", f"{NS}title")]
    return found


def pieces() -> dict[str, list[str]]:
    """The words of every chart, map, caption and sentence these modules make for the demo quarter."""
    snapshot = demo_snapshot()
    history = snapshot["history"]
    made: dict[str, list[str]] = {}
    for code in ("SA02", "SA03"):
        info = snapshot["indicators"][code]
        made[f"trend {code}"] = words(trends.trend_chart(info, code, info["name"], QUARTERS, LABELS,
                                                         history["series"][code], 80.0))
    made["returns"] = words(svg_of(trends.completeness_chart(snapshot["returns"], snapshot["programmes"])))
    made["status strip"] = words(charts.status_strip({"on_track": 5, "needs_attention": 2, "off_track": 1,
                                                      "no_target": 3, "not_added": 1, "not_reported": 2}))
    made["no indicators"] = words(charts.status_strip({}))
    made["hbar"] = words(charts.hbar_chart(["Inua Jamii", "HSNP", "CT-OVC"], [96.0, None, 40.0], title="Ripoti",
                                           statuses=["on_track", "not_reported", "off_track"], reference=90))
    made["bars"] = words(charts.bar_chart(LABELS[:4], [12_500.0, None, 2.4e6, 3.1e9], title="Malipo", target=2e9))
    made["no figures"] = words(charts.line_chart(LABELS[:2], [None, None], title="Hakuna"))
    for item in county_maps(snapshot, limit=4, highlight="042"):
        made[f"map {item.code}"] = [item.title, item.alt, *words(svg_of(item.uri))]
    values = {r["org_unit"]: r["actual"] for r in snapshot["by_county"] if r["indicator"] == "SA03"}
    made["in context"] = [in_context(values, "042", "Kisumu", lambda v: f"{v:.1f}%"),
                          in_context(values, "001", "Mombasa", lambda v: f"{v:.1f}%")]
    made["locator"] = words(svg_of(locator_uri("042", "Kisumu")))
    who = who_is_reached(snapshot, charts_limit=2)
    assert who is not None
    made["who"] = [*who.age_groups, *(p.label for b in who.breakdowns for s in b.splits for p in s.parts),
                   *words(svg_of(who.sex_chart)), *(w for v in who.pyramids + who.trends for w in words(svg_of(v.uri))),
                   *(v.title for v in who.pyramids + who.trends)]
    made["split bars"] = words(bc.split_bars([("Wazee", []), ("Kaya", [("Wanawake", 3.0), ("Wanaume", 1.0)])],
                                             title="Jinsia"))
    made["pyramid"] = words(bc.pyramid(["0–17", "70+"], [None, 5.0], [2.0, None], title="Umri"))
    made["budget bars"] = words(bc.budget_bars([("Sera", 18e6, 9e6), ("MERL", None, None)], title="Bajeti",
                                               money=kes))
    money = workplan_money(snapshot)
    programme = programme_money(snapshot)
    assert money is not None and programme is not None
    made["money"] = [money.title, *(g.name for g in [*money.lines, money.total] if g), *words(svg_of(money.chart)),
                     programme.title, *(g.note for g in programme.lines), *words(svg_of(programme.chart))]
    made["revision"] = [revision_note(snapshot["pmp"]), revision_note({**snapshot["pmp"], "reason": ""})]
    return made


def english_in(text: str) -> list[str]:
    return [w for w in ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]


def test_the_status_words_marked_for_the_catalogue_are_those_of_indicators_compile():
    assert sorted(charts._STATUS_WORDS) == sorted(STATUS_LABELS.values())


def test_every_word_of_the_charts_has_a_kiswahili_translation():
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    reports = Path(charts.__file__).parent
    wanted = {message if isinstance(message, str) else message[0]
              for module in MODULES
              for _, message, _, _ in extract_from_file("python", reports / f"{module}.py", keywords=keywords)}
    with (SOURCES / "sw" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        swahili = read_po(handle, locale="sw")
    missing = sorted(m for m in wanted if not (swahili.get(m) and all(swahili.get(m).string or [""])))
    assert len(wanted) > 100 and missing == []


def test_in_kiswahili_the_charts_maps_and_breakdowns_print_no_english_word(catalogues):
    with speaking("sw", catalogues):
        swahili = pieces()
    leftovers = {name: english_in(" ¶ ".join(texts)) for name, texts in swahili.items()}
    assert {name: found for name, found in leftovers.items() if found} == {}
    short = {name: SUFFIXES.findall(" ".join(texts)) for name, texts in swahili.items()}
    assert {name: found for name, found in short.items() if found} == {}
    everything = " ".join(w for texts in swahili.values() for w in texts)
    for expected in ("Inaendelea vizuri", "Wanawake", "Wanaume", "Umri 70+", "Hakuna takwimu", "lengo",
                     "© wachangiaji wa OpenStreetMap", "Kaunti ya Kisumu ndani ya Kenya", "Robo 4, 24/25",
                     "Mwaka wa Fedha 2024/25", "nafasi ya", "milioni"):
        assert expected in everything, expected


def test_the_figures_are_the_same_in_both_languages(catalogues):
    english = pieces()
    with speaking("sw", catalogues):
        swahili = pieces()
    assert english.keys() == swahili.keys()
    def figures(texts: list[str]) -> set[str]:
        """The figures printed (a label that gives way to another in one language may print in the other:
        which, not how often)."""
        return set(NUMBER.findall(" ".join(t for t in texts if not AXIS_PERIOD.fullmatch(t))))

    for name in english:
        assert figures(swahili[name]) == figures(english[name]), name
    # where nothing gives way (maps, breakdowns, money, sentences), the same figures as often
    for name in [n for n in english if not n.startswith(("trend", "bars", "hbar"))]:
        assert Counter(NUMBER.findall(" ".join(swahili[name]))) == Counter(NUMBER.findall(" ".join(english[name]))), name


def test_outside_speaking_and_in_english_the_words_stay_english(catalogues):
    before = pieces()
    with speaking("sw", catalogues):
        pieces()
    with speaking("en", catalogues):
        in_english = pieces()
    assert pieces() == before == in_english
    everything = " ".join(w for texts in before.values() for w in texts)
    for expected in ("On track", "Women", "Men", "Aged 70+", "No data", "target 80", "© OpenStreetMap contributors",
                     "Kisumu County within Kenya", "FY24/25 Q4", "FY2024/25", "5th", "not reported", "Quarter",
                     "Per cent", "1.02M", "all on time", "Women and men among those reached"):
        assert expected in everything, expected


def test_the_glossary_annex_words_its_meanings_and_frequencies_in_the_report_language(catalogues):
    snapshot = demo_snapshot()
    english = glossary.build(snapshot, ["SA02", "SA03"])
    with speaking("sw", catalogues):
        swahili = glossary.build(snapshot, ["SA02", "SA03"])
    meanings = {e.term: e.meaning for e in swahili.acronyms}
    assert [e.term for e in swahili.acronyms] == [e.term for e in english.acronyms]
    assert meanings["KES"] == "Shilingi za Kenya" and meanings["pts"] == "Pointi za asilimia"
    assert meanings["FY"].startswith("Mwaka wa Fedha")
    assert [m.frequency for m in swahili.methods] == ["Kila robo ya mwaka", "Mara moja kwa mwaka"]
    assert [m.frequency for m in english.methods] == ["Every quarter", "Once a year"]
