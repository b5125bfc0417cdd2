"""DHIS2's analytics Grid from computed figures: headers, metaData (items, dimensions), rows of strings, CSV."""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal, localcontext
from itertools import product

from mel.dhis2.analytics_figures import Cell
from mel.dhis2.analytics_query import (
    ATTRIBUTE_OPTION_COMBO,
    CATEGORY_OPTION_COMBO,
    DATA,
    DIMENSION_TYPES,
    DISPLAY_NAMES,
    NUM_DEN,
    ORG_UNIT,
    PERIOD,
    Options,
    Plan,
)


def format_number(value: float | None, skip_rounding: bool = False) -> str:
    """DHIS2's rounding (2 decimals, half up; 10 with skipRounding), whole numbers without decimals,
    never scientific notation."""
    if value is None:
        return ""
    with localcontext() as context:
        context.prec = 80
        exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-10 if skip_rounding else -2),
                                                     rounding=ROUND_HALF_UP)
        text = format(exact, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class _Names:
    """Output ids and names of the query's items, in the requested id schemes and display property."""

    def __init__(self, ids, options: Options) -> None:
        self.ids, self.options = ids, options

    def scheme(self, kind: str) -> str:
        special = {"dataElement": self.options.output_data_element_id_scheme,
                   "orgUnit": self.options.output_org_unit_id_scheme}.get(kind)
        return special or self.options.output_id_scheme

    def key(self, dimension: str, item) -> str:
        if dimension == PERIOD:
            return item.id
        if dimension == DATA:
            kind = "indicator" if item.kind == "indicator" else "dataElement"
            found = self.ids.identify(kind, item.obj, self.scheme(kind))
            if item.kind == "operand":  # DHIS2's operand id: `de.coc`
                found += "." + self.ids.identify("categoryOptionCombo", item.combo, self.scheme(""))
            return found
        kind = {ORG_UNIT: "orgUnit", ATTRIBUTE_OPTION_COMBO: "attributeOptionCombo",
                CATEGORY_OPTION_COMBO: "categoryOptionCombo"}[dimension]
        return self.ids.identify(kind, item, self.scheme(kind))

    def name(self, dimension: str, item) -> str:
        short = self.options.display_property == "SHORTNAME"
        if dimension == PERIOD:
            return item.short_label if short else item.label
        obj = item.obj if dimension == DATA else item
        name = (getattr(obj, "short_name", None) if short else None) or obj.name
        return f"{name} {item.combo.name}" if dimension == DATA and item.kind == "operand" else name

    def details(self, dimension: str, item) -> dict:
        """includeMetadataDetails: the MetadataItem fields DHIS2 adds to a name."""
        if dimension == PERIOD:
            return {"uid": item.id, "code": item.id, "dimensionItemType": "PERIOD", "valueType": "TEXT",
                    "totalAggregationType": "SUM", "startDate": f"{item.start.isoformat()}T00:00:00.000",
                    "endDate": f"{item.end.isoformat()}T00:00:00.000"}
        obj = item.obj if dimension == DATA else item
        found = {"uid": obj.uid, "code": obj.code}
        if dimension == DATA and item.kind != "indicator":
            found |= {"dimensionItemType": "DATA_ELEMENT" if item.kind == "dataElement" else "DATA_ELEMENT_OPERAND",
                      "valueType": "NUMBER",
                      "aggregationType": obj.aggregation_type, "totalAggregationType": "SUM"}
        elif dimension == DATA:
            kind = self.ids.indicator_types.get(obj.indicator_type)
            found |= {"dimensionItemType": "INDICATOR", "valueType": "NUMBER", "totalAggregationType": "SUM"}
            if kind is not None:
                found["indicatorType"] = {"name": kind.name, "displayName": kind.name, "factor": kind.factor,
                                          "number": kind.number}
        elif dimension == ORG_UNIT:
            found |= {"dimensionItemType": "ORGANISATION_UNIT", "valueType": "TEXT", "totalAggregationType": "SUM"}
        else:
            found |= {"dimensionItemType": "CATEGORY_OPTION_COMBO", "valueType": "NUMBER",
                      "totalAggregationType": "SUM"}
        return found


def _metadata(plan: Plan, names: _Names) -> dict:
    details = plan.options.include_metadata_details
    items: dict[str, dict] = {}
    dimensions: dict[str, list[str]] = {PERIOD: [], CATEGORY_OPTION_COMBO: []}
    for axis in plan.axes:
        keys = []
        for item in axis.items:
            key = names.key(axis.dimension, item)
            keys.append(key)
            items[key] = {"name": names.name(axis.dimension, item)} | (names.details(axis.dimension, item)
                                                                      if details else {})
            if axis.dimension == DATA and item.kind != "indicator":
                for combo in names.ids.combos_of(item.obj.uid):
                    items.setdefault(names.ids.identify("categoryOptionCombo", combo, names.scheme("")),
                                     {"name": combo.name})
        items[axis.dimension] = {"name": DISPLAY_NAMES[axis.dimension]} | (
            {"uid": axis.dimension, "dimensionType": DIMENSION_TYPES[axis.dimension]} if details else {})
        for key, name in axis.keywords:
            items.setdefault(key, {"name": name})
        dimensions[axis.dimension] = list(dict.fromkeys(keys))
    return {"items": items, "dimensions": dimensions}


def build_grid(plan: Plan, cells: dict[tuple, Cell], ids) -> dict:
    """DHIS2's Grid of an analytics query: headers, metaData, rows (strings), height, width, headerWidth."""
    options = plan.options
    names = _Names(ids, options)
    headers: list[dict] = []
    rows: list[list[str]] = []
    if not options.skip_data:
        dims = plan.dimensions
        headers = [{"name": a.dimension, "column": DISPLAY_NAMES[a.dimension], "valueType": "TEXT",
                    "type": "java.lang.String", "hidden": False, "meta": True} for a in dims]
        measures = [("value", "Value")] + (list(NUM_DEN) if options.include_num_den else [])
        headers += [{"name": name, "column": column, "valueType": "NUMBER", "type": "java.lang.Double",
                     "hidden": False, "meta": False} for name, column in measures]
        keyed = {a.dimension: a for a in dims}
        for combo in product(*(a.items for a in dims)):
            chosen = dict(zip((a.dimension for a in dims), combo, strict=True))
            key = (chosen.get(DATA), _row_key(PERIOD, chosen), _row_key(ORG_UNIT, chosen),
                   _row_key(ATTRIBUTE_OPTION_COMBO, chosen), _row_key(CATEGORY_OPTION_COMBO, chosen))
            cell = cells.get(key)
            if cell is None:
                continue
            row = [names.key(dimension, chosen[dimension]) for dimension in keyed]
            row.append(format_number(cell.value, options.skip_rounding))
            if options.include_num_den:
                multiplier = cell.factor
                row += [format_number(v, options.skip_rounding)
                        for v in (cell.numerator, cell.denominator, cell.factor, multiplier,
                                  None if cell.factor is None else 1.0)]
            rows.append(row)
    return {"headers": headers, "metaData": {} if options.skip_meta else _metadata(plan, names), "rowContext": {},
            "rows": rows, "width": len(rows[0]) if rows else 0, "height": len(rows), "headerWidth": len(headers)}


def _row_key(dimension: str, chosen: dict) -> str | None:
    item = chosen.get(dimension)
    if item is None:
        return None
    return {PERIOD: lambda p: p.id, ORG_UNIT: lambda u: u.our_code, ATTRIBUTE_OPTION_COMBO: lambda a: a.programme,
            CATEGORY_OPTION_COMBO: lambda c: c.uid}[dimension](item)


def grid_csv(grid: dict) -> str:
    """The grid as DHIS2's analytics.csv: a header row of column titles, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if grid["headers"]:
        writer.writerow([h["column"] for h in grid["headers"]])
    writer.writerows(grid["rows"])
    return buffer.getvalue()
