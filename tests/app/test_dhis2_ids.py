"""The one mapping between the catalogue and DHIS2 ids (mel/dhis2/ids.py)."""

from __future__ import annotations

import pytest

from mel import clock
from mel.catalogue.lookup import load_catalogue
from mel.dhis2.ids import DEFAULT_COMBO_UID, load_ids
from mel.uid import is_uid, stable_uid

KINDS = ("dataElement", "orgUnit", "categoryOptionCombo", "attributeOptionCombo", "dataSet", "indicator")


@pytest.fixture
def ids(app, session):
    with app.test_request_context():
        yield load_ids(session), load_catalogue(session)


def test_every_catalogue_indicator_maps_to_its_data_elements_and_a_dhis2_indicator(ids):
    dhis2, catalogue = ids
    assert catalogue.indicators
    for code, indicator in catalogue.indicators.items():
        if indicator.is_ratio:
            numerator = dhis2.data_element_for(code, "numerator")
            denominator = dhis2.data_element_for(code, "denominator")
            assert (numerator.code, denominator.code) == (f"{code}.N", f"{code}.D")
            assert numerator.uid == stable_uid("dataElement", f"{code}.N")
            with pytest.raises(KeyError):
                dhis2.data_element_for(code, "value")
        else:
            element = dhis2.data_element_for(code, "value")
            assert element.code == code and element.uid == stable_uid("dataElement", code)
            with pytest.raises(KeyError):
                dhis2.data_element_for(code, "numerator")
        shown = dhis2.indicators[indicator.uid]
        assert shown.code == code
        for element_uid in shown.data_elements:
            assert f"#{{{element_uid}" in shown.numerator + shown.denominator
    components = sum(len(i.components) for i in catalogue.indicators.values())
    assert len(dhis2.data_elements) == components
    assert all(is_uid(uid) for uid in dhis2.data_elements)


def test_a_ratio_indicator_divides_its_numerator_by_its_denominator_with_its_factor(ids):
    dhis2, catalogue = ids
    code, indicator = next((c, i) for c, i in catalogue.indicators.items() if i.is_ratio)
    shown = dhis2.indicators[indicator.uid]
    assert dhis2.data_element_for(code, "numerator").uid in shown.numerator
    assert dhis2.data_element_for(code, "denominator").uid in shown.denominator
    assert dhis2.indicator_types[shown.indicator_type].factor == indicator.factor


def test_option_combo_codes_are_globally_unique_and_the_default_is_dhis2s(ids):
    dhis2, catalogue = ids
    codes = [c.code.casefold() for c in dhis2.option_combos.values()]
    assert len(codes) == len(set(codes))
    names = [c.name.casefold() for c in dhis2.option_combos.values()]
    assert len(names) == len(set(names))
    default = dhis2.option_combos[DEFAULT_COMBO_UID]
    assert default.code == "default" and default.is_default
    # Every option of every indicator has its combo, and the data element's category combo holds it.
    for code, indicator in catalogue.indicators.items():
        for component in indicator.components:
            element = dhis2.data_element_for(code, component)
            for combo in indicator.disaggregation_set.combos:
                found = dhis2.option_combo_for(element.uid, combo.code)
                assert found.option_code == combo.code
                assert found.uid in dhis2.category_combos[element.category_combo].option_combos
    sex_female = dhis2.resolve("categoryOptionCombo", "SEX_F", "CODE")
    assert sex_female is not None and sex_female.indicator_option == ("sex", "F")


def test_programmes_are_attribute_option_combos_of_their_data_sets(ids):
    dhis2, catalogue = ids
    for code, programme in catalogue.programmes.items():
        aoc = dhis2.attribute_combo_for(code)
        assert aoc.uid == stable_uid("attributeOptionCombo", code)
        assert aoc.category_option == programme.uid
        assert dhis2.category_options[programme.uid].option_combos == (aoc.uid,)
    for programme_id, form in catalogue.forms.items():
        data_set = dhis2.data_set_for(catalogue.programme_by_id[programme_id].code)
        assert data_set.uid == form.uid and data_set.period_type == "Quarterly"
        assert dhis2.category_combos[data_set.category_combo].data_dimension_type == "ATTRIBUTE"
        assert {u.uid for u in form.org_units_in(clock.reporting_quarter().id)} == set(data_set.org_units)
        for element_uid in data_set.data_elements:
            assert data_set.uid in dhis2.data_elements[element_uid].data_sets


def test_org_unit_paths_are_the_uids_of_their_ancestors(ids):
    dhis2, catalogue = ids
    kenya = dhis2.org_unit_for("KE")
    kisumu = dhis2.org_unit_for("042")
    assert kenya.path == f"/{kenya.uid}" and kenya.parent is None and kenya.level == 1
    assert kisumu.path == f"/{kenya.uid}/{kisumu.uid}" and kisumu.parent == kenya.uid
    assert kisumu.uid in kenya.children
    assert len([u for u in dhis2.org_units.values() if u.level == 2]) == 47


@pytest.mark.parametrize("kind", KINDS)
def test_every_object_resolves_by_uid_code_and_name(ids, kind):
    dhis2, _ = ids
    table = dhis2._table(kind)
    assert table
    for obj in table.values():
        assert dhis2.resolve(kind, obj.uid, "UID") is obj
        assert dhis2.resolve(kind, obj.uid, "id") is obj
        assert dhis2.resolve(kind, f" {obj.code.lower()} ", "CODE") is obj
        assert dhis2.resolve(kind, obj.name.upper(), "name") is obj
        for scheme, expected in (("UID", obj.uid), ("CODE", obj.code), ("NAME", obj.name)):
            assert dhis2.identify(kind, obj, scheme) == expected


@pytest.mark.parametrize(("kind", "value", "scheme"), [
    ("dataElement", "NOPE", "CODE"), ("dataElement", "abcdefghijk", "UID"), ("orgUnit", "048", "CODE"),
    ("categoryOptionCombo", "F", "CODE"), ("attributeOptionCombo", "", "UID"), ("dataSet", "x", "NAME"),
    ("indicator", "SA02", "ATTRIBUTE:abc"), ("period", "2025Q3", "UID"),
])
def test_unknowns_give_none(ids, kind, value, scheme):
    dhis2, _ = ids
    assert dhis2.resolve(kind, value, scheme) is None


def test_our_org_unit_spellings_resolve_in_the_code_scheme(ids):
    dhis2, _ = ids
    kisumu = dhis2.org_unit_for("042")
    assert dhis2.resolve("orgUnit", "42", "CODE") is kisumu
    assert dhis2.resolve("orgUnit", kisumu.iso_code, "CODE") is kisumu


def test_the_ids_are_built_once_while_the_catalogue_is_unchanged(app, session):
    with app.test_request_context():
        first = load_ids(session)
        assert load_ids(session) is first
    with app.test_request_context():
        assert load_ids(session) is first
