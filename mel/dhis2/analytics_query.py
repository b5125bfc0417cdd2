"""DHIS2 analytics queries: dimension strings to resolved items, with DHIS2's query errors.

`parse_request` reads `dimension=` / `filter=` (repeated or comma-joined, `dim:item;item`) and the
options of DHIS2 2.41; `resolve` turns items into our objects (dx: indicators, data elements,
operands `de.coc`; pe: ISO and relative periods; ou: ids, USER_ORGUNIT…, LEVEL-n; co; ao: the
programmes) and refuses a bad query with DHIS2's error (E71xx, E7611) as a 409 WebMessage.
`includeUnapproved=true` (ours) asks for figures not yet approved too, where /api/v1/results'
include=submitted allows them. mel/dhis2/analytics_figures.py computes the figures and
mel/dhis2/analytics_grid.py lays them out as DHIS2's Grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from indicators.periods import (
    Period,
    PeriodError,
    is_relative_period,
    parse_period,
    relative_period_name,
    relative_periods,
)
from mel.converters import is_digits
from mel.dhis2.messages import Dhis2Error
from mel.periods import FIRST_YEAR, LAST_YEAR

DATA, PERIOD, ORG_UNIT, CATEGORY_OPTION_COMBO, ATTRIBUTE_OPTION_COMBO = "dx", "pe", "ou", "co", "ao"
DISPLAY_NAMES = {DATA: "Data", PERIOD: "Period", ORG_UNIT: "Organisation unit",
                 CATEGORY_OPTION_COMBO: "Category option combo", ATTRIBUTE_OPTION_COMBO: "Attribute option combo"}
DIMENSION_TYPES = {DATA: "DATA_X", PERIOD: "PERIOD", ORG_UNIT: "ORGANISATION_UNIT",
                   CATEGORY_OPTION_COMBO: "CATEGORY_OPTION_COMBO", ATTRIBUTE_OPTION_COMBO: "ATTRIBUTE_OPTION_COMBO"}
# The measure columns of DHIS2's grid (HeaderHandler): value, and with includeNumDen the indicator's parts.
NUM_DEN = (("numerator", "Numerator"), ("denominator", "Denominator"), ("factor", "Factor"),
           ("multiplier", "Multiplier"), ("divisor", "Divisor"))
SCHEMES = {"UID": "UID", "ID": "UID", "UUID": "UID", "CODE": "CODE", "NAME": "NAME"}
_TRUE, _FALSE = {"true", "on", "yes", "1"}, {"false", "off", "no", "0"}
_BOOLEANS = {"skipMeta": "skip_meta", "skipData": "skip_data", "skipRounding": "skip_rounding",
             "includeNumDen": "include_num_den", "includeMetadataDetails": "include_metadata_details",
             "includeUnapproved": "include_unapproved"}


def conflict(code: str, message: str) -> Dhis2Error:
    """A query DHIS2 refuses: 409 Conflict with its error code."""
    return Dhis2Error(409, message, code)


# --------------------------------------------------------------------------- the request


@dataclass
class RawDimension:
    dimension: str
    items: list[str]
    is_filter: bool


@dataclass
class Options:
    skip_meta: bool = False
    skip_data: bool = False
    skip_rounding: bool = False
    include_num_den: bool = False
    include_metadata_details: bool = False
    include_unapproved: bool = False  # ours, not DHIS2's: /api/v1/results' include=submitted
    display_property: str = "NAME"
    output_id_scheme: str = "UID"
    output_data_element_id_scheme: str | None = None
    output_org_unit_id_scheme: str | None = None
    input_id_scheme: str = "UID"
    relative_period_date: date | None = None


def _params(values: list[str]) -> list[str]:
    """Spring binds a repeated list parameter and splits each value on commas: `dx:A,pe:B` is two."""
    return [part for value in values for part in value.split(",") if part.strip()]


def parse_dimension(param: str, is_filter: bool) -> RawDimension:
    """`dx:A;B` → dx with items A and B (empty items dropped); `co` alone: every item."""
    name, _, rest = param.strip().partition(":")
    return RawDimension(name.strip(), [item.strip() for item in rest.split(";") if item.strip()], is_filter)


def _bad_parameter(name: str, value: str, kind: str) -> Dhis2Error:
    return Dhis2Error(400, f"Value '{value}' is not valid for parameter {name}. It should be of type {kind}")


def _scheme(name: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    scheme = SCHEMES.get(value.strip().upper())
    if scheme is None:
        raise _bad_parameter(name, value, "IdScheme (UID, CODE or NAME)")
    return scheme


def parse_request(args) -> tuple[list[RawDimension], Options]:
    """The dimensions, filters and options of a query string (a werkzeug MultiDict)."""
    raw = [parse_dimension(p, False) for p in _params(args.getlist("dimension"))]
    raw += [parse_dimension(p, True) for p in _params(args.getlist("filter"))]
    options = Options()
    for name, attribute in _BOOLEANS.items():
        value = args.get(name)
        if value is None or not value.strip():
            continue
        if value.strip().lower() not in _TRUE | _FALSE:
            raise _bad_parameter(name, value, "boolean")
        setattr(options, attribute, value.strip().lower() in _TRUE)
    display = (args.get("displayProperty") or "NAME").strip().upper()
    if display not in ("NAME", "SHORTNAME"):
        raise _bad_parameter("displayProperty", args.get("displayProperty", ""), "DisplayProperty (NAME, SHORTNAME)")
    options.display_property = display
    options.output_id_scheme = _scheme("outputIdScheme", args.get("outputIdScheme")) or "UID"
    options.output_data_element_id_scheme = _scheme("outputDataElementIdScheme", args.get("outputDataElementIdScheme"))
    options.output_org_unit_id_scheme = _scheme("outputOrgUnitIdScheme", args.get("outputOrgUnitIdScheme"))
    options.input_id_scheme = _scheme("inputIdScheme", args.get("inputIdScheme")) or "UID"
    when = args.get("relativePeriodDate")
    if when is not None and when.strip():
        try:
            options.relative_period_date = date.fromisoformat(when.strip()[:10])
        except ValueError:
            raise _bad_parameter("relativePeriodDate", when, "Date (yyyy-MM-dd)") from None
    return raw, options


# --------------------------------------------------------------------------- resolving items


@dataclass(frozen=True)
class DataItem:
    """A dx item: a DHIS2 indicator (our indicator, compiled) or a data element (one of its parts)."""

    kind: str  # "indicator" | "dataElement" | "operand" (a data element's category option combo)
    obj: object
    indicator: str  # our indicator code
    component: str  # "indicator", or the data element's "value" | "numerator" | "denominator"
    combo: object = None  # an operand's category option combo


@dataclass
class Axis:
    """One dimension or filter of the query, its resolved items and the keywords it named."""

    dimension: str
    is_filter: bool
    items: list = field(default_factory=list)
    keywords: list[tuple[str, str]] = field(default_factory=list)  # (metaData key, name)


@dataclass
class Plan:
    axes: list[Axis]
    options: Options

    def axis(self, dimension: str) -> Axis | None:
        return next((a for a in self.axes if a.dimension == dimension), None)

    @property
    def dimensions(self) -> list[Axis]:
        return [a for a in self.axes if not a.is_filter]


def resolve(raw: list[RawDimension], options: Options, ids, catalogue, user, today: date) -> Plan:
    """Resolve every dimension and filter, then check the query as DHIS2's DefaultQueryValidator does."""
    axes = [_resolve_axis(r, options, ids, catalogue, user, today) for r in raw]
    dimensions = [a for a in axes if not a.is_filter]
    filters = [a for a in axes if a.is_filter]
    if not dimensions:
        raise conflict("E7101", "At least one dimension must be specified")
    data = [a for a in axes if a.dimension == DATA]
    if not options.skip_data and not any(a.items for a in data):
        raise conflict("E7102", "At least one data dimension item or data element group set dimension item "
                                "must be specified")
    both = sorted({a.dimension for a in dimensions} & {a.dimension for a in filters})
    if both:
        raise conflict("E7103", "Dimensions cannot be specified as dimension and filter simultaneously: "
                                f"`[{', '.join(both)}]`")
    if not any(a.items for a in axes if a.dimension == PERIOD):
        raise conflict("E7104", "At least one period as dimension or filter, or start and dates, must be specified")
    for axis in filters:
        if axis.dimension == DATA and len(axis.items) > 1:
            if any(item.kind == "indicator" for item in axis.items):
                raise conflict("E7108", "Only a single indicator can be specified as filter")
            raise conflict("E7133", "Several data elements as a filter are not supported here: put dx as a "
                                    "dimension, or filter on one data element")
        if axis.dimension == CATEGORY_OPTION_COMBO:
            raise conflict("E7110", "Category option combos cannot be specified as filter")
        if axis.dimension == ORG_UNIT and len(axis.items) > 1:
            raise conflict("E7133", "Several organisation units as a filter are not supported here: put ou as a "
                                    "dimension, or filter on one organisation unit (a parent covers its children)")
    seen, duplicates = set(), []
    for axis in axes:
        if axis.dimension in seen:
            duplicates.append(axis.dimension)
        seen.add(axis.dimension)
    if duplicates:
        raise conflict("E7111", "Dimensions cannot be specified more than once: "
                                f"`[{', '.join(sorted(set(duplicates)))}]`")
    combos = next((a for a in axes if a.dimension == CATEGORY_OPTION_COMBO), None)
    if combos is not None:
        kinds = {item.kind for a in data for item in a.items}
        if "dataElement" not in kinds:
            raise conflict("E7113", "Assigned categories cannot be specified when data elements are not specified")
        if kinds != {"dataElement"}:
            raise conflict("E7114", "Assigned categories can only be specified together with data elements")
        named = combos.items
        combos.items = [c for c in _dedupe(c for a in data for item in a.items for c in ids.combos_of(item.obj.uid))
                        if not (c.is_total and not c.is_default) and (not named or c in named)]
    _within_limits(axes)
    plan = Plan(axes, options)
    if options.include_unapproved:
        _unapproved_allowed(plan, ids, catalogue, user)
    return plan


def _unapproved_allowed(plan: Plan, ids, catalogue, user) -> None:
    """Figures not yet approved, for whom /api/v1/results shows them (403 otherwise), at every org unit asked."""
    from mel.results.queries import unapproved_allowed

    root = min(catalogue.org_units.values(), key=lambda u: u.level)
    units = plan.axis(ORG_UNIT).items if plan.axis(ORG_UNIT) else [ids.org_unit_for(root.code)]
    combos = plan.axis(ATTRIBUTE_OPTION_COMBO)
    programmes = sorted({c.programme for c in combos.items}) if combos else sorted(catalogue.programmes)
    for unit in units:
        unapproved_allowed(user, catalogue, programmes, catalogue.org_units[unit.our_code])


MAX_CELLS = 50_000  # DHIS2's default analytics max limit (system setting keyAnalyticsMaxLimit)
MAX_SPANS = 80  # compilations of one query: periods × programmes as dimensions


def _within_limits(axes: list[Axis]) -> None:
    """Refuse a query whose grid could exceed DHIS2's row limit, or that asks for too many compilations."""
    sizes = {a.dimension: len(a.items) for a in axes if not a.is_filter}
    cells = math.prod(max(size, 1) for size in sizes.values())
    if cells > MAX_CELLS:
        raise conflict("E7128", f"Query result set exceeded max limit: `{MAX_CELLS}`")
    if max(sizes.get(PERIOD, 1), 1) * max(sizes.get(ATTRIBUTE_OPTION_COMBO, 1), 1) > MAX_SPANS:
        raise conflict("E7128", f"Query result set exceeded max limit: `{MAX_SPANS}` periods × attribute option "
                                "combos; split the query")


def _resolve_axis(raw: RawDimension, options: Options, ids, catalogue, user, today: date) -> Axis:
    axis = Axis(raw.dimension, raw.is_filter)
    if raw.dimension == DATA:
        axis.items = _data_items(raw.items, options.input_id_scheme, ids)
        if not axis.items:
            raise conflict("E7124", f"Dimension is present in query without any valid dimension options: `{DATA}`")
    elif raw.dimension == PERIOD:
        axis.items, axis.keywords = _periods(raw.items, options.relative_period_date or today)
    elif raw.dimension == ORG_UNIT:
        axis.items, axis.keywords = _org_units(raw.items, options, ids, catalogue, user)
        if not axis.items:
            raise conflict("E7143", "Organisation unit or organisation unit level is not valid")
    elif raw.dimension == ATTRIBUTE_OPTION_COMBO:
        combos = list(ids.attribute_combos.values())
        if raw.items:
            combos = _dedupe(ids.resolve("attributeOptionCombo", item, options.input_id_scheme) for item in raw.items)
        axis.items = [combo for combo in combos if combo is not None and combo.programme in catalogue.programmes]
        if not axis.items:
            raise conflict("E7124", "Dimension is present in query without any valid dimension options: "
                                    f"`{ATTRIBUTE_OPTION_COMBO}`")
    elif raw.dimension == CATEGORY_OPTION_COMBO:  # resolved against the data elements once dx is known
        axis.items = _dedupe(ids.resolve("categoryOptionCombo", item, options.input_id_scheme) for item in raw.items)
    else:
        raise conflict("E7125", f"Dimension identifier does not reference any dimension: `{raw.dimension}`")
    return axis


def _dedupe(objects) -> list:
    seen, out = set(), []
    for obj in objects:
        if obj is not None and id(obj) not in seen:
            seen.add(id(obj))
            out.append(obj)
    return out


def _data_items(items: list[str], scheme: str, ids) -> list[DataItem]:
    """Indicators, data elements and operands (`de.coc`); groups, wildcards and reporting rates are skipped
    as DHIS2 skips items it does not know."""
    found: list[DataItem] = []
    for item in items:
        element_id, dot, combo_id = item.partition(".")
        if dot and scheme == "UID":
            element = ids.resolve("dataElement", element_id, scheme)
            combo = ids.resolve("categoryOptionCombo", combo_id, scheme) if element is not None else None
            if combo is not None and combo in ids.combos_of(element.uid) and not (combo.is_total and not combo.is_default):
                found.append(DataItem("operand", element, element.indicator, element.component, combo))
            continue
        indicator = ids.resolve("indicator", item, scheme)
        if indicator is not None:
            found.append(DataItem("indicator", indicator, _indicator_code(indicator), "indicator"))
            continue
        element = ids.resolve("dataElement", item, scheme)
        if element is not None:
            found.append(DataItem("dataElement", element, element.indicator, element.component))
    return list(dict.fromkeys(found))


def _indicator_code(indicator) -> str:
    """Our indicator code behind a DHIS2 indicator."""
    return getattr(indicator, "indicator", None) or indicator.code


def _periods(items: list[str], today: date) -> tuple[list[Period], list[tuple[str, str]]]:
    periods: list[Period] = []
    keywords: list[tuple[str, str]] = []
    for item in items:
        try:
            if is_relative_period(item):
                expanded = relative_periods(item, today)
                keywords.append((item, relative_period_name(item)))
            else:
                expanded = [parse_period(item)]
        except PeriodError:
            expanded = []
        if not expanded or any(not FIRST_YEAR <= p.year <= LAST_YEAR for p in expanded):
            raise conflict("E7611", f"Period not valid: `{item}`")
        periods += expanded
    return list(dict.fromkeys(periods)), keywords


def _org_units(items: list[str], options: Options, ids, catalogue, user) -> tuple[list, list[tuple[str, str]]]:
    """DHIS2 org units (ids.OrgUnit) for the items: ids, USER_ORGUNIT(_CHILDREN/_GRANDCHILDREN), LEVEL-n."""
    units = list(ids.org_units.values())
    by_code = {u.our_code: u for u in units}
    root = min(units, key=lambda u: u.level) if units else None
    mine = [by_code[u.code] for u in getattr(user, "org_units", []) if u.code in by_code] if user.role == "officer" \
        else [root] if root else []
    chosen, levels = [], []
    for item in items:
        if item == "USER_ORGUNIT":
            chosen += mine
        elif item in ("USER_ORGUNIT_CHILDREN", "USER_ORGUNIT_GRANDCHILDREN"):
            depth = 1 if item.endswith("_CHILDREN") and "GRAND" not in item else 2
            chosen += sorted((u for u in units for m in mine if u.level == m.level + depth and _under(u, m)),
                             key=lambda u: u.name)
        elif item.upper().startswith("LEVEL-"):
            level, _, boundary = item[6:].partition("-")
            if is_digits(level):
                levels.append(int(level))
            if boundary:
                chosen.append(ids.resolve("orgUnit", boundary, options.input_id_scheme))
        elif not item.upper().startswith("OU_GROUP-"):
            chosen.append(ids.resolve("orgUnit", item, options.input_id_scheme))
    chosen = _dedupe(chosen)
    keywords = []
    if levels:
        boundaries = chosen or ([root] if root else [])
        chosen = _dedupe(sorted((u for u in units if u.level in levels and any(_under(u, b) for b in boundaries)),
                                key=lambda u: (u.level, u.name)))
        keywords = [(b.uid, b.name) for b in boundaries]
    return [u for u in chosen if u.our_code in catalogue.org_units], keywords


def _under(unit, boundary) -> bool:
    return unit.path == boundary.path or unit.path.startswith(boundary.path.rstrip("/") + "/")
