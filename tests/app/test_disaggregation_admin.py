"""Disaggregations kept by the secretariat on the web and the API: categories, options and sets; option
combinations generated as DHIS2 does; an option retired (never deleted while figures use it) keeps its
figures and takes no new ones; every change audited with before and after; the seed keeps them."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from indicators.disaggregation import MAX_COMBINATIONS, Option, combination_problems, combinations
from mel.accounts.models import AuditEvent
from mel.accounts.operations import create_token, load_user
from mel.catalogue import disaggregation_admin as admin
from mel.catalogue import disaggregation_combos as combos
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import (
    CategoryOption,
    DisaggregationCategory,
    DisaggregationSet,
    OptionCombo,
)
from mel.catalogue.operations import seed_catalogue
from mel.errors import Conflict, Forbidden, ValidationFailed
from mel.returns import queries as return_queries
from mel.returns.ingest import Incoming, ingest
from mel.returns.models import DataValue
from tests.app.returns_helpers import CANONICAL, IN_WINDOW
from tests.helpers import csrf_token

SECRETARIAT = "secretariat@demo.test"


def _actor(session, email=SECRETARIAT):
    return load_user(session, email)


def _token(session, email=SECRETARIAT):
    return {"Authorization": f"Bearer {create_token(session, email, name='disaggregations').token}"}


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/catalogue/disaggregations"), **data})


def _combo_codes(session, set_code):
    dset = combos.find_set(session, set_code)
    return [(c.code, bool(c.is_active)) for c in combos.combos_of(session, dset.id)]


def _events(session, obj):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.object == obj).order_by(AuditEvent.id)))


def _figures(session):
    return session.scalar(select(func.count()).select_from(DataValue))


def _disability(session, **extra):
    return admin.create_category(session, _actor(session), {
        "code": "disability", "name": "Disability status",
        "options": [{"code": "D", "name": "With a disability"}, {"code": "ND", "name": "Without a disability"}],
        **extra}, "Needed for PWSD reporting.")


# --------------------------------------------------------------------------- generation (pure)


def test_combinations_cross_the_options_in_category_order_as_dhis2_does():
    sex = [Option("F", "Female"), Option("M", "Male")]
    age = [Option("A00_17", "0-17 years"), Option("A70P", "70 years and above", datetime(2026, 1, 2, tzinfo=UTC))]
    crossed = combinations([sex, age])
    assert [(c.code, c.name, c.is_total, c.sort_order) for c in crossed] == [
        ("F_A00_17", "Female, 0-17 years", False, 0), ("F_A70P", "Female, 70 years and above", False, 1),
        ("M_A00_17", "Male, 0-17 years", False, 2), ("M_A70P", "Male, 70 years and above", False, 3),
        ("total", "Total", True, 4)]
    assert [c.is_active for c in crossed] == [True, False, True, False, True]
    assert crossed[1].options == ("F", "A70P") and crossed[1].retired_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert [(c.code, c.name) for c in combinations([])] == [("default", "default (no disaggregation)")]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.from_regex(r"[A-Z][A-Z0-9]{0,3}", fullmatch=True), min_size=1, max_size=4, unique=True),
                min_size=1, max_size=3))
def test_a_set_has_one_combination_per_crossing_plus_its_total(codes):
    categories = [[Option(code, code.lower()) for code in options] for options in codes]
    crossed = combinations(categories)
    assert len(crossed) == math.prod(len(options) for options in codes) + 1
    assert crossed[-1].is_total and [c.sort_order for c in crossed] == list(range(len(crossed)))
    for combo in crossed[:-1]:
        assert combo.code == "_".join(combo.options)
        assert all(option in category for option, category in zip(combo.options, codes, strict=True))


@pytest.mark.parametrize("categories, words", [
    ([[Option("A_B", "x"), Option("A", "y")], [Option("C", "z"), Option("B_C", "w")]], "both give the combination code A_B_C"),
    ([[Option("X" * 20, "x")]] * 5, "at most 80"),
    ([[Option("X", "n" * 120)], [Option("Y", "m" * 120)]], "at most 200"),
    ([[Option(f"O{i}", "o") for i in range(11)]] * 2, f"more than {MAX_COMBINATIONS}"),
    ([[Option("X", "x")], []], "no option"),
])
def test_crossings_the_columns_cannot_hold_are_refused_in_words(categories, words):
    assert any(words in problem for problem in combination_problems(categories))


# --------------------------------------------------------------------------- categories, options, sets


def test_the_secretariat_creates_a_category_and_a_set_on_the_web_and_the_combinations_are_generated(as_user, session):
    client = as_user(SECRETARIAT)
    assert client.get("/catalogue/disaggregations").status_code == 200
    response = _post(client, "/catalogue/disaggregations/categories/new", {
        "code": "disability", "name": "Disability status",
        "options": "D, With a disability\nND, Without a disability\n", "reason": "PWSD."})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    response = _post(client, "/catalogue/disaggregations/sets/new", {
        "code": "sex_disability", "name": "Sex and disability", "category.1": "sex", "category.2": "disability",
        "reason": "PWSD returns."})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _combo_codes(session, "sex_disability") == [
        ("F_D", True), ("F_ND", True), ("M_D", True), ("M_ND", True), ("total", True)]
    names = [c.name for c in combos.combos_of(session, combos.find_set(session, "sex_disability").id)]
    assert names[0] == "Female, With a disability"
    created = _events(session, "category disability")[0]
    assert created.action == "catalogue.category_created" and created.details["before"] == {}
    assert created.details["after"]["options"] == ["D: With a disability", "ND: Without a disability"]
    page = client.get("/catalogue/disaggregations/sets/sex_disability").get_data(as_text=True)
    assert "F_ND" in page and "Female, Without a disability" in page and "PWSD returns." in page
    assert "sex_disability" in client.get("/catalogue/disaggregations").get_data(as_text=True)


def test_the_combinations_count_is_the_product_of_the_options(session):
    actor = _actor(session)
    _disability(session)
    dset = admin.create_set(session, actor, {"code": "sex_age_disability", "name": "Sex, age and disability",
                                             "categories": ["sex", "age_group", "disability"]})
    stored = combos.combos_of(session, dset.id)
    assert len(stored) == 2 * 5 * 2 + 1
    assert stored[0].code == "F_A00_17_D" and stored[-1].code == "total"


CATEGORY_ERRORS = [
    ({"code": ""}, "code", "required"),
    ({"code": "Disability"}, "code", "not a possible code"),
    ({"code": "sex"}, "code", "already exists"),
    ({"code": "x" * 41}, "code", "not a possible code"),
    ({"name": ""}, "name", "required"),
    ({"name": "n" * 121}, "name", "at most 120"),
    ({"options": []}, "options", "at least one option"),
    ({"options": "D"}, "options", "at least one option"),
    ({"options": [{"code": "", "name": "x"}]}, "options.1.code", "required"),
    ({"options": [{"code": "D-1", "name": "x"}]}, "options.1.code", "not a possible code"),
    ({"options": [{"code": "total", "name": "x"}]}, "options.1.code", "kept for the set's own"),
    ({"options": [{"code": "D", "name": "x"}, {"code": "d", "name": "y"}]}, "options.2.code", "given twice"),
    ({"options": [{"code": "D", "name": ""}]}, "options.1.name", "required"),
    ({"options": [{"code": "D", "name": "n" * 121}]}, "options.1.name", "at most 120"),
]


@pytest.mark.parametrize("change, field, words", CATEGORY_ERRORS)
def test_each_field_error_of_a_new_category_is_located_and_nothing_is_stored(session, change, field, words):
    before = session.scalar(select(func.count()).select_from(DisaggregationCategory))
    data = {"code": "disability", "name": "Disability status", "options": [{"code": "D", "name": "With"}], **change}
    with pytest.raises(ValidationFailed) as refused:
        admin.create_category(session, _actor(session), data)
    assert any(d.location.get("field") == field and words in d.message for d in refused.value.details), \
        [d.message for d in refused.value.details]
    assert session.scalar(select(func.count()).select_from(DisaggregationCategory)) == before


SET_ERRORS = [
    ({"code": "sex"}, "code", "already exists"),
    ({"code": "Sex Age"}, "code", "not a possible code"),
    ({"name": ""}, "name", "required"),
    ({"categories": []}, "categories", "at least one category"),
    ({"categories": ["sex", "sex"]}, "categories", "given twice"),
    ({"categories": ["nope"]}, "categories", "is not a category"),
    ({"categories": ["sex", "age_group", "sex_x", "a", "b"]}, "categories", "at most 4"),
]


@pytest.mark.parametrize("change, field, words", SET_ERRORS)
def test_each_field_error_of_a_new_set_is_located_and_nothing_is_stored(session, change, field, words):
    before = session.scalar(select(func.count()).select_from(OptionCombo))
    data = {"code": "sex_two", "name": "Sex again", "categories": ["sex"], **change}
    with pytest.raises(ValidationFailed) as refused:
        admin.create_set(session, _actor(session), data)
    assert any(d.location.get("field") == field and words in d.message for d in refused.value.details), \
        [d.message for d in refused.value.details]
    assert session.scalar(select(func.count()).select_from(OptionCombo)) == before


def test_a_new_option_adds_its_combinations_to_every_set_and_keeps_the_others(session):
    sex_age = combos.find_set(session, "sex_age")
    ids = {c.code: c.id for c in combos.combos_of(session, sex_age.id)}
    admin.add_option(session, _actor(session), "age_group", {"code": "A80P", "name": "80 years and above"},
                     "Oldest pensioners apart.")
    after = {c.code: c for c in combos.combos_of(session, sex_age.id)}
    assert len(after) == 2 * 6 + 1 and {"F_A80P", "M_A80P"} <= set(after)
    assert all(after[code].id == combo_id for code, combo_id in ids.items())  # the same rows, figures kept
    assert [c.code for c in sorted(after.values(), key=lambda c: c.sort_order)][5:7] == ["F_A80P", "M_A00_17"]
    event = _events(session, "category age_group")[-1]
    assert event.action == "catalogue.category_changed" and event.details["reason"] == "Oldest pensioners apart."
    assert "A80P: 80 years and above" in event.details["after"]["options"]
    assert "A80P: 80 years and above" not in event.details["before"]["options"]
    assert load_catalogue(session).combos[("SA01", "F_A80P")] == after["F_A80P"].id


def test_renaming_and_reordering_options_renames_and_reorders_the_combinations(session):
    admin.change_category(session, _actor(session), "sex", {"name": "Sex", "options": [
        {"code": "M", "name": "Men"}, {"code": "F", "name": "Women"}]}, "Men first, in words.")
    assert [c for c, _ in _combo_codes(session, "sex")] == ["M", "F", "total"]
    assert [c for c, _ in _combo_codes(session, "sex_age")][:2] == ["M_A00_17", "M_A18_34"]
    names = {c.code: c.name for c in combos.combos_of(session, combos.find_set(session, "sex_age").id)}
    assert names["F_A70P"] == "Women, 70 years and above"
    with pytest.raises(ValidationFailed) as refused:  # an option left out is not deleted by an edit
        admin.change_category(session, _actor(session), "sex", {"options": [{"code": "F", "name": "Women"}]}, "x")
    assert "M is left out" in refused.value.details[0].message


def test_the_web_edit_form_renames_reorders_and_adds_an_option(as_user, session):
    client = as_user(SECRETARIAT)
    response = _post(client, "/catalogue/disaggregations/categories/sex", {
        "name": "Sex", "name.F": "Female", "name.M": "Male", "position.F": "2", "position.M": "1",
        "new.code": "X", "new.name": "Intersex", "new.position": "2", "reason": "As the census counts."})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert [o.code for o in combos.options_of(session, combos.find_category(session, "sex").id)] == ["M", "X", "F"]
    refused = _post(client, "/catalogue/disaggregations/categories/sex", {
        "name": "Sex", "position.F": "first", "reason": "x"})
    assert refused.status_code == 422 and "position of F" in refused.get_data(as_text=True)
    refused = _post(client, "/catalogue/disaggregations/categories/sex", {"name": "", "reason": ""})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'aria-invalid="true" aria-describedby="name-error"' in text
    assert "reason: say why" in text


# --------------------------------------------------------------------------- retiring and deleting


def test_retiring_an_option_marks_its_combinations_inactive_and_keeps_their_figures(session):
    figures = _figures(session)
    assert admin.set_option_active(session, _actor(session), "age_group", "A70P", False, "Merged into 60+.")
    retired = dict(_combo_codes(session, "sex_age"))
    assert (retired["F_A70P"], retired["M_A70P"], retired["F_A60_69"], retired["total"]) == (False, False, True, True)
    assert _figures(session) == figures
    catalogue = load_catalogue(session)
    assert "F_A70P" not in catalogue.specs["SA01"].options and len(catalogue.specs["SA01"].options) == 8
    assert ("SA01", "F_A70P") in catalogue.combos  # stored figures still resolve and show
    event = _events(session, "category age_group")[-1]
    assert event.action == "catalogue.option_retired" and event.details["option"] == "A70P"
    assert event.details["before"]["options"][-1] == "A70P: 70 years and above"
    assert event.details["after"]["options"][-1].startswith("A70P: 70 years and above (retired since ")
    assert not admin.set_option_active(session, _actor(session), "age_group", "A70P", False, "Again.")
    assert admin.set_option_active(session, _actor(session), "age_group", "A70P", True, "Back.")
    assert all(active for _, active in _combo_codes(session, "sex_age"))
    assert _events(session, "category age_group")[-1].action == "catalogue.option_reactivated"


@pytest.mark.parametrize("case", ["no reason", "last active", "unknown option", "unknown category", "reviewer"])
def test_retiring_is_refused_with_a_reason_and_nothing_changes(session, case):
    actor = _actor(session, "reviewer@demo.test" if case == "reviewer" else SECRETARIAT)
    if case == "last active":
        admin.set_option_active(session, _actor(session), "sex", "F", False, "Counted apart.")
    category, option = {"unknown category": ("nope", "F"), "unknown option": ("sex", "Q")}.get(case, ("sex", "M"))
    before = _combo_codes(session, "sex")
    expected = {"no reason": ValidationFailed, "last active": Conflict, "reviewer": Forbidden}.get(case)
    with pytest.raises(expected or Exception) as refused:
        admin.set_option_active(session, actor, category, option, False, "" if case == "no reason" else "Why.")
    assert refused.value.status in (422, 409, 404, 403)
    if case == "last active":
        assert "only active option of Sex" in refused.value.message
    assert _combo_codes(session, "sex") == before


def test_an_option_figures_use_is_not_deleted_and_the_refusal_says_how_many(session, as_user):
    used = combos.option_combos(session, combos.find_category(session, "age_group"), "A70P")
    count = session.scalar(select(func.count()).select_from(DataValue).where(DataValue.option_combo_id.in_(used)))
    assert count > 0
    with pytest.raises(Conflict) as refused:
        admin.delete_option(session, _actor(session), "age_group", "A70P", "Not needed.")
    assert f"{count:,} figures" in refused.value.message and "Retire it instead" in refused.value.message
    assert "SA01" in refused.value.message
    assert ("A70P", True) in [(o.code, o.is_active) for o in combos.options_of(
        session, combos.find_category(session, "age_group").id)]
    client = as_user(SECRETARIAT)
    page = _post(client, "/catalogue/disaggregations/categories/age_group/options/A70P/delete", {"reason": "x"})
    assert page.status_code == 409 and "Retire it instead" in page.get_data(as_text=True)


def test_an_unused_option_is_deleted_with_its_combinations(session):
    admin.add_option(session, _actor(session), "age_group", {"code": "A80P", "name": "80+"}, "Trial.")
    admin.delete_option(session, _actor(session), "age_group", "A80P", "Typed by mistake.")
    assert [c for c, _ in _combo_codes(session, "sex_age")] == [
        "F_A00_17", "F_A18_34", "F_A35_59", "F_A60_69", "F_A70P", "M_A00_17", "M_A18_34", "M_A35_59", "M_A60_69",
        "M_A70P", "total"]
    event = _events(session, "category age_group")[-1]
    assert event.action == "catalogue.option_deleted" and event.details["option"] == "A80P"


def test_a_category_in_a_set_and_a_set_indicators_use_are_not_deleted(session):
    with pytest.raises(Conflict, match="the sets sex, sex_age use it"):
        admin.delete_category(session, _actor(session), "sex", "Not needed.")
    with pytest.raises(Conflict, match="SA01"):
        admin.delete_set(session, _actor(session), "sex_age", "Not needed.")
    _disability(session)
    admin.create_set(session, _actor(session), {"code": "disability", "name": "Disability", "categories": ["disability"]})
    with pytest.raises(Conflict, match="the set disability uses it"):
        admin.delete_category(session, _actor(session), "disability", "x")
    admin.delete_set(session, _actor(session), "disability", "Trial over.")
    admin.delete_category(session, _actor(session), "disability", "Trial over.")
    assert session.scalar(select(DisaggregationSet).where(DisaggregationSet.code == "disability")) is None
    assert session.scalar(select(CategoryOption).where(CategoryOption.code == "ND")) is None
    assert [e.action for e in _events(session, "disaggregation set disability")] == [
        "catalogue.set_created", "catalogue.set_deleted"]


def test_the_categories_of_a_set_with_figures_stay_and_a_new_set_is_suggested(session):
    with pytest.raises(Conflict) as refused:
        admin.change_set(session, _actor(session), "sex_age", {"categories": ["age_group", "sex"]}, "Age first.")
    assert "figures" in refused.value.message and "Create a new set" in refused.value.message
    assert [c for c, _ in _combo_codes(session, "sex_age")][0] == "F_A00_17"
    assert admin.change_set(session, _actor(session), "sex_age", {"name": "Sex and age"}, "Shorter.") == 1
    _disability(session)
    admin.create_set(session, _actor(session), {"code": "sex_disability", "name": "S", "categories": ["sex"]})
    admin.change_set(session, _actor(session), "sex_disability", {"categories": ["sex", "disability"]}, "Crossed.")
    assert [c for c, _ in _combo_codes(session, "sex_disability")] == ["F_D", "F_ND", "M_D", "M_ND", "total"]
    event = _events(session, "disaggregation set sex_disability")[-1]
    assert (event.details["before"]["categories"], event.details["after"]["categories"]) == (
        ["sex"], ["sex", "disability"])


# --------------------------------------------------------------------------- figures of a retired option


def _sa01_rows(option, value, row=4):
    return pd.DataFrame([{"indicator": "SA01", "option": option, "org_unit": "042", "period": "2025Q3",
                          "value": str(value), "comment": "", "explanation": "", "file": "opct.csv", "sheet": "",
                          "row": row, "column": "E"}], columns=CANONICAL)


def test_ingest_refuses_a_retired_option_for_new_figures_with_its_place_and_stores_nothing(session):
    officer = load_user(session, "officer.opct@demo.test")
    admin.set_option_active(session, _actor(session), "age_group", "A70P", False, "Merged into 60+.")
    before = _figures(session)
    result = ingest(session, officer, Incoming(_sa01_rows("F_A70P", 12), "csv", "opct.csv"), programme="OPCT",
                    now=IN_WINDOW)
    assert result.outcome == "refused" and _figures(session) == before
    message = result.errors[0].message
    assert message.startswith("opct.csv row 4, column E")
    assert "option F_A70P (women 70+) is retired since " in message, message
    assert "takes no new ones" in message
    # A current option of the same return is taken.
    assert ingest(session, officer, Incoming(_sa01_rows("F_A60_69", 12), "csv", "opct.csv"), programme="OPCT",
                  now=IN_WINDOW).outcome == "stored"


def test_a_stored_figure_of_a_retired_option_keeps_showing_and_can_be_corrected(session):
    officer = load_user(session, "officer.opct@demo.test")
    assert ingest(session, officer, Incoming(_sa01_rows("F_A70P", 12), "csv", "opct.csv"), programme="OPCT",
                  now=IN_WINDOW).outcome == "stored"
    admin.set_option_active(session, _actor(session), "age_group", "A70P", False, "Merged into 60+.")
    again = ingest(session, officer, Incoming(_sa01_rows("F_A70P", 12), "csv", "opct.csv"), programme="OPCT",
                   now=IN_WINDOW)
    assert again.outcome == "unchanged"
    assert ingest(session, officer, Incoming(_sa01_rows("F_A70P", 13), "csv", "opct.csv"), programme="OPCT",
                  now=IN_WINDOW).outcome == "stored"
    catalogue = load_catalogue(session)
    programme = catalogue.programmes["OPCT"]
    grid = return_queries.grids(session, catalogue, programme, [catalogue.org_units["042"]], "2025Q3")[0]
    cells = {c.option: c for b in grid.blocks if b.indicator.code == "SA01" for c in b.cells}
    assert cells["F_A70P"].value is not None and cells["F_A70P"].option_name.endswith("(retired)")
    assert "M_A70P" not in cells  # nothing stored: a retired option offers no empty cell
    other = return_queries.grids(session, catalogue, programme, [catalogue.org_units["001"]], "2025Q3")[0]
    assert not any(c.option.endswith("A70P") for b in other.blocks for c in b.cells)


# --------------------------------------------------------------------------- the API


def test_the_api_creates_changes_retires_and_refuses_like_the_web(client, session):
    headers = _token(session)
    created = client.post("/api/v1/disaggregations/categories", headers=headers, json={
        "code": "disability", "name": "Disability status", "reason": "PWSD.",
        "options": [{"code": "D", "name": "With a disability"}, {"code": "ND", "name": "Without"}]})
    assert created.status_code == 201, created.json
    assert created.headers["Location"].endswith("/api/v1/disaggregations/categories/disability")
    added = client.post("/api/v1/disaggregations/categories/disability/options", headers=headers,
                        json={"code": "U", "name": "Unknown", "position": 1, "reason": "Not asked."})
    assert added.status_code == 201 and [o["code"] for o in added.json["options"]] == ["U", "D", "ND"]
    made = client.post("/api/v1/disaggregations/sets", headers=headers, json={
        "code": "sex_disability", "name": "Sex and disability", "categories": ["sex", "disability"]})
    assert made.status_code == 201 and len(made.json["combos"]) == 2 * 3 + 1
    retired = client.put("/api/v1/disaggregations/categories/disability/options/U", headers=headers,
                         json={"is_active": False, "reason": "Always asked now."})
    assert retired.status_code == 200 and retired.json["options"][0]["is_active"] is False
    combos_now = client.get("/api/v1/disaggregations/sets/sex_disability", headers=headers).json["combos"]
    assert [c["code"] for c in combos_now if not c["is_active"]] == ["F_U", "M_U"]
    blank = client.put("/api/v1/disaggregations/categories/disability/options/D", headers=headers,
                       json={"name": " ", "reason": "Blank."})
    assert blank.status_code == 422 and blank.json["details"][0]["location"]["field"] == "name"
    moved = client.put("/api/v1/disaggregations/categories/disability/options/ND", headers=headers,
                       json={"position": 1, "name": "Without a disability", "reason": "Most people first."})
    assert [o["code"] for o in moved.json["options"]] == ["ND", "U", "D"]
    assert moved.json["options"][0]["name"] == "Without a disability"
    refused = client.delete("/api/v1/disaggregations/sets/sex_age?reason=Old", headers=headers)
    assert refused.status_code == 409 and "SA01" in refused.json["message"]
    bad = client.post("/api/v1/disaggregations/categories", headers=headers, json={
        "code": "Bad Code", "name": "", "options": [{"code": "total", "name": "x"}]})
    assert bad.status_code == 422
    assert {d["location"]["field"] for d in bad.json["details"]} >= {"code", "name", "options.1.code"}
    assert client.delete("/api/v1/disaggregations/sets/sex_disability?reason=Trial", headers=headers).status_code == 204
    viewer = client.get("/api/v1/disaggregations/sets", headers=_token(session, "viewer@demo.test"))
    assert viewer.status_code == 200 and "sex_age" in {s["code"] for s in viewer.json}
    forbidden = client.post("/api/v1/disaggregations/sets", headers=_token(session, "viewer@demo.test"),
                            json={"code": "x", "name": "x", "categories": ["sex"]})
    assert forbidden.status_code == 403


# --------------------------------------------------------------------------- the seed


def test_the_seed_keeps_the_administrators_disaggregations_and_reports_them(session):
    actor = _actor(session)
    admin.change_category(session, actor, "sex", {"options": [{"code": "F", "name": "Women"},
                                                              {"code": "M", "name": "Men"}]}, "Plain words.")
    admin.set_option_active(session, actor, "age_group", "A70P", False, "Merged into 60+.")
    admin.change_set(session, actor, "sex", {"name": "By sex"}, "Clearer.")
    summary = seed_catalogue(session)
    assert {o.code: o.name for o in combos.options_of(session, combos.find_category(session, "sex").id)} == {
        "F": "Women", "M": "Men"}
    assert not combos.options_of(session, combos.find_category(session, "age_group").id)[-1].is_active
    assert combos.find_set(session, "sex").name == "By sex"
    assert dict(_combo_codes(session, "sex_age"))["F_A70P"] is False
    kept = summary.describe()
    assert "category sex kept: changed by secretariat@demo.test" in kept
    assert "disaggregation set sex kept" in kept and "category age_group kept" in kept
    assert not seed_catalogue(session).changed


def test_the_seed_brings_back_what_nobody_changed_and_otherwise_changes_nothing(session):
    assert not seed_catalogue(session).changed
    option = session.scalar(select(CategoryOption).join(DisaggregationCategory)
                            .where(DisaggregationCategory.code == "sex", CategoryOption.code == "F"))
    option.name = "Typed over"
    session.flush()
    summary = seed_catalogue(session)
    assert option.name == "Female" and summary.updated.get("category option") == 1


# --------------------------------------------------------------------------- free-form input


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.text(max_size=50), name=st.text(max_size=130),
       options=st.lists(st.fixed_dictionaries({"code": st.text(max_size=25), "name": st.text(max_size=130)}),
                        max_size=4))
@example(code="\x00", name="", options=[])  # PostgreSQL refuses NUL in text: it must be refused before a query
@example(code="age\x00", name="Age\x00", options=[{"code": "A\x00", "name": "x"}])
def test_any_typed_category_is_created_or_refused_with_located_errors(session, code, name, options):
    nested = session.begin_nested()
    try:
        category = admin.create_category(session, _actor(session), {"code": code, "name": name, "options": options})
    except ValidationFailed as refused:
        assert refused.details and all(d.location.get("field") for d in refused.details)
    else:
        stored = combos.options_of(session, category.id)
        assert [o.code for o in stored] == [o["code"].strip() for o in options]
    finally:
        nested.rollback()


def test_the_new_category_page_shows_each_problem_at_its_field(as_user, session):
    client = as_user(SECRETARIAT)
    response = _post(client, "/catalogue/disaggregations/categories/new",
                     {"code": "sex", "name": "", "options": "D\ntotal, Total", "reason": ""})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "code: a category sex already exists" in text and "name: required" in text
    assert "options.1.name (option D): required" in text and "options.2.code: &#39;total&#39; is kept" in text
    assert 'id="options-error"' in text and 'aria-describedby="options-error"' in text


def test_a_reader_sees_the_options_and_no_form_to_change_them(as_user):
    reader = as_user("viewer@demo.test")
    page = reader.get("/catalogue/disaggregations/categories/age_group").get_data(as_text=True)
    assert "A70P" in page and ">Retire</button>" not in page and "Save the category" not in page
