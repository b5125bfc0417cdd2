"""Who is reached: each indicator's figure broken down by sex, age group or any other category of its
disaggregation set, from the snapshot's `by_option` rows (the results API's answer by option).

Option combos are option codes joined by `_` in the order of the set's categories (`F_A70P` is
sex F × age group A70P); a breakdown by one category adds the combos that share its option: counts
and amounts add, ratios add their numerators and denominators and then divide. A combo that does not
split into the set's options keeps its own name. Labels are words ("Women", "Aged 70+"), never codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from indicators.figures import option_label, ratio
from reports import breakdown_charts as bc
from reports import charts
from reports.format import DASH, figure, kes, table_unit
from reports.i18n import N_, _, localised

SEX, AGE = "sex", "age_group"
WOMEN, MEN = "F", "M"
NOT_SPLIT = N_("Not broken down")
# indicators/figures.py option_label's words, capitalised as the reports print them: translated where
# printed (label), with the age range ("70+", "0–17") as it is
OPTION_WORDS = {"Women": N_("Women"), "Men": N_("Men"), "Girls": N_("Girls"), "Boys": N_("Boys"),
                "Total": N_("Total")}
AGED_WORDS = {"Aged": N_("Aged %(age)s"), "Women": N_("Women %(age)s"), "Men": N_("Men %(age)s"),
              "Girls": N_("Girls %(age)s"), "Boys": N_("Boys %(age)s")}


@dataclass
class Part:
    """One option of a category: its figure, and its share of the category's total (counts, amounts)."""

    label: str
    value: float | None
    text: str
    share: float | None = None
    share_text: str = ""


@dataclass
class Split:
    category: str  # the category's code ("sex"), or the set's for combos that do not split
    name: str  # "Sex", "Age group"
    parts: list[Part]


@dataclass
class Breakdown:
    code: str
    name: str
    unit: str
    measure: str
    total: str
    splits: list[Split]
    women_share: float | None = None
    women_share_text: str = ""
    women_share_last_year: str = ""
    not_split: str = ""  # the part of the total reported without a breakdown, when there is one

    def split(self, category: str) -> Split | None:
        return next((s for s in self.splits if s.category == category), None)


@dataclass
class Visual:
    title: str
    uri: str


@dataclass
class WhoIsReached:
    breakdowns: list[Breakdown]
    age_groups: list[str] = field(default_factory=list)  # the age table's column labels
    sex_chart: str = ""
    pyramids: list[Visual] = field(default_factory=list)
    trends: list[Visual] = field(default_factory=list)

    @property
    def by_sex(self) -> list[Breakdown]:
        return [b for b in self.breakdowns if b.split(SEX)]

    @property
    def by_age(self) -> list[tuple[Breakdown, list[str]]]:
        rows = []
        for item in self.breakdowns:
            split = item.split(AGE)
            if split:
                cells = {p.label: p.text + (f" ({p.share_text})" if p.share_text else "") for p in split.parts}
                rows.append((item, [cells.get(label, DASH) for label in self.age_groups]))
        return rows

    @property
    def others(self) -> list[tuple[Breakdown, Split]]:
        return [(b, s) for b in self.breakdowns for s in b.splits if s.category not in (SEX, AGE)]

    @property
    def women_shares(self) -> dict[str, str]:
        return {b.code: b.women_share_text for b in self.breakdowns if b.women_share_text}


def split_combo(code: str, categories: list[dict]) -> dict[str, str] | None:
    """`F_A70P` over [sex, age group] → {"sex": "F", "age_group": "A70P"}; None when it does not split."""
    found: dict[str, str] = {}
    rest = code
    for n, category in enumerate(categories):
        last = n == len(categories) - 1
        match = next((o["code"] for o in sorted(category["options"], key=lambda o: -len(o["code"]))
                      if (rest == o["code"] if last else rest.startswith(o["code"] + "_"))), None)
        if match is None:
            return None
        found[category["code"]] = match
        rest = rest[len(match) + 1:]
    return found


def label(category: str, code: str, name: str) -> str:
    """An option in words, capitalised, in the report's language: "Women", "Aged 70+"; other categories'
    options by their name (a combo outside its set's options, category "", as the catalogue words it)."""
    if category not in (SEX, AGE, ""):
        words = name or code
        return words[:1].upper() + words[1:] if words else code
    words = option_label(code, name)
    if not words:
        return code
    english = words[:1].upper() + words[1:]
    if english in OPTION_WORDS:
        return _(OPTION_WORDS[english])
    head, _space, age = english.partition(" ")
    if head in AGED_WORDS and age and " " not in age and any(ch.isdigit() for ch in age):
        return _(AGED_WORDS[head], age=age)
    return english  # the option's own name (the snapshot's words)


def _text(value: float | None, info: dict) -> str:
    if value is None:
        return DASH
    if info["unit"] == "KES":
        return kes(value)
    text = figure(value, info["measure"], info["unit"])
    return text + "%" if info["measure"] == "ratio" and info["unit"] == "percent" else text


def _combine(rows: list[tuple[str, dict]], info: dict, key: str = "actual") -> float | None:
    """The figure of several combos together: a sum, or for a ratio the ratio of the summed parts."""
    if info["measure"] == "ratio":
        if len(rows) == 1:
            return rows[0][1].get(key)
        if key != "actual":
            return None
        numerators = [r.get("numerator") for _, r in rows]
        denominators = [r.get("denominator") for _, r in rows]
        if any(v is None for v in numerators + denominators):
            return None
        return ratio(sum(float(v) for v in numerators if v is not None),
                     sum(float(v) for v in denominators if v is not None), info.get("factor"))
    values = [float(v) for _, r in rows if (v := r.get(key)) is not None]
    return sum(values) if values else None


def _parts(groups: dict[str, list[tuple[str, dict]]], order: list[tuple[str, str]], category: str,
           info: dict, key: str = "actual") -> list[Part]:
    parts = []
    for code, name in order:
        if code in groups:
            parts.append(Part(label(category, code, name), _combine(groups[code], info, key), ""))
    if info["measure"] != "ratio":
        total = sum(p.value for p in parts if p.value is not None and p.value > 0)
        for part in parts:
            if total and part.value is not None:
                part.share = part.value / total * 100
                part.share_text = localised(f"{part.share:.1f}%")
    for part in parts:
        part.text = _text(part.value, info)
    return parts


def breakdown(code: str, rows: list[dict], info: dict, disaggregation: dict) -> Breakdown | None:
    """One indicator's breakdowns (one per category of its set), or None when no option has a figure."""
    the_set = disaggregation["sets"][disaggregation["indicators"][code]]
    categories, combos = the_set["categories"], the_set["combos"]
    known = [r for r in rows if r.get("actual") is not None]
    total_row = next((r for r in known if r["option"] == "total"), None)
    options = [r for r in known if r["option"] != "total"]
    if not options:
        return None
    splits_of = {r["option"]: split_combo(r["option"], categories) for r in options}
    splits: list[Split] = []
    if any(s is None for s in splits_of.values()):  # codes outside the set: each combo by its own name
        order = [(c, n) for c, n in combos.items() if c != "total"]
        order += [(r["option"], "") for r in options if r["option"] not in combos]
        flat = {r["option"]: [(r["option"], r)] for r in options}
        splits.append(Split(disaggregation["indicators"][code], the_set["name"],
                            _parts(flat, order, "", info)))
    else:
        for category in categories:
            groups: dict[str, list[tuple[str, dict]]] = {}
            for row in options:
                groups.setdefault(_parts_of(splits_of, row)[category["code"]], []).append((row["option"], row))
            order = [(o["code"], o["name"]) for o in category["options"]]
            splits.append(Split(category["code"], category["name"], _parts(groups, order, category["code"], info)))
    item = Breakdown(code, info["short_name"], table_unit(info["unit"], info["measure"]), info["measure"],
                     _text(_combine([(r["option"], r) for r in options], info), info), splits)
    sex = item.split(SEX)
    women = next((p for p in sex.parts if p.label == label(SEX, WOMEN, "")), None) if sex else None
    if women and women.share is not None:
        item.women_share, item.women_share_text = women.share, women.share_text
        groups = {}
        for row in options:
            groups.setdefault(_parts_of(splits_of, row)[SEX], []).append((row["option"], row))
        earlier = {p.label: p for p in _parts(groups, [(WOMEN, ""), (MEN, "")], SEX, info, "last_year")}
        before = earlier.get(women.label)
        item.women_share_last_year = before.share_text if before else ""
    if total_row is not None:
        item.not_split = _text(total_row["actual"], info)
    return item


def _parts_of(splits_of: dict[str, dict[str, str] | None], row: dict) -> dict[str, str]:
    return splits_of[row["option"]] or {}


def _age_trend(code: str, info: dict, disaggregation: dict, history: dict) -> list[tuple[str, list]]:
    """Each age group's figure over the history quarters (sexes added; ratios from their parts)."""
    the_set = disaggregation["sets"][disaggregation["indicators"][code]]
    category = next((c for c in the_set["categories"] if c["code"] == AGE), None)
    series = (history.get("series") or {}).get(code) or {}
    if category is None or not series:
        return []
    count = len(history.get("quarters", []))
    lines = []
    for option in category["options"]:
        mine = [(combo, values) for combo, values in series.items()
                if (split_combo(combo, the_set["categories"]) or {}).get(AGE) == option["code"]]
        if not mine:
            continue
        points = []
        for n in range(count):
            rows = [(combo, {k: v[n] for k, v in values.items()}) for combo, values in mine]
            rows = [r for r in rows if r[1].get("actual") is not None]
            points.append(_combine(rows, info) if rows else None)
        if any(p is not None for p in points):
            lines.append((label(AGE, option["code"], option["name"]), points))
    return lines


def _short(value: float) -> str:
    """Axis and bar-end numbers: short and exact enough for a chart (the tables carry the full figure)."""
    for size, words in ((1e6, N_("%(value)s m")), (1e3, N_("%(value)s k"))):
        if abs(value) >= size:
            return _(words, value=localised(f"{value / size:,.1f}".removesuffix(".0")))
    return localised(f"{value:,.0f}")


def who_is_reached(snapshot: dict, codes: list[str] | None = None, charts_limit: int = 4,
                   width: float = 500, sex_rows: int | None = None) -> WhoIsReached | None:
    """The breakdowns of a report's indicators (all, or `codes`), with their tables' columns and charts.

    `sex_rows` keeps the women-and-men chart to that many indicators, those reaching the most people
    (the fact sheet has room for a few bars, not one per indicator).
    """
    disaggregation = snapshot.get("disaggregation") or {}
    rows = snapshot.get("by_option") or []
    if not disaggregation.get("indicators") or not rows:
        return None
    by_indicator: dict[str, list[dict]] = {}
    for row in rows:
        by_indicator.setdefault(row["indicator"], []).append(row)
    wanted = [c for c in sorted(by_indicator, key=_order) if c in disaggregation["indicators"]
              and (codes is None or c in codes)]
    items = [b for c in wanted if (b := breakdown(c, by_indicator[c], snapshot["indicators"][c], disaggregation))]
    if not items:
        return None
    found = WhoIsReached(items)
    ages = [p.label for b in items if (s := b.split(AGE)) for p in s.parts]
    found.age_groups = list(dict.fromkeys(ages))
    shares = [(f"{b.name} ({b.code})", [(p.label, p.value) for p in sex.parts if p.value is not None])
              for b in found.by_sex if b.measure != "ratio" and (sex := b.split(SEX))]
    period = charts.snapshot_period(snapshot)
    title = _("Women and men among those reached, %(period)s", period=period)
    if sex_rows is not None and len(shares) > sex_rows:
        shares = sorted(shares, key=lambda row: -sum(v for _name, v in row[1] if v and v > 0))[:sex_rows]
        title = _("Women and men among those reached: the %(count)s largest figures, %(period)s",
                  count=localised(f"{sex_rows:,}"), period=period)
    if shares:
        found.sex_chart = charts.data_uri(bc.split_bars(shares, title=title, width=width))
    history = snapshot.get("option_history") or {}
    for item in [b for b in items if b.split(SEX) and b.split(AGE) and b.measure != "ratio"][:charts_limit]:
        sex, age = item.split(SEX), item.split(AGE)
        groups = [p.label for p in age.parts] if age else []
        left, right = _pyramid_sides(item.code, by_indicator[item.code], disaggregation, groups)
        title = _("%(name)s (%(code)s) by sex and age group, %(period)s", name=item.name, code=item.code,
                  period=period)
        if sex and any(v is not None for v in left + right):
            found.pyramids.append(Visual(title, charts.data_uri(bc.pyramid(
                groups, left, right, title=title, width=width, fmt=_money_or_count(snapshot["indicators"][item.code])))))
        lines = _age_trend(item.code, snapshot["indicators"][item.code], disaggregation, history)
        if lines:
            quarters = charts.period_axis(history.get("quarters", []), history["labels"])
            trend_title = _("%(name)s (%(code)s) by age group, %(first)s to %(last)s", name=item.name,
                            code=item.code, first=quarters[0], last=quarters[-1])
            found.trends.append(Visual(trend_title, charts.data_uri(bc.trend_lines(
                quarters, lines, title=trend_title, width=width,
                fmt=_money_or_count(snapshot["indicators"][item.code]), axis=_axis(snapshot["indicators"][item.code])))))
    return found


def _money_or_count(info: dict):
    return kes if info["unit"] == "KES" else _short


def _axis(info: dict) -> str:
    if info["unit"] == "KES":
        return _("Kenya shillings")
    return _("Number") if info["unit"] == "number" else _("Number (%(unit)s)", unit=info["unit"])


def _pyramid_sides(code: str, rows: list[dict], disaggregation: dict, groups: list[str]) -> tuple[list, list]:
    the_set = disaggregation["sets"][disaggregation["indicators"][code]]
    sides: dict[str, dict[str, float]] = {WOMEN: {}, MEN: {}}
    names = {o["code"]: o["name"] for c in the_set["categories"] if c["code"] == AGE for o in c["options"]}
    for row in rows:
        parts = split_combo(row["option"], the_set["categories"]) if row["option"] != "total" else None
        if not parts or row.get("actual") is None or parts.get(SEX) not in sides:
            continue
        group = label(AGE, parts[AGE], names.get(parts[AGE], ""))
        sides[parts[SEX]][group] = sides[parts[SEX]].get(group, 0.0) + row["actual"]
    return [sides[WOMEN].get(g) for g in groups], [sides[MEN].get(g) for g in groups]


def _order(code: str) -> tuple[str, int]:
    """Indicators in the order of the report's tables: by prefix, then number (SA2 before SA10)."""
    return code[:2], int("".join(c for c in code if c.isdigit()) or 0)
