"""marshmallow schemas that turn catalogue objects into JSON and query strings into values."""

from __future__ import annotations

import marshmallow as ma

from indicators.periods import PeriodType
from mel.catalogue.models import LEVELS, MEASURES
from mel.converters import PeriodField


class OrgUnitSchema(ma.Schema):
    uid = ma.fields.String()
    code = ma.fields.String(metadata={"description": "KE; a county's constitutional code 001–047; SC001–SC290 "
                                                 "(sub-county: IEBC constituency 001–290); W0001–W1450 (IEBC ward)"})
    name = ma.fields.String()
    level = ma.fields.Integer(metadata={"description": "1 national, 2 county, 3 sub-county (constituency), 4 ward"})
    path = ma.fields.String()
    iso_code = ma.fields.String(allow_none=True, metadata={"description": "ISO 3166-2 code"})
    former_province = ma.fields.String(allow_none=True)
    parent = ma.fields.Function(lambda u: u.path.strip("/").split("/")[-2] if u.level > 1 else None)


class OrgUnitQuerySchema(ma.Schema):
    level = ma.fields.Integer(validate=ma.validate.Range(1, 4))
    parent = ma.fields.String(metadata={"description": "Code of the parent org unit, e.g. KE"})


_SW = {"description": "In Kiswahili; empty while not translated (Kiswahili pages then show the English text)"}


class PillarSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    name_sw = ma.fields.String(metadata=_SW)


class ProgrammeSchema(ma.Schema):
    uid = ma.fields.String()
    code = ma.fields.String()
    name = ma.fields.String()
    pillar = ma.fields.Nested(PillarSchema)
    agency = ma.fields.String()
    level = ma.fields.String(metadata={"description": "national or county"})
    notes = ma.fields.String(metadata={"description": "What the programme gives whom, in a line"})
    name_sw = ma.fields.String(metadata=_SW)
    notes_sw = ma.fields.String(metadata=_SW)
    org_units = ma.fields.Function(
        lambda p: [u.code for u in p.org_units],
        metadata={"description": "Codes of the org units where the programme operates"},
    )


class ResultsNodeSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    name_sw = ma.fields.String(metadata=_SW)
    kind = ma.fields.String()


class OptionComboSchema(ma.Schema):
    uid = ma.fields.String()
    code = ma.fields.String()
    name = ma.fields.String()
    name_sw = ma.fields.String(metadata=_SW)
    is_total = ma.fields.Boolean()


class DisaggregationSetSchema(ma.Schema):
    uid = ma.fields.String()
    code = ma.fields.String()
    name = ma.fields.String()
    name_sw = ma.fields.String(metadata=_SW)
    categories = ma.fields.Function(lambda s: [c.category.code for c in s.categories])
    combos = ma.fields.List(ma.fields.Nested(OptionComboSchema))


class IndicatorChecksSchema(ma.Schema):
    min_change = ma.fields.Float(allow_none=True, attribute="check_min_change",
                                 metadata={"description": "Share of the usual level, e.g. 0.33"})
    min_absolute = ma.fields.Float(allow_none=True, attribute="check_min_absolute",
                                   metadata={"description": "In the indicator's unit"})
    min_points = ma.fields.Float(allow_none=True, attribute="check_min_points",
                                 metadata={"description": "Percentage points, for percentages"})
    seasonal = ma.fields.Boolean(attribute="check_seasonal",
                                 metadata={"description": "Compared with the same quarter of earlier years"})
    note = ma.fields.String(attribute="check_note")


class IndicatorSchema(ma.Schema):
    """An indicator with the fields of its Performance Indicator Reference Sheet."""

    uid = ma.fields.String()
    code = ma.fields.String()
    name = ma.fields.String()
    short_name = ma.fields.String()
    definition = ma.fields.String()
    name_sw = ma.fields.String(metadata={"description": "In Kiswahili; empty while not translated. Not part of the "
                                                        "versioned reference sheet"})
    short_name_sw = ma.fields.String(metadata=_SW)
    definition_sw = ma.fields.String(metadata=_SW)
    pillar = ma.fields.Nested(PillarSchema)
    results_node = ma.fields.Nested(ResultsNodeSchema, allow_none=True)
    level = ma.fields.String()
    unit = ma.fields.String()
    measure = ma.fields.String(metadata={"description": "count, amount or ratio"})
    factor = ma.fields.Integer(allow_none=True, metadata={"description": "100 for percentages"})
    numerator = ma.fields.String()
    denominator = ma.fields.String()
    calculation = ma.fields.String()
    time_aggregation = ma.fields.String(metadata={"description": "sum (flows) or last (stocks)"})
    is_additive_across_programmes = ma.fields.Boolean()
    disaggregation = ma.fields.Nested(DisaggregationSetSchema, attribute="disaggregation_set")
    direction = ma.fields.String()
    frequency = ma.fields.String()
    data_source = ma.fields.String()
    collection_method = ma.fields.String()
    means_of_verification = ma.fields.String()
    responsible_agency = ma.fields.String()
    limitations = ma.fields.String()
    basis = ma.fields.String()
    checks = ma.fields.Nested(IndicatorChecksSchema, attribute="check_settings", metadata={
        "description": "When a figure of this indicator gets a history warning (empty thresholds: the measure's default)"})
    version = ma.fields.Integer(metadata={"description": "The reference sheet's version (each change makes one)"})
    is_active = ma.fields.Boolean(metadata={"description": "false: retired (no longer asked for; figures stay)"})
    replaced_by = ma.fields.Function(lambda i: i.replaced_by.code if i.replaced_by else None, allow_none=True,
                                     metadata={"description": "Code of the indicator that replaced a retired one"})
    replaces = ma.fields.Function(lambda i: [r.code for r in i.replaces],
                                  metadata={"description": "Codes of the retired indicators this one replaces"})


class IndicatorQuerySchema(ma.Schema):
    pillar = ma.fields.String(metadata={"description": "Pillar code, e.g. social_assistance"})
    measure = ma.fields.String(validate=ma.validate.OneOf(MEASURES))
    level = ma.fields.String(validate=ma.validate.OneOf(LEVELS))
    programme = ma.fields.String(metadata={"description": "Only indicators on this programme's form"})
    q = ma.fields.String(metadata={"description": "Search in code and name (English or Kiswahili)"})


class PeriodSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "DHIS2 period identifier"})
    type = ma.fields.Function(lambda p: p.type.value)
    label = ma.fields.String(metadata={"description": "Kenyan label, e.g. FY2025/26 Q1 (Jul–Sep 2025)"})
    short_label = ma.fields.String()
    start = ma.fields.Date()
    end = ma.fields.Date()


class PeriodQuerySchema(ma.Schema):
    type = ma.fields.String(
        load_default="quarter",
        validate=ma.validate.OneOf([t.value for t in PeriodType]),
    )
    fy = PeriodField(
        "any",
        metadata={"description": "Financial year, e.g. 2025July; default: the current one"},
    )
