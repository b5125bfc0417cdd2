"""The one mapping between our catalogue and DHIS2's objects and identifiers.

A programme's reporting form is a data set whose attribute category combo is "Programme"; the
programme is its attribute option combo (one category option per programme, the programme's own
uid). Each reported figure is a data element: indicator X gives X, a ratio indicator X gives X.N
(numerator) and X.D (denominator); their uids derive from their codes (`stable_uid`), as they are
not stored objects. A disaggregation set is a category combo, its categories and options are
DHIS2's, its option combos are category option combos with a globally unique code
(`<SET>_<OPTION>`, upper case; the `none` set's single combo is DHIS2's default, `HllvX50cXC0`,
code `default`). Catalogue indicators are DHIS2 indicators. Org units keep their uids; their DHIS2
path is the uids of their ancestors.

Every object has a uid (11 characters), a code and a name, so each resolves in the UID, CODE and
NAME id schemes (`ID` is UID; CODE and NAME match case-insensitively, trimmed).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from flask import g, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mel import clock
from mel.catalogue.lookup import Catalogue, load_catalogue
from mel.catalogue.models import (
    DisaggregationCategory,
    DisaggregationSet,
    DisaggregationSetCategory,
)
from mel.uid import stable_uid

# DHIS2's default category model (the same uids in every DHIS2 instance).
DEFAULT_COMBO_UID = "HllvX50cXC0"  # category option combo "default"
DEFAULT_CATEGORY_COMBO_UID = "bjDvmb4bfuf"
DEFAULT_CATEGORY_UID = "GLevLNI9wkl"
DEFAULT_CATEGORY_OPTION_UID = "xYerKDKCefk"
DEFAULT_CODE = "default"
NO_DISAGGREGATION = "none"  # our set whose single option combo is DHIS2's default

# The attribute category combo every data set uses: the programme reporting the figures.
PROGRAMME_CATEGORY_COMBO_UID = stable_uid("categoryCombo", "PROGRAMME")
PROGRAMME_CATEGORY_UID = stable_uid("category", "PROGRAMME")

SCHEMES = ("UID", "CODE", "NAME")
KINDS = ("dataElement", "orgUnit", "categoryOptionCombo", "attributeOptionCombo", "dataSet", "indicator")
COMPONENT_SUFFIX = {"value": "", "numerator": ".N", "denominator": ".D"}
COMPONENT_WORDS = {"numerator": "numerator", "denominator": "denominator"}


@dataclass(frozen=True)
class DataElement:
    uid: str
    code: str
    name: str
    short_name: str
    indicator: str  # our indicator code
    component: str  # value | numerator | denominator
    value_type: str  # NUMBER | INTEGER_ZERO_OR_POSITIVE
    aggregation_type: str  # SUM | LAST
    category_combo: str  # uid
    data_sets: tuple[str, ...]  # uids
    description: str = ""


@dataclass(frozen=True)
class OptionCombo:
    uid: str
    code: str  # globally unique
    name: str
    category_combo: str  # uid
    indicator_option: tuple[str, str] | None  # (set code, option code)
    set_code: str
    option_code: str
    is_default: bool
    category_options: tuple[str, ...] = ()  # uids, in category order (none for a total)
    is_total: bool = False


@dataclass(frozen=True)
class AttributeCombo:
    uid: str
    code: str
    name: str
    programme: str  # our programme code
    category_option: str = ""  # uid (the programme's own uid)


@dataclass(frozen=True)
class DataSet:
    uid: str
    code: str
    name: str
    programme: str  # our programme code
    period_type: str
    data_elements: tuple[str, ...]
    org_units: tuple[str, ...]
    category_combo: str  # the "Programme" attribute category combo
    timely_days: int = 15  # our due date, days after the period
    expiry_days: int = 45  # our closing date, days after the period
    required: tuple[str, ...] = ()  # data element uids whose cells are required


@dataclass(frozen=True)
class OrgUnit:
    uid: str
    code: str
    name: str
    level: int
    parent: str | None  # uid
    path: str  # "/uid/uid"
    our_code: str
    iso_code: str | None = None
    children: tuple[str, ...] = ()  # uids


@dataclass(frozen=True)
class IndicatorType:
    uid: str
    name: str
    factor: int
    number: bool


@dataclass(frozen=True)
class Indicator:
    """A DHIS2 indicator computed from data elements: numerator / denominator × the type's factor."""

    uid: str
    code: str
    name: str
    short_name: str
    numerator: str
    denominator: str
    numerator_description: str
    denominator_description: str
    indicator_type: str  # uid
    factor: int
    measure: str  # our measure: count | amount | ratio
    data_elements: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class CategoryCombo:
    uid: str
    code: str
    name: str
    data_dimension_type: str  # DISAGGREGATION | ATTRIBUTE
    categories: tuple[str, ...]
    option_combos: tuple[str, ...]
    is_default: bool = False


@dataclass(frozen=True)
class Category:
    uid: str
    code: str
    name: str
    data_dimension_type: str
    options: tuple[str, ...]
    category_combos: tuple[str, ...] = ()
    is_default: bool = False


@dataclass(frozen=True)
class CategoryOption:
    uid: str
    code: str
    name: str
    categories: tuple[str, ...]
    option_combos: tuple[str, ...] = ()
    is_default: bool = False


@dataclass
class Dhis2Ids:
    """Every DHIS2 object of the catalogue, by uid, and the lookups between them and our codes."""

    data_elements: dict[str, DataElement] = field(default_factory=dict)
    option_combos: dict[str, OptionCombo] = field(default_factory=dict)
    attribute_combos: dict[str, AttributeCombo] = field(default_factory=dict)
    data_sets: dict[str, DataSet] = field(default_factory=dict)
    org_units: dict[str, OrgUnit] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    category_combos: dict[str, CategoryCombo] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    category_options: dict[str, CategoryOption] = field(default_factory=dict)
    indicator_types: dict[str, IndicatorType] = field(default_factory=dict)
    # Our keys -> DHIS2 objects.
    _elements_by_key: dict[tuple[str, str], DataElement] = field(default_factory=dict, repr=False)
    _combos_by_key: dict[tuple[str, str], OptionCombo] = field(default_factory=dict, repr=False)
    _aoc_by_programme: dict[str, AttributeCombo] = field(default_factory=dict, repr=False)
    _data_set_by_programme: dict[str, DataSet] = field(default_factory=dict, repr=False)
    _unit_by_code: dict[str, OrgUnit] = field(default_factory=dict, repr=False)
    _set_of_indicator: dict[str, str] = field(default_factory=dict, repr=False)
    _index: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ lookups

    def _table(self, kind: str) -> dict[str, object]:
        return {"dataElement": self.data_elements, "orgUnit": self.org_units,
                "categoryOptionCombo": self.option_combos, "attributeOptionCombo": self.attribute_combos,
                "dataSet": self.data_sets, "indicator": self.indicators}[kind]

    def resolve(self, kind: str, value: str, scheme: str = "UID") -> object | None:
        """The object of a kind that `value` names in an id scheme (UID/ID, CODE, NAME); None if unknown."""
        if kind not in KINDS or value is None:
            return None
        scheme = normal_scheme(scheme)
        text = str(value).strip()
        if not text or scheme is None:
            return None
        if scheme == "UID":
            found = self._table(kind).get(text)
            return found if found is not None else self._index[(kind, "ALIAS")].get(text)
        return self._index[(kind, scheme)].get(text.casefold())

    def identify(self, kind: str, obj, scheme: str = "UID") -> str:
        """The id of an object in an output id scheme (UID when the scheme is unknown)."""
        scheme = normal_scheme(scheme) or "UID"
        return {"UID": obj.uid, "CODE": obj.code, "NAME": obj.name}[scheme]

    def data_element_for(self, indicator_code: str, component: str) -> DataElement:
        """The data element of one of our figures: (indicator code, value|numerator|denominator)."""
        return self._elements_by_key[(indicator_code, component)]

    def option_combo_for(self, data_element_uid: str, our_option_code: str) -> OptionCombo:
        """The category option combo of one of our option codes for a data element (KeyError if none)."""
        element = self.data_elements[data_element_uid]
        return self._combos_by_key[(self._set_of_indicator[element.indicator], our_option_code)]

    def attribute_combo_for(self, programme_code: str) -> AttributeCombo:
        return self._aoc_by_programme[programme_code]

    def data_set_for(self, programme_code: str) -> DataSet:
        return self._data_set_by_programme[programme_code]

    def org_unit_for(self, our_code: str) -> OrgUnit:
        """The DHIS2 org unit of one of our org unit codes (KE, 001…047)."""
        return self._unit_by_code[our_code]

    def combos_of(self, data_element_uid: str) -> tuple[OptionCombo, ...]:
        """The category option combos a data element takes, in order."""
        element = self.data_elements[data_element_uid]
        return tuple(self.option_combos[uid] for uid in self.category_combos[element.category_combo].option_combos)


def normal_scheme(scheme: str | None) -> str | None:
    """UID, CODE or NAME from a DHIS2 id scheme parameter (ID = UID, any case); None if unsupported."""
    text = (scheme or "UID").strip().upper()
    text = "UID" if text == "ID" else text
    return text if text in SCHEMES else None


def global_combo_code(set_code: str, option_code: str) -> str:
    """The globally unique code of a category option combo: `SEX_F`, `SEX_AGE_F_A00_17`, `SEX_TOTAL`."""
    return f"{set_code}_{option_code}".upper()


# ---------------------------------------------------------------------- building


_CACHE = "_mel_dhis2_ids"
# The last catalogue built and its DHIS2 objects: load_catalogue keeps one catalogue per process while
# the catalogue is unchanged (mel/catalogue/lookup.py), so its DHIS2 objects are built once too. They are
# plain frozen values, never rows of a session.
_last: tuple[Catalogue, str, Dhis2Ids] | None = None


def load_ids(session: Session) -> Dhis2Ids:
    """The DHIS2 view of the catalogue this request sees: built again only when the catalogue changed."""
    global _last
    catalogue = load_catalogue(session)
    if not has_app_context():
        return build_ids(session, catalogue)
    cached = g.get(_CACHE)
    if cached is not None and cached[0] is catalogue:
        return cached[1]
    quarter = clock.reporting_quarter().id  # the data sets show the forms of the quarter being reported
    last = _last
    if last is not None and last[0] is catalogue and last[1] == quarter:
        ids = last[2]
    else:
        ids = build_ids(session, catalogue, quarter)
        _last = (catalogue, quarter, ids)
    setattr(g, _CACHE, (catalogue, ids))
    return ids


def _sets(session: Session) -> list[DisaggregationSet]:
    return list(session.scalars(select(DisaggregationSet).options(
        selectinload(DisaggregationSet.categories).selectinload(DisaggregationSetCategory.category)
        .selectinload(DisaggregationCategory.options),
        selectinload(DisaggregationSet.combos),
    ).order_by(DisaggregationSet.id)))


def build_ids(session: Session, catalogue: Catalogue, quarter: str | None = None) -> Dhis2Ids:
    """Build the DHIS2 objects from the catalogue (use `load_ids`, which builds them once per request).

    A data set is a programme's form as it is asked in `quarter` (default: the quarter being reported).
    """
    quarter = quarter or clock.reporting_quarter().id
    ids = Dhis2Ids()
    _add_categories(ids, _sets(session))
    _add_programmes(ids, catalogue)
    _add_org_units(ids, catalogue)
    _add_data_elements(ids, catalogue, quarter)
    _add_data_sets(ids, catalogue, quarter)
    _add_indicators(ids, catalogue)
    _index(ids)
    return ids


def _add_categories(ids: Dhis2Ids, sets: list[DisaggregationSet]) -> None:
    option_categories: dict[str, list[str]] = {}
    option_combos: dict[str, list[str]] = {}
    category_combos: dict[str, list[str]] = {}
    categories: dict[str, DisaggregationCategory] = {}
    for dset in sets:
        if dset.code == NO_DISAGGREGATION:
            _add_default(ids, dset)
            continue
        cats = [link.category for link in dset.categories]
        # Which options make each combo: the combos are the cross product of the options, in category order.
        crossed = {"_".join(o.code for o in combo): tuple(o.uid for o in combo)
                   for combo in itertools.product(*(cat.options for cat in cats))} if cats else {}
        combo_uids = []
        for combo in dset.combos:
            options = () if combo.is_total else crossed.get(combo.code, ())
            coc = OptionCombo(
                uid=combo.uid, code=global_combo_code(dset.code, combo.code),
                name=f"Total ({dset.name})" if combo.is_total else combo.name, category_combo=dset.uid,
                indicator_option=(dset.code, combo.code), set_code=dset.code, option_code=combo.code,
                is_default=False, category_options=options, is_total=combo.is_total)
            ids.option_combos[coc.uid] = coc
            ids._combos_by_key[(dset.code, combo.code)] = coc
            combo_uids.append(coc.uid)
            for option_uid in options:
                option_combos.setdefault(option_uid, []).append(coc.uid)
        for cat in cats:
            categories[cat.uid] = cat
            category_combos.setdefault(cat.uid, []).append(dset.uid)
            for option in cat.options:
                option_categories.setdefault(option.uid, [])
                if cat.uid not in option_categories[option.uid]:
                    option_categories[option.uid].append(cat.uid)
        ids.category_combos[dset.uid] = CategoryCombo(
            uid=dset.uid, code=dset.code.upper(), name=dset.name, data_dimension_type="DISAGGREGATION",
            categories=tuple(cat.uid for cat in cats), option_combos=tuple(combo_uids))
    for cat in categories.values():
        ids.categories[cat.uid] = Category(
            uid=cat.uid, code=cat.code.upper(), name=cat.name, data_dimension_type="DISAGGREGATION",
            options=tuple(o.uid for o in cat.options), category_combos=tuple(category_combos[cat.uid]))
        for option in cat.options:
            ids.category_options[option.uid] = CategoryOption(
                uid=option.uid, code=option.code.upper(), name=option.name,
                categories=tuple(option_categories[option.uid]),
                option_combos=tuple(option_combos.get(option.uid, ())))


def _add_default(ids: Dhis2Ids, dset: DisaggregationSet) -> None:
    """The `none` set is DHIS2's default category combo, with its default category, option and combo."""
    combo = dset.combos[0] if dset.combos else None
    option_code = combo.code if combo else DEFAULT_CODE
    coc = OptionCombo(uid=DEFAULT_COMBO_UID, code=DEFAULT_CODE, name=DEFAULT_CODE,
                      category_combo=DEFAULT_CATEGORY_COMBO_UID, indicator_option=(dset.code, option_code),
                      set_code=dset.code, option_code=option_code, is_default=True,
                      category_options=(DEFAULT_CATEGORY_OPTION_UID,))
    ids.option_combos[coc.uid] = coc
    for extra in dset.combos:
        ids._combos_by_key[(dset.code, extra.code)] = coc
    ids._combos_by_key[(dset.code, option_code)] = coc
    ids.category_combos[DEFAULT_CATEGORY_COMBO_UID] = CategoryCombo(
        uid=DEFAULT_CATEGORY_COMBO_UID, code=DEFAULT_CODE, name=DEFAULT_CODE, data_dimension_type="DISAGGREGATION",
        categories=(DEFAULT_CATEGORY_UID,), option_combos=(DEFAULT_COMBO_UID,), is_default=True)
    ids.categories[DEFAULT_CATEGORY_UID] = Category(
        uid=DEFAULT_CATEGORY_UID, code=DEFAULT_CODE, name=DEFAULT_CODE, data_dimension_type="DISAGGREGATION",
        options=(DEFAULT_CATEGORY_OPTION_UID,), category_combos=(DEFAULT_CATEGORY_COMBO_UID,), is_default=True)
    ids.category_options[DEFAULT_CATEGORY_OPTION_UID] = CategoryOption(
        uid=DEFAULT_CATEGORY_OPTION_UID, code=DEFAULT_CODE, name=DEFAULT_CODE, categories=(DEFAULT_CATEGORY_UID,),
        option_combos=(DEFAULT_COMBO_UID,), is_default=True)
    if combo is not None:  # its stored uid stays an alias of DHIS2's default combo
        ids._index[("categoryOptionCombo", "ALIAS")] = {combo.uid: coc}


def _add_programmes(ids: Dhis2Ids, catalogue: Catalogue) -> None:
    aocs = []
    for code, programme in sorted(catalogue.programmes.items()):
        aoc = AttributeCombo(uid=stable_uid("attributeOptionCombo", code), code=code, name=programme.name,
                             programme=code, category_option=programme.uid)
        ids.attribute_combos[aoc.uid] = aoc
        ids._aoc_by_programme[code] = aoc
        aocs.append(aoc)
        ids.category_options[programme.uid] = CategoryOption(
            uid=programme.uid, code=code, name=programme.name, categories=(PROGRAMME_CATEGORY_UID,),
            option_combos=(aoc.uid,))
    ids.categories[PROGRAMME_CATEGORY_UID] = Category(
        uid=PROGRAMME_CATEGORY_UID, code="PROGRAMME", name="Programme", data_dimension_type="ATTRIBUTE",
        options=tuple(a.category_option for a in aocs), category_combos=(PROGRAMME_CATEGORY_COMBO_UID,))
    ids.category_combos[PROGRAMME_CATEGORY_COMBO_UID] = CategoryCombo(
        uid=PROGRAMME_CATEGORY_COMBO_UID, code="PROGRAMME", name="Programme", data_dimension_type="ATTRIBUTE",
        categories=(PROGRAMME_CATEGORY_UID,), option_combos=tuple(a.uid for a in aocs))


def _add_org_units(ids: Dhis2Ids, catalogue: Catalogue) -> None:
    units = catalogue.org_units.values()
    by_id = {u.id: u for u in units}
    children: dict[int, list[str]] = {}
    for unit in sorted(units, key=lambda u: u.code):
        if unit.parent_id is not None:
            children.setdefault(unit.parent_id, []).append(unit.uid)
    for unit in units:
        chain, cursor = [], unit
        while cursor is not None:
            chain.append(cursor.uid)
            cursor = by_id.get(cursor.parent_id) if cursor.parent_id is not None else None
        parent = by_id.get(unit.parent_id) if unit.parent_id is not None else None
        dhis2_unit = OrgUnit(uid=unit.uid, code=unit.code, name=unit.name, level=unit.level,
                             parent=parent.uid if parent else None, path="/" + "/".join(reversed(chain)),
                             our_code=unit.code, iso_code=unit.iso_code, children=tuple(children.get(unit.id, ())))
        ids.org_units[unit.uid] = dhis2_unit
        ids._unit_by_code[unit.code] = dhis2_unit


def _value_type(measure: str) -> str:
    """Counts and the parts of ratios are whole numbers (indicators/validation.py); amounts need not be."""
    return "NUMBER" if measure == "amount" else "INTEGER_ZERO_OR_POSITIVE"


def _add_data_elements(ids: Dhis2Ids, catalogue: Catalogue, quarter: str) -> None:
    forms_of: dict[str, list[str]] = {}
    for form in catalogue.forms.values():
        for item in form.items_in(quarter):
            forms_of.setdefault(item.indicator.code, []).append(form.uid)
    default_set = next((c.set_code for c in ids.option_combos.values() if c.is_default), NO_DISAGGREGATION)
    for code, indicator in sorted(catalogue.indicators.items()):
        dset = indicator.disaggregation_set
        ids._set_of_indicator[code] = dset.code
        combo = DEFAULT_CATEGORY_COMBO_UID if dset.code == default_set else dset.uid
        for component in indicator.components:
            suffix = COMPONENT_SUFFIX[component]
            words = f" ({COMPONENT_WORDS[component]})" if component in COMPONENT_WORDS else ""
            part = {"numerator": indicator.numerator, "denominator": indicator.denominator}.get(component)
            element = DataElement(
                uid=stable_uid("dataElement", code + suffix), code=code + suffix, name=indicator.name + words,
                short_name=(indicator.short_name or indicator.name)[:45] + suffix, indicator=code,
                component=component, value_type=_value_type(indicator.measure),
                aggregation_type="LAST" if indicator.time_aggregation == "last" else "SUM",
                category_combo=combo, data_sets=tuple(sorted(forms_of.get(code, ()))),
                description=part or indicator.definition or "")
            ids.data_elements[element.uid] = element
            ids._elements_by_key[(code, component)] = element


def _add_data_sets(ids: Dhis2Ids, catalogue: Catalogue, quarter: str) -> None:
    for programme_id, form in catalogue.forms.items():
        programme = catalogue.programme_by_id[programme_id].code
        elements, required = [], []
        for item in form.items_in(quarter):
            for component in item.indicator.components:
                element = ids._elements_by_key[(item.indicator.code, component)]
                elements.append(element.uid)
                if item.is_required:
                    required.append(element.uid)
        _, due_days, closes_days = form.window_days_in(quarter)
        data_set = DataSet(uid=form.uid, code=form.code, name=form.name, programme=programme,
                           period_type=form.frequency_in(quarter).capitalize(), data_elements=tuple(elements),
                           org_units=tuple(unit.uid for unit in form.org_units_in(quarter)),
                           category_combo=PROGRAMME_CATEGORY_COMBO_UID, timely_days=due_days,
                           expiry_days=closes_days, required=tuple(required))
        ids.data_sets[data_set.uid] = data_set
        ids._data_set_by_programme[programme] = data_set


def _indicator_type(ids: Dhis2Ids, factor: int) -> IndicatorType:
    names = {1: "Number", 100: "Per cent", 1000: "Per thousand", 100000: "Per hundred thousand"}
    uid = stable_uid("indicatorType", str(factor))
    if uid not in ids.indicator_types:
        ids.indicator_types[uid] = IndicatorType(uid=uid, name=names.get(factor, f"Factor {factor}"), factor=factor,
                                                 number=factor == 1)
    return ids.indicator_types[uid]


def _total(ids: Dhis2Ids, element: DataElement) -> str:
    """`#{de}` (every option combo summed), or `#{de.coc}` of the total when the set keeps one."""
    total = next((c for c in ids.combos_of(element.uid) if c.is_total), None)
    return f"#{{{element.uid}.{total.uid}}}" if total else f"#{{{element.uid}}}"


def _add_indicators(ids: Dhis2Ids, catalogue: Catalogue) -> None:
    for code, indicator in sorted(catalogue.indicators.items()):
        if indicator.is_ratio:
            numerator = ids._elements_by_key[(code, "numerator")]
            denominator = ids._elements_by_key[(code, "denominator")]
            expressions = (_total(ids, numerator), _total(ids, denominator))
            elements = (numerator.uid, denominator.uid)
            factor = indicator.factor or 1
        else:
            element = ids._elements_by_key[(code, "value")]
            expressions = (_total(ids, element), "1")
            elements = (element.uid,)
            factor = 1
        kind = _indicator_type(ids, factor)
        ids.indicators[indicator.uid] = Indicator(
            uid=indicator.uid, code=code, name=indicator.name, short_name=(indicator.short_name or indicator.name)[:50],
            numerator=expressions[0], denominator=expressions[1],
            numerator_description=indicator.numerator or indicator.name,
            denominator_description=indicator.denominator or ("" if indicator.is_ratio else "1"),
            indicator_type=kind.uid, factor=factor, measure=indicator.measure, data_elements=elements,
            description=indicator.definition or "")


def _index(ids: Dhis2Ids) -> None:
    for kind in KINDS:
        table = ids._table(kind)
        codes: dict[str, object] = {}
        names: dict[str, object] = {}
        for obj in table.values():
            codes.setdefault(obj.code.strip().casefold(), obj)
            names.setdefault(obj.name.strip().casefold(), obj)
        ids._index[(kind, "CODE")] = codes
        ids._index[(kind, "NAME")] = names
        ids._index.setdefault((kind, "ALIAS"), {})
    # Our other spellings of an org unit code: 42 for 042, the ISO code (KE-30).
    units = ids._index[("orgUnit", "CODE")]
    for unit in ids.org_units.values():
        if unit.our_code.isdigit():
            units.setdefault(str(int(unit.our_code)), unit)
        if unit.iso_code:
            units.setdefault(unit.iso_code.casefold(), unit)
