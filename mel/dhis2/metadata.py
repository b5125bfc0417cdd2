"""DHIS2 Web API: metadata lists and objects (read only), as DHIS2 2.41 serves them.

`/api/<resource>` (and `.json`) with `fields=`, `filter=`, `rootJunction=`, `order=`, `page=`,
`pageSize=`, `paging=false`; `/api/<resource>/<uid>` (404 E1005 when unknown). The resources are
tables of dicts built from mel/dhis2/ids.py; the query language is mel/dhis2/query.py. Metadata is
readable by every signed-in user, as /api/v1's catalogue is (an officer too sees every org unit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, jsonify, request

from mel.catalogue.levels import LEVEL_NAMES
from mel.db import db
from mel.dhis2 import query
from mel.dhis2.auth import dhis2_user
from mel.dhis2.ids import Dhis2Ids, load_ids
from mel.dhis2.messages import Dhis2Error
from mel.dhis2.query import Ref


@dataclass(frozen=True)
class Resource:
    plural: str  # the endpoint and the list's key: "dataElements"
    klass: str  # DHIS2's class name, for "DataElement with id … could not be found."
    rows: Callable[[Dhis2Ids, str], list[dict]]  # (ids, api base URL) -> every object
    default_order: str = "name"


def _named(uid: str, code: str | None, name: str, base: str, plural: str, short_name: str | None = None) -> dict:
    """The identifiable part every object shares (DHIS2 leaves out what is None)."""
    row = {"id": uid, "code": code, "name": name, "displayName": name, "href": f"{base}/{plural}/{uid}"}
    if short_name is not None:
        row["shortName"] = short_name
        row["displayShortName"] = short_name
    return row


def _org_units(ids: Dhis2Ids, base: str) -> list[dict]:
    data_sets: dict[str, list[Ref]] = {}
    for data_set in ids.data_sets.values():
        for unit in data_set.org_units:
            data_sets.setdefault(unit, []).append(Ref("dataSets", data_set.uid))
    rows = []
    for unit in ids.org_units.values():
        ancestors = [Ref("organisationUnits", uid) for uid in unit.path.strip("/").split("/")[:-1]]
        rows.append(_named(unit.uid, unit.code, unit.name, base, "organisationUnits", unit.name) | {
            "level": unit.level, "path": unit.path,
            "parent": Ref("organisationUnits", unit.parent) if unit.parent else None,
            "children": [Ref("organisationUnits", uid) for uid in unit.children],
            "ancestors": ancestors, "leaf": not unit.children,
            "dataSets": data_sets.get(unit.uid, []),
        })
    return rows


def _levels(ids: Dhis2Ids, base: str) -> list[dict]:
    from mel.uid import stable_uid

    levels = sorted({unit.level for unit in ids.org_units.values()})
    return [_named(stable_uid("organisationUnitLevel", str(level)), None, LEVEL_NAMES.get(level, f"Level {level}"),
                   base, "organisationUnitLevels") | {"level": level} for level in levels]


def _data_elements(ids: Dhis2Ids, base: str) -> list[dict]:
    return [_named(e.uid, e.code, e.name, base, "dataElements", e.short_name) | {
        "formName": e.name, "description": e.description or None, "valueType": e.value_type,
        "aggregationType": e.aggregation_type, "domainType": "AGGREGATE", "zeroIsSignificant": True,
        "categoryCombo": Ref("categoryCombos", e.category_combo),
        "dataSetElements": [{"dataSet": Ref("dataSets", ds), "dataElement": Ref("dataElements", e.uid)}
                            for ds in e.data_sets],
    } for e in ids.data_elements.values()]


def _data_sets(ids: Dhis2Ids, base: str) -> list[dict]:
    rows = []
    for ds in ids.data_sets.values():
        indicators = [uid for uid, indicator in ids.indicators.items()
                      if set(indicator.data_elements) <= set(ds.data_elements)]
        rows.append(_named(ds.uid, ds.code, ds.name, base, "dataSets", ds.name[:50]) | {
            "periodType": ds.period_type, "categoryCombo": Ref("categoryCombos", ds.category_combo),
            "dataSetElements": [{"dataElement": Ref("dataElements", de), "dataSet": Ref("dataSets", ds.uid)}
                                for de in ds.data_elements],
            "organisationUnits": [Ref("organisationUnits", uid) for uid in ds.org_units],
            "indicators": [Ref("indicators", uid) for uid in indicators],
            "expiryDays": ds.expiry_days, "timelyDays": ds.timely_days, "openFuturePeriods": 0,
            "validCompleteOnly": False, "noValueRequiresComment": False, "fieldCombinationRequired": False,
            "compulsoryFieldsCompleteOnly": False,
        })
    return rows


def _category_combos(ids: Dhis2Ids, base: str) -> list[dict]:
    return [_named(cc.uid, cc.code, cc.name, base, "categoryCombos") | {
        "dataDimensionType": cc.data_dimension_type, "isDefault": cc.is_default, "skipTotal": False,
        "categories": [Ref("categories", uid) for uid in cc.categories],
        "categoryOptionCombos": [Ref("categoryOptionCombos", uid) for uid in cc.option_combos],
    } for cc in ids.category_combos.values()]


def _option_combos(ids: Dhis2Ids, base: str) -> list[dict]:
    # Attribute option combos are category option combos too (of the "Programme" attribute combo).
    rows = [_named(c.uid, c.code, c.name, base, "categoryOptionCombos") | {
        "categoryCombo": Ref("categoryCombos", c.category_combo), "ignoreApproval": False,
        "categoryOptions": [Ref("categoryOptions", uid) for uid in c.category_options],
    } for c in ids.option_combos.values()]
    from mel.dhis2.ids import PROGRAMME_CATEGORY_COMBO_UID

    rows += [_named(a.uid, a.code, a.name, base, "categoryOptionCombos") | {
        "categoryCombo": Ref("categoryCombos", PROGRAMME_CATEGORY_COMBO_UID), "ignoreApproval": False,
        "categoryOptions": [Ref("categoryOptions", a.category_option)],
    } for a in ids.attribute_combos.values()]
    return rows


def _categories(ids: Dhis2Ids, base: str) -> list[dict]:
    return [_named(c.uid, c.code, c.name, base, "categories", c.name) | {
        "dataDimensionType": c.data_dimension_type, "dataDimension": True,
        "categoryOptions": [Ref("categoryOptions", uid) for uid in c.options],
        "categoryCombos": [Ref("categoryCombos", uid) for uid in c.category_combos],
    } for c in ids.categories.values()]


def _category_options(ids: Dhis2Ids, base: str) -> list[dict]:
    return [_named(o.uid, o.code, o.name, base, "categoryOptions", o.name[:50]) | {
        "isDefault": o.is_default,
        "categories": [Ref("categories", uid) for uid in o.categories],
        "categoryOptionCombos": [Ref("categoryOptionCombos", uid) for uid in o.option_combos],
    } for o in ids.category_options.values()]


def _indicators(ids: Dhis2Ids, base: str) -> list[dict]:
    data_sets: dict[str, list[Ref]] = {}
    for ds in ids.data_sets.values():
        for uid, indicator in ids.indicators.items():
            if set(indicator.data_elements) <= set(ds.data_elements):
                data_sets.setdefault(uid, []).append(Ref("dataSets", ds.uid))
    return [_named(i.uid, i.code, i.name, base, "indicators", i.short_name) | {
        "description": i.description or None, "numerator": i.numerator, "denominator": i.denominator,
        "numeratorDescription": i.numerator_description, "denominatorDescription": i.denominator_description,
        "displayNumeratorDescription": i.numerator_description,
        "displayDenominatorDescription": i.denominator_description,
        "indicatorType": Ref("indicatorTypes", i.indicator_type), "annualized": False,
        "dataSets": data_sets.get(i.uid, []),
    } for i in ids.indicators.values()]


def _indicator_types(ids: Dhis2Ids, base: str) -> list[dict]:
    return [_named(t.uid, None, t.name, base, "indicatorTypes") | {"factor": t.factor, "number": t.number}
            for t in ids.indicator_types.values()]


RESOURCES = {r.plural: r for r in (
    Resource("organisationUnits", "OrganisationUnit", _org_units),
    Resource("organisationUnitLevels", "OrganisationUnitLevel", _levels, default_order="level"),
    Resource("dataElements", "DataElement", _data_elements),
    Resource("dataSets", "DataSet", _data_sets),
    Resource("categoryCombos", "CategoryCombo", _category_combos),
    Resource("categoryOptionCombos", "CategoryOptionCombo", _option_combos),
    Resource("categories", "Category", _categories),
    Resource("categoryOptions", "CategoryOption", _category_options),
    Resource("indicators", "Indicator", _indicators),
    Resource("indicatorTypes", "IndicatorType", _indicator_types),
)}


class Tables:
    """This request's resource tables, built on first use, and the resolver of references between them."""

    def __init__(self, ids: Dhis2Ids, base: str) -> None:
        self.ids, self.base = ids, base
        self._rows: dict[str, dict[str, dict]] = {}

    def table(self, plural: str) -> dict[str, dict]:
        if plural not in self._rows:
            self._rows[plural] = {row["id"]: row for row in RESOURCES[plural].rows(self.ids, self.base)}
        return self._rows[plural]

    def resolve(self, ref: Ref) -> dict | None:
        return self.table(ref.resource).get(ref.uid) if ref.resource in RESOURCES else None

    def sample(self, plural: str) -> dict | None:
        """Every property of the resource (the union of its objects'), to check filter paths against."""
        if plural not in RESOURCES:
            return None
        merged: dict = {}
        for row in self.table(plural).values():
            for key, value in row.items():
                if merged.get(key) in (None, [], ()):
                    merged[key] = value
        return merged


def api_base() -> str:
    """The API root of this request: …/api or …/api/41, as the client called it."""
    parts = request.path.split("/")
    prefix = f"/api/{parts[2]}" if len(parts) > 2 and parts[2].isdigit() else "/api"
    return request.url_root.rstrip("/") + prefix


def _params() -> list[tuple[str, str]]:
    return [(k, v) for k, values in request.args.lists() for v in values]


def _filtered(tables: Tables, plural: str) -> list[dict]:
    rows = list(tables.table(plural).values())
    filters = [query.parse_filter(text) for text in request.args.getlist("filter")]
    sample = tables.sample(plural)
    for condition in filters:
        query.check_path(sample, condition.path, tables.sample)
    if plural == "organisationUnits":
        rows = _org_unit_parameters(rows)
    if filters:
        junction = (request.args.get("rootJunction") or "AND").strip().upper()
        combine = any if junction == "OR" else all
        rows = [row for row in rows if combine(query.matches(row, f, tables.resolve) for f in filters)]
    orders = query.parse_order(request.args.getlist("order"))
    default = RESOURCES[plural].default_order
    return query.sort_rows(rows, orders or [(default, False, False)])


def _org_unit_parameters(rows: list[dict]) -> list[dict]:
    """`level=` (absolute level) and `maxLevel=` of /api/organisationUnits."""
    for name, keep in (("level", lambda row, n: row["level"] == n), ("maxLevel", lambda row, n: row["level"] <= n)):
        raw = request.args.get(name)
        if raw not in (None, ""):
            number = query.positive_int(raw, name, 1)
            rows = [row for row in rows if keep(row, number)]
    return rows


def _answer(fn):
    """Run a metadata view: the caller must be signed in; query errors are DHIS2's 409."""
    def view(**kwargs):
        dhis2_user()
        try:
            return fn(**kwargs)
        except query.QueryError as exc:
            raise Dhis2Error(409, str(exc)) from None
    view.__name__ = fn.__name__
    return view


def list_view(plural: str):
    def listing():
        tables = Tables(load_ids(db.session), api_base())
        rows = _filtered(tables, plural)
        paging = (request.args.get("paging") or "true").strip().lower() != "false"
        page = query.positive_int(request.args.get("page"), "page", 1)
        size = query.positive_int(request.args.get("pageSize"), "pageSize", query.DEFAULT_PAGE_SIZE)
        chosen = query.paginate(rows, page=page, page_size=size, paging=paging, base_url=request.base_url,
                                params=_params())
        fields = query.parse_fields(request.args.getlist("fields"))
        body: dict = {}
        if chosen.pager is not None:
            body["pager"] = chosen.pager
        body[plural] = [query.select(row, fields, tables.resolve) for row in chosen.rows]
        return jsonify(body)
    listing.__name__ = plural
    return _answer(listing)


def item_view(plural: str):
    def item(uid: str):
        uid = uid.removesuffix(".json")
        tables = Tables(load_ids(db.session), api_base())
        row = tables.table(plural).get(uid)
        if row is None:
            raise Dhis2Error(404, f"{RESOURCES[plural].klass} with id {uid} could not be found.", "E1005")
        fields = query.parse_fields(request.args.getlist("fields"), default="*")
        if plural == "organisationUnits" and _truthy("includeChildren", "includeDescendants", "includeAncestors"):
            related = _related_units(tables, row)
            return jsonify({plural: [query.select(r, fields, tables.resolve) for r in related]})
        return jsonify(query.select(row, fields, tables.resolve))
    item.__name__ = f"{plural}_item"
    return _answer(item)


def _truthy(*names: str) -> bool:
    return any((request.args.get(n) or "").lower() == "true" for n in names)


def _related_units(tables: Tables, row: dict) -> list[dict]:
    """The unit with its children, descendants or ancestors (DHIS2's include* parameters)."""
    units = tables.table("organisationUnits")
    found = [row]
    if _truthy("includeAncestors"):
        found = [units[ref.uid] for ref in row["ancestors"]] + found
    if _truthy("includeDescendants"):
        found += [u for u in units.values() if u["path"].startswith(row["path"] + "/")]
    elif _truthy("includeChildren"):
        found += [units[ref.uid] for ref in row["children"]]
    return found


def register(bp: Blueprint) -> None:
    """Add this module's routes to the DHIS2 blueprint: a list and an object route per resource."""
    for plural in RESOURCES:
        listing, item = list_view(plural), item_view(plural)
        bp.add_url_rule(f"/{plural}", endpoint=plural, view_func=listing)
        bp.add_url_rule(f"/{plural}.json", endpoint=plural, view_func=listing)
        bp.add_url_rule(f"/{plural}/<uid>", endpoint=f"{plural}_item", view_func=item)
