"""The reporting guidelines handbook: a plain model built from an edition's content, laid out as HTML
and as PDF (WeasyPrint, with reports/render.py's environment and local-only fetcher).

The content is the JSON an edition keeps (mel/guidelines/queries.py `handbook_content`). The model is
built in the language being spoken (reports/i18n.py `speaking`): the handbook's own words through the
catalogues, the catalogue's names and definitions in Kiswahili where the catalogue has them and in
English, marked, where it does not; codes, identifiers and README's quoted rules stay as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from indicators.compile import STATUS_LABELS
from indicators.explanations import label_of
from indicators.messages import from_data, say
from indicators.periods import parse_period
from reports import format as fmt
from reports import glossary, i18n, quoted
from reports.glossary import Entry, Glossary
from reports.i18n import N_, _

TEMPLATE = "handbook.html"
# Words of the handbook's own (its glossary); the sector's acronyms come from reports/glossary.py.
TERMS = (
    ("Org unit", N_("Where figures are reported for: Kenya (KE) or one of the 47 counties (001–047).")),
    ("Return", N_("One programme's figures for one org unit and one quarter, with its narrative and state.")),
    ("Reporting form", N_("What a programme reports: its indicators, its org units and its submission window.")),
    ("Window", N_("The days after a quarter ends in which its returns are sent: opens, due, closes.")),
    ("Option", N_("One cell of a disaggregation (women 70+, men, total); DHIS2 calls it a category option combo.")),
    ("Warning", N_("A figure far from its history or breaking a rule of severity warning: it needs an explanation.")),
    ("Catalogue version", N_("A short digest of every indicator sheet, form and rule: the same catalogue gives the same version.")),
)


@dataclass(frozen=True)
class Said:
    """A catalogue text in the handbook's language; `english` when the Kiswahili one is missing."""

    text: str
    english: bool = False


@dataclass
class Sheet:
    number: str
    code: str
    fields: dict  # the reference sheet as the catalogue keeps it (codes of levels, units, …)
    name: Said
    short_name: Said
    definition: Said
    pillar: Said
    node: str
    disaggregation: Said
    options: list[dict]
    reporters: list[dict]
    rules: list[dict]
    elements: list[dict]
    uid: str
    version: int


@dataclass
class Handbook:
    language: str
    edition: int | None  # None: the current catalogue, not kept as an edition
    made_on: str
    catalogue_version: str
    note: str
    changes: dict
    quarter: str
    review_days: int
    forms: list[dict]
    calendar: list[dict]
    roles: list[tuple[str, str]]
    template: dict
    example: dict
    api_example: dict
    base_url: str
    readme: list
    sheets: list[Sheet]
    glossary: Glossary
    terms: list[Entry]
    annex: list[dict]
    annex_years: list[str]
    org_units: list[dict]
    programmes: list[dict]
    retired: list[dict] = field(default_factory=list)
    changes_lines: list[str] = field(default_factory=list)

    @property
    def toc(self) -> list[tuple[str, str]]:
        return [("s1", "1. " + _("About this handbook")), ("s2", "2. " + _("The quarterly reporting cycle")),
                ("s3", "3. " + _("Roles")), ("s4", "4. " + _("Filling in a return in the web grid")),
                ("s5", "5. " + _("The Excel tool")), ("s6", "6. " + _("The import API and DHIS2 clients")),
                ("s7", "7. " + _("Rules of compilation and achievement")),
                ("s8", "8. " + _("Indicator reference sheets")), ("s9", "9. " + _("Glossary")),
                ("annex-a", _("Annex A. Indicator history")), ("annex-b", _("Annex B. Codes and identifiers"))]

    @property
    def title(self) -> str:
        return _("Reporting guidelines handbook")

    @property
    def running_head(self) -> str:
        edition = _("Edition %(number)s", number=self.edition) if self.edition else _("Current catalogue (not an edition)")
        return f"{self.title} · {edition} · {_('Catalogue %(version)s', version=self.catalogue_version)}"


def said(words) -> str:
    """A message kept as data (indicators/messages.py `as_data`) in the handbook's language."""
    return say(from_data(words), lambda msgid: _(msgid)) if words is not None else ""


def localised(entry: dict | None, name: str = "name") -> Said:
    """An entry's text in the handbook's language: Kiswahili when written, else English (marked in Kiswahili)."""
    entry = entry or {}
    english = str(entry.get(name) or "")
    if i18n.language() == "sw":
        written = str(entry.get(f"{name}_sw") or "").strip()
        return Said(written) if written else Said(english, english=bool(english))
    return Said(english)


def day(iso: str) -> str:
    return i18n.day(date.fromisoformat(iso))


def period(identifier: str | None, short: bool = False) -> str:
    return i18n.period_label(identifier, short=short) if identifier else ""


def _covers(stretch: dict, quarter: str) -> bool:
    q = parse_period(quarter)
    return ((stretch.get("from") is None or parse_period(stretch["from"]) <= q)
            and (stretch.get("until") is None or q < parse_period(stretch["until"])))


def _current(form: dict, quarter: str) -> dict:
    """The stretch of a form's contents that applies in `quarter` (nothing asked: empty)."""
    return next((s for s in form["contents"] if _covers(s, quarter)), {"indicators": [], "org_units": []})


def _window_days(form: dict, quarter: str) -> dict:
    q = parse_period(quarter)
    applying = [w for w in form["windows"] if parse_period(w["from"]) <= q]
    return applying[-1] if applying else form["window"]


def _forms(content: dict, quarter: str) -> list[dict]:
    programmes = content["texts"]["programmes"]
    out = []
    for code, form in content["catalogue"]["forms"].items():
        now = _current(form, quarter)
        later = [s for s in form["contents"] if s.get("from") and parse_period(s["from"]) > parse_period(quarter)]
        later_windows = [w for w in form["windows"] if parse_period(w["from"]) > parse_period(quarter)]
        out.append({"code": code, "programme": form["programme"], "name": localised(programmes.get(form["programme"])),
                    "days": _window_days(form, quarter), "indicators": now["indicators"],
                    "org_units": len(now["org_units"]), "later": later, "later_windows": later_windows})
    return out


def _calendar(content: dict) -> list[dict]:
    out = []
    forms = content["catalogue"]["forms"]
    for quarter in content["calendar"]["quarters"]:
        groups: dict[tuple, list[str]] = {}
        for code, window in quarter["windows"].items():
            groups.setdefault((window["opens"], window["due"], window["closes"]), []).append(code)
        out.append({"quarter": quarter["quarter"], "label": period(quarter["quarter"]), "ends": day(quarter["ends"]),
                    "review": day(quarter["review_deadline"]),
                    "groups": [{"forms": codes if len(codes) < len(forms) else [], "opens": day(o), "due": day(d),
                                "closes": day(c)} for (o, d, c), codes in sorted(groups.items())]})
    return out


def _sheet(number: str, code: str, content: dict, quarter: str) -> Sheet:
    texts = content["texts"]
    entry = content["catalogue"]["indicators"][code]
    fields, words = entry["sheet"], texts["indicators"].get(code, {})
    dset = texts["disaggregations"].get(fields.get("disaggregation") or "", {})
    reporters = []
    for form_code, form in content["catalogue"]["forms"].items():
        for item in _current(form, quarter)["indicators"]:
            if item["indicator"] == code:
                reporters.append({"programme": form["programme"], "form": form_code, "required": item["required"],
                                  "name": localised(texts["programmes"].get(form["programme"]))})
    rules = []
    for rule_code, rule in content["catalogue"]["rules"].items():
        if rule.get("is_active") and code in (texts["rules"].get(rule_code) or {}).get("indicators", []):
            rules.append({**rule, "words": said(texts["rules"][rule_code]["words"])})
    node = words.get("results_node")
    return Sheet(number=number, code=code, fields=fields, name=localised(words), short_name=localised(words, "short_name"),
                 definition=localised(words, "definition"), pillar=localised(texts["pillars"].get(fields.get("pillar"))),
                 node=f"{node['code']} {localised(node).text}" if node else "", disaggregation=localised(dset),
                 options=[{**c, "label": localised(c)} for c in dset.get("combos", [])],
                 reporters=reporters, rules=rules, elements=words.get("elements", []), uid=words.get("uid", ""),
                 version=entry["version"])


def _example(content: dict, quarter: str) -> tuple[dict, dict]:
    """A DHIS2 dataValueSets payload and an /api/v1 write for one real form, indicator and county: a count
    split by two options with their total where the catalogue has one, and a ratio's two parts."""
    texts, catalogue = content["texts"], content["catalogue"]
    for form_code, form in catalogue["forms"].items():
        current = _current(form, quarter)
        counties = [u for u in current["org_units"] if u != "KE"] or current["org_units"]
        for item in current["indicators"]:
            sheet = catalogue["indicators"][item["indicator"]]["sheet"]
            combos = texts["disaggregations"].get(sheet.get("disaggregation") or "", {}).get("combos", [])
            parts = [c for c in combos if not c["is_total"] and c["is_active"]]
            total = next((c for c in combos if c["is_total"]), None)
            if sheet["measure"] != "count" or len(parts) != 2 or total is None or not counties:
                continue
            values = [(parts[0], 1200), (parts[1], 900), (total, 2100)]
            dhis2: dict = {"dataSet": form_code, "period": quarter, "orgUnit": counties[0],
                     "attributeOptionCombo": form["programme"],
                     "dataValues": [{"dataElement": item["indicator"], "categoryOptionCombo": c["dhis2_code"],
                                     "value": str(v)} for c, v in values]}
            ratio = next((i["indicator"] for i in current["indicators"]
                          if catalogue["indicators"][i["indicator"]]["sheet"]["measure"] == "ratio"), None)
            write = [{"indicator": item["indicator"], "option": c["code"], "value": v} for c, v in values[:2]]
            if ratio:
                ratio_set = catalogue["indicators"][ratio]["sheet"].get("disaggregation") or ""
                ratio_combos = texts["disaggregations"].get(ratio_set, {}).get("combos", [])
                whole = next((c["code"] for c in ratio_combos if c["is_total"]),
                             ratio_combos[0]["code"] if ratio_combos else "default")
                write += [{"indicator": f"{ratio}.N", "option": whole, "value": 950},
                          {"indicator": f"{ratio}.D", "option": whole, "value": 1000}]
            body: dict = {"version": 0, "values": write, "narrative": "Two payment cycles paid."}
            return ({"json": _compact(dhis2, "dataValues"), "form": form_code,
                     "programme": form["programme"], "org_unit": counties[0], "indicator": item["indicator"]},
                    {"path": f"/api/v1/returns/{form['programme']}/{counties[0]}/{quarter}",
                     "json": _compact(body, "values")})
    return {}, {}


def _compact(payload: dict, listed: str) -> str:
    """JSON as people read it in a manual: one line per key, one line per item of the list `listed`."""
    lines = []
    for key, value in payload.items():
        if key == listed:
            items = ",\n".join("    " + json.dumps(item, ensure_ascii=False) for item in value)
            lines.append(f'  "{key}": [\n{items}\n  ]')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def _quality_words(quality: dict) -> str:
    reasons = "; ".join(f"{_(label_of(r['code']) or r['code'])} {r['count']}" for r in quality["reasons"])
    parts = []
    if quality["warnings"]:
        parts.append(_("%(warnings)s warnings on approved returns, %(explained)s explained%(reasons)s",
                       warnings=quality["warnings"], explained=quality["explained"],
                       reasons=f" ({reasons})" if reasons else ""))
    if quality.get("returned"):
        parts.append(_("returns sent back for correction: %(count)s", count=quality["returned"]))
    if quality.get("reopened"):
        parts.append(_("approved returns reopened: %(count)s", count=quality["reopened"]))
    if quality.get("revised"):
        parts.append(_("figures revised after publication: %(count)s", count=quality["revised"]))
    return _("Data quality: %(notes)s.", notes="; ".join(parts)) if parts else ""


def _annex_row(row: dict, measure: str, unit: str, millions: bool) -> dict:
    notes = []
    if not row.get("complete", True):
        notes.append(_("Year to date: the year is not over; its figure and achievement are of the quarters "
                       "reported so far."))
    if row["status"] == "not_added":
        notes.append(_("Not added: the same people may be counted in several programmes, so no national figure "
                       "is added up."))
    coverage = fmt.returns_coverage(row.get("received"), row.get("expected"))
    if coverage and row["actual"] is not None:
        notes.append(_("Partial: %(coverage)s.", coverage=coverage))
    if row.get("note") and row["target"] is None:
        notes.append(_("No target: %(why)s.", why=said(row["note"])))
    if row.get("revisions"):
        notes.append(_("Target revisions: %(list)s.", list="; ".join(
            _("%(scope)s PMP v%(version)s %(value)s (%(reason)s)", scope=r["scope"], version=r["version"],
              value=fmt.figure(r["value"], measure, unit), reason=r["reason"] or "–") for r in row["revisions"])))
    if row.get("quality"):
        notes.append(_quality_words(row["quality"]))
    return {"fy": period(row["fy"], short=True),
            "quarters": [fmt.figure(q["actual"], measure, unit, millions) for q in row["quarters"]],
            "year": fmt.figure(row["actual"], measure, unit, millions),
            "target": fmt.figure(row["target"], measure, unit, millions),
            "source": said(row["source"]) if row.get("source") and row["target"] is not None else "",
            "achievement": fmt.achievement(row["achievement"]) if row["achievement"] is not None else "–",
            "status": row["status"], "notes": [n for n in notes if n]}


def _annex(content: dict, sheets: list[Sheet]) -> list[dict]:
    annex = content.get("annex") or {"indicators": {}}
    out = []
    for sheet in sheets:
        measure, unit = sheet.fields["measure"], sheet.fields["unit"]
        found = annex["indicators"].get(sheet.code) or {"years": [], "evidence": []}
        rows = found["years"]
        values = [v for r in rows for v in (r["actual"], r["target"], *(q["actual"] for q in r["quarters"]))]
        millions = fmt.in_millions(measure, unit, values)
        evidence = [{**e, "findings": localised(e, "findings")} for e in found.get("evidence", [])]
        out.append({"code": sheet.code, "name": sheet.name, "unit": fmt.table_unit(unit, measure, millions),
                    "aggregation": sheet.fields["time_aggregation"], "evidence": evidence,
                    "rows": [_annex_row(row, measure, unit, millions) for row in rows]})
    return out


def build(content: dict, *, edition: int | None, made_on: str, note: str = "", changes: dict | None = None) -> Handbook:
    """The handbook of an edition's content, in the language being spoken (reports/i18n.py)."""
    texts, catalogue = content["texts"], content["catalogue"]
    quarter = content["calendar"]["quarters"][0]["quarter"]
    active = [code for code, entry in catalogue["indicators"].items() if entry["sheet"].get("is_active", True)]
    sheets = [_sheet(f"8.{n}", code, content, quarter) for n, code in enumerate(active, start=1)]
    snapshot = {"indicators": {s.code: {"name": s.name.text, "short_name": s.short_name.text,
                                        "numerator": s.fields.get("numerator", ""),
                                        "denominator": s.fields.get("denominator", "")} for s in sheets},
                "programmes": {code: {"name": localised(p).text, "agency": p.get("agency", "")}
                               for code, p in texts["programmes"].items()}}
    example, api_example = _example(content, quarter)
    retired = [{"code": code, "name": localised(texts["indicators"].get(code)),
                "replaced_by": entry["sheet"].get("replaced_by")}
               for code, entry in catalogue["indicators"].items() if not entry["sheet"].get("is_active", True)]
    return Handbook(
        language=i18n.language(), edition=edition, made_on=made_on, catalogue_version=content["catalogue_version"],
        note=note, changes=changes or {}, quarter=quarter, review_days=texts["review_days"],
        forms=_forms(content, quarter), calendar=_calendar(content),
        roles=[(role, _(label)) for role, label in texts["roles"].items()], template=texts["template"],
        example=example, api_example=api_example, base_url=texts.get("base_url") or "",
        readme=[(p["name"], quoted.to_html(p["text"])) for p in texts["readme"]], sheets=sheets,
        glossary=glossary.build(snapshot, [s.code for s in sheets]),
        terms=[Entry(term, _(meaning)) for term, meaning in TERMS],
        annex=_annex(content, sheets), annex_years=(content.get("annex") or {}).get("years", []),
        org_units=texts["org_units"],
        programmes=[{"code": code, **p, "label": localised(p)} for code, p in texts["programmes"].items()],
        retired=retired, changes_lines=change_lines(changes or {}, names(content)))


def names(content: dict) -> dict[str, str]:
    """Every indicator's name in the handbook's language (retired ones too), by code."""
    return {code: localised(words).text for code, words in content["texts"]["indicators"].items()}


def _listed(codes: list[str], named: dict[str, str]) -> str:
    return "; ".join(f"{code} ({named[code]})" if code in named else code for code in codes)


def change_lines(changes: dict, named: dict[str, str]) -> list[str]:
    """What changed since the previous edition, one sentence a change, in the handbook's language."""
    if not changes.get("previous"):
        return [_("First edition: there is no earlier edition to compare with.")]
    lines = []
    indicators = changes.get("indicators") or {}
    for key, words in (("added", N_("Indicators added: %(list)s.")), ("retired", N_("Indicators retired: %(list)s.")),
                       ("reactivated", N_("Indicators reactivated: %(list)s.")),
                       ("removed", N_("Indicators no longer in the catalogue: %(list)s."))):
        if indicators.get(key):
            lines.append(_(words, list=_listed(indicators[key], named)))
    for item in indicators.get("redefined", []):
        lines.append(_("%(code)s (%(name)s) redefined, version %(old)s → %(new)s: %(fields)s.", code=item["code"],
                       name=named.get(item["code"], item["code"]), old=item["from"], new=item["to"],
                       fields=", ".join(_(f["label"]) for f in item["fields"])))
    forms = changes.get("forms") or {}
    if forms.get("added"):
        lines.append(_("Forms added: %(list)s.", list=", ".join(forms["added"])))
    if forms.get("removed"):
        lines.append(_("Forms removed: %(list)s.", list=", ".join(forms["removed"])))
    for item in forms.get("changed", []):
        what = ", ".join(_(f["label"]) for f in item["fields"])
        if item.get("added"):
            what += "; " + _("indicators added: %(list)s", list=", ".join(item["added"]))
        if item.get("removed"):
            what += "; " + _("indicators taken off: %(list)s", list=", ".join(item["removed"]))
        lines.append(_("Form %(code)s changed: %(what)s.", code=item["code"], what=what))
    rules = changes.get("rules") or {}
    if rules.get("added"):
        lines.append(_("Validation rules added: %(list)s.", list=", ".join(rules["added"])))
    if rules.get("removed"):
        lines.append(_("Validation rules removed: %(list)s.", list=", ".join(rules["removed"])))
    for item in rules.get("changed", []):
        if item.get("retired"):
            lines.append(_("Validation rule %(code)s retired.", code=item["code"]))
        else:
            lines.append(_("Validation rule %(code)s changed: %(fields)s.", code=item["code"],
                           fields=", ".join(_(f["label"]) for f in item["fields"])))
    if changes.get("texts"):
        lines.append(_("Also changed: %(what)s.", what="; ".join(_(t["label"]) for t in changes["texts"])))
    return lines or [_("No indicator, form or rule changed.")]


def change_summary(changes: dict) -> str:
    """A short line for a list of editions: how many indicators, forms and rules changed."""
    if not changes.get("previous"):
        return _("First edition")
    parts = []
    indicators, forms, rules = (changes.get(k) or {} for k in ("indicators", "forms", "rules"))
    added, retired = len(indicators.get("added", [])), len(indicators.get("retired", []))
    redefined = len(indicators.get("redefined", []))
    form_count = sum(len(forms.get(k, [])) for k in ("added", "removed", "changed"))
    rule_count = sum(len(rules.get(k, [])) for k in ("added", "removed", "changed"))
    if added:
        parts.append(i18n.ngettext("%(num)s indicator added", "%(num)s indicators added", added))
    if retired:
        parts.append(i18n.ngettext("%(num)s indicator retired", "%(num)s indicators retired", retired))
    if redefined:
        parts.append(i18n.ngettext("%(num)s indicator redefined", "%(num)s indicators redefined", redefined))
    if form_count:
        parts.append(i18n.ngettext("%(num)s form changed", "%(num)s forms changed", form_count))
    if rule_count:
        parts.append(i18n.ngettext("%(num)s rule changed", "%(num)s rules changed", rule_count))
    if changes.get("texts"):
        parts.append(_("other texts changed"))
    return " · ".join(parts) or _("No indicator, form or rule changed.")


def render_html(handbook: Handbook, *, preview: bool = False) -> str:
    """The handbook as one HTML document; `preview` inlines the styles (a file read in a browser)."""
    from reports.render import TEMPLATES, environment

    page = environment().get_template(TEMPLATE)
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8") if preview else ""
    with i18n.speaking(handbook.language, i18n.folder()):
        return page.render(book=handbook, preview=preview, inline_css=css, lang=handbook.language,
                           STATUS_LABELS=STATUS_LABELS, said=said, period=period, day=day)


def render_pdf(handbook: Handbook) -> tuple[bytes, int]:
    """The handbook as PDF bytes and its page count."""
    from reports.render import TEMPLATES, local_only_fetcher, weasyprint_html

    html = render_html(handbook)
    document = weasyprint_html()(string=html, base_url=TEMPLATES.as_uri() + "/",
                                 url_fetcher=local_only_fetcher()).render()
    return document.write_pdf(), len(document.pages)
