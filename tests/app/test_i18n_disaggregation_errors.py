"""The disaggregation editor's errors in the reader's language (issue 19): the service's refusals and
each field's problems are messages whose English text is what it always was (the API's, byte for
byte) and which a Kiswahili page says in Kiswahili."""

from __future__ import annotations

import html

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from indicators.messages import Text
from mel.accounts.operations import create_token, load_user
from mel.catalogue import disaggregation_admin as admin
from mel.catalogue import disaggregation_combos as combos
from mel.errors import Conflict, ErrorDetail, NotFound, ValidationFailed
from mel.i18n import said
from mel.returns.models import DataValue
from tests.app.test_i18n import visible_text
from tests.helpers import choose_language, csrf_token, login

SECRETARIAT = "secretariat@demo.test"
PAGES = "/catalogue/disaggregations"



def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, PAGES), **data})


def _page(response) -> str:
    return html.unescape(visible_text(response.get_data(as_text=True)))


def _api(session):
    token = create_token(session, SECRETARIAT, name="i18n disaggregations").token
    return {"Authorization": f"Bearer {token}", "Accept-Language": "sw"}


def _in_kiswahili(app, value) -> str:
    with app.test_request_context(), force_locale("sw"):
        return said(value)


def _actor(session):
    return load_user(session, SECRETARIAT)


# --------------------------------------------------------------------------- pages in Kiswahili


def test_a_new_categorys_field_problems_are_said_in_kiswahili(swahili):
    response = _post(swahili, f"{PAGES}/categories/new",
                     {"code": "sex", "name": "", "options": "D\ntotal, Total", "reason": ""})
    assert response.status_code == 422
    page = _page(response)
    assert "Kundi halikuhifadhiwa: sahihisha visanduku vilivyo hapa chini." in page
    assert "code: kundi sex tayari lipo; chagua msimbo mwingine." in page
    assert "name: inahitajika; ni jina ambalo watu husoma kwenye jedwali na katika ripoti." in page
    assert "options.1.name (chaguo D): inahitajika;" in page
    assert "options.2.code: 'total' umetengwa kwa michanganyiko ya seti yenyewe; chagua msimbo mwingine." in page
    for english in ("The category was not saved", "already exists", "required; the name people read",
                    "(option D)", "is kept for the set's own combinations"):
        assert english not in page, english


def test_a_code_that_is_not_possible_names_its_rule_in_kiswahili(swahili):
    page = _page(_post(swahili, f"{PAGES}/categories/new",
                       {"code": "Age Group", "name": "Umri", "options": "A1, One", "reason": ""}))
    assert ("code: 'Age Group' haiwezi kuwa msimbo: herufi ndogo, tarakimu au _ kati ya 1 na 40, zikianza na "
            "herufi, kwa mfano age_group.") in page
    assert "is not a possible code" not in page and "lower-case letters" not in page


def test_an_option_figures_use_is_refused_in_kiswahili_with_its_counts(swahili, session):
    used = combos.option_combos(session, combos.find_category(session, "age_group"), "A70P")
    count = session.scalar(select(func.count()).select_from(DataValue).where(DataValue.option_combo_id.in_(used)))
    response = _post(swahili, f"{PAGES}/categories/age_group/options/A70P/delete", {"reason": "Not needed."})
    assert response.status_code == 409
    page = _page(response)
    assert "Chaguo A70P (" in page and f"haliwezi kufutwa: linatumiwa na takwimu {count:,}" in page
    assert "Badala yake listaafishe" in page and "SA01" in page
    assert "cannot be deleted" not in page and "Retire it instead" not in page and f"{count:,} figures" not in page


def test_the_default_set_and_a_used_category_are_refused_in_kiswahili(swahili):
    default = _post(swahili, f"{PAGES}/sets/none/delete", {"reason": "Tidy."})
    assert default.status_code == 409
    assert "Seti none ni chaguo-msingi (bila mgawanyo) na inabaki." in _page(default)
    assert "is the default" not in _page(default)
    category = _post(swahili, f"{PAGES}/categories/sex/delete", {"reason": "Tidy."})
    assert category.status_code == 409
    page = _page(category)
    assert "Kundi sex haliwezi kufutwa: seti sex, sex_age zinalitumia." in page and "use it" not in page
    used = _post(swahili, f"{PAGES}/sets/sex_age/delete", {"reason": "Tidy."})
    assert used.status_code == 409
    page = _page(used)
    assert "Seti sex_age haiwezi kufutwa: inatumiwa na viashiria HI01, SA01" in page and " na takwimu " in page
    assert "Hamishia viashiria kwenye seti nyingine kwanza" in page
    assert "cannot be deleted" not in page and "the indicators" not in page and " figures " not in page


def test_a_reason_left_out_and_a_bad_position_are_said_in_kiswahili(swahili):
    response = _post(swahili, f"{PAGES}/categories/sex", {"name": "Sex", "position.F": "first", "reason": "x"})
    assert response.status_code == 422
    page = _page(response)
    assert "Kundi sex halikuhifadhiwa: sahihisha visanduku vilivyo hapa chini." in page
    assert "nafasi ya F: 'first' si namba kamili." in page
    assert "was not saved" not in page and "is not a whole number" not in page
    retire = _post(swahili, f"{PAGES}/categories/sex/options/F/retire", {"reason": ""})
    assert retire.status_code == 422
    assert "Chaguo F halikustaafishwa." in _page(retire) and "was not retired" not in _page(retire)


def test_a_new_set_with_unknown_and_repeated_categories_in_kiswahili(swahili):
    response = _post(swahili, f"{PAGES}/sets/new", {"code": "trial", "name": "Trial", "category.1": "sex",
                                                    "category.2": "sex", "category.3": "colour", "reason": ""})
    assert response.status_code == 422
    page = _page(response)
    assert "Seti haikuhifadhiwa: sahihisha visanduku vilivyo hapa chini." in page
    assert "categories: umetoa sex mara mbili; seti huunganisha kila kundi mara moja tu." in page
    assert "categories: 'colour' si kundi." in page
    assert "given twice" not in page and "is not a category" not in page and "The set was not saved" not in page


def test_an_unknown_category_or_set_is_not_found_in_kiswahili(swahili):
    category = swahili.get(f"{PAGES}/categories/colour")
    assert category.status_code == 404
    assert "Hakuna kundi la mgawanyo lenye msimbo 'colour'." in _page(category)
    dset = swahili.get(f"{PAGES}/sets/colour")
    assert dset.status_code == 404
    assert "Hakuna seti ya mgawanyo yenye msimbo 'colour'." in _page(dset)
    assert "No disaggregation" not in _page(category) + _page(dset)


def test_the_same_pages_in_english_keep_their_words(client):
    assert login(client, SECRETARIAT).status_code == 302
    choose_language(client, "en")
    page = _page(_post(client, f"{PAGES}/categories/new",
                       {"code": "sex", "name": "", "options": "D\ntotal, Total", "reason": ""}))
    assert "The category was not saved: correct the fields below." in page
    assert "code: a category sex already exists; choose another code." in page
    assert "options.1.name (option D): required; the name people read on the grid and in reports." in page
    refused = _page(_post(client, f"{PAGES}/sets/none/delete", {"reason": "Tidy."}))
    assert "The set none is the default (no disaggregation) and stays." in refused


# --------------------------------------------------------------------------- the API stays English


def test_the_api_answers_in_english_for_a_kiswahili_account(swahili, session):
    headers = _api(session)
    bad = swahili.post("/api/v1/disaggregations/categories", headers=headers, json={
        "code": "sex", "name": "Sex again", "options": [{"code": "total", "name": "Total"}]})
    assert bad.status_code == 422
    assert bad.json["message"] == "The category was not saved: correct the fields below."
    assert {d["message"] for d in bad.json["details"]} >= {
        "code: a category sex already exists; choose another code.",
        "options.1.code: 'total' is kept for the set's own combinations; choose another code."}
    default = swahili.delete("/api/v1/disaggregations/sets/none?reason=Tidy", headers=headers)
    assert default.status_code == 409
    assert default.json["message"] == "The set none is the default (no disaggregation) and stays."
    used = swahili.delete("/api/v1/disaggregations/categories/sex?reason=Tidy", headers=headers)
    assert used.json["message"] == ("The category sex cannot be deleted: the sets sex, sex_age use it. Delete those "
                                    "sets first, or retire the options you no longer want.")
    missing = swahili.get("/api/v1/disaggregations/sets/colour", headers=headers)
    assert missing.status_code == 404 and missing.json["message"] == "No disaggregation set with code 'colour'."
    added = swahili.post("/api/v1/disaggregations/categories/sex/options", headers=headers,
                         json={"code": "X", "name": "", "position": 3, "reason": "Trial."})
    assert added.status_code == 422
    assert added.json["message"] == "The category sex was not saved: correct the fields below."
    assert [d["message"] for d in added.json["details"] if d["location"]["field"] == "name"] == [
        "name (option X): required; the name people read on the grid and in reports."]


# --------------------------------------------------------------------------- the messages themselves


def test_in_use_says_the_same_english_and_kiswahili(app):
    assert combos.in_use({"figures": 0, "changes": 0, "queries": 0, "flags": 0}) == ""
    one = combos.in_use({"figures": 1, "changes": 0, "queries": 0, "flags": 0})
    assert one == "1 figure" and isinstance(one, Text)
    many = combos.in_use({"figures": 1204, "changes": 3, "queries": 1, "flags": 2})
    assert many == "1,204 figures, 3 recorded changes, 1 review query and 2 flags"
    assert combos.in_use({"figures": 2, "changes": 1, "queries": 0, "flags": 0}) == "2 figures and 1 recorded change"
    assert _in_kiswahili(app, many) == ("takwimu 1,204, mabadiliko 3 yaliyorekodiwa, hoja 1 ya mapitio na "
                                        "maonyo 2")


def test_the_refusals_keep_their_english_and_are_said_in_kiswahili(app, session):
    actor = _actor(session)
    with pytest.raises(Conflict) as default:
        admin.change_set(session, actor, "none", {"categories": ["sex"]}, "Trial.")
    assert default.value.message == "The set none is the default (no disaggregation): it has no categories."
    assert _in_kiswahili(app, default.value.message) == "Seti none ni chaguo-msingi (bila mgawanyo): haina makundi."
    with pytest.raises(Conflict) as moved:
        admin.change_set(session, actor, "sex_age", {"categories": ["age_group", "sex"]}, "Age first.")
    english = moved.value.message
    assert english.startswith("The categories of sex_age cannot change: ") and " figures" in english
    assert english.endswith("use the set (" + combos.figures_by_indicator(session, [
        c.id for c in combos.combos_of(session, combos.find_set(session, "sex_age").id)]) + "), and new categories "
        "would change what those figures mean. Create a new set with the categories wanted and move the "
        "indicators to it.")
    assert _in_kiswahili(app, english).startswith("Makundi ya sex_age hayawezi kubadilika: seti inatumiwa na takwimu ")
    with pytest.raises(NotFound) as missing:
        admin.change_option(session, actor, "sex", "Q", {"name": "Q"}, "Trial.")
    assert missing.value.message == "The category sex has no option 'Q'."
    assert _in_kiswahili(app, missing.value.message) == "Kundi sex halina chaguo 'Q'."


def test_the_option_checks_keep_their_english(app, session):
    actor = _actor(session)
    with pytest.raises(ValidationFailed) as twice:
        admin.add_option(session, actor, "sex", {"code": "F", "name": "F"}, "Trial.")
    assert twice.value.message == "The option was not added: sex already has option F."
    assert [d.message for d in twice.value.details] == ["code: sex already has option F."]
    assert _in_kiswahili(app, twice.value.message) == "Chaguo halikuongezwa: sex tayari lina chaguo F."
    for position, english, kiswahili in (
            ("ten", "position: 'ten' is not a whole number.", "position: 'ten' si namba kamili."),
            ("9", "position: 9 is outside 1–3.", "position: 9 iko nje ya 1–3.")):
        with pytest.raises(ValidationFailed) as refused:
            admin.add_option(session, actor, "sex", {"code": "X", "name": "X", "position": position}, "Trial.")
        assert refused.value.message == "The option was not saved."
        assert [d.message for d in refused.value.details] == [english]
        assert _in_kiswahili(app, refused.value.details[0].message) == kiswahili
    with pytest.raises(ValidationFailed) as left_out:
        admin.change_category(session, actor, "sex", {"options": [{"code": "F", "name": "Female"}]}, "Trial.")
    assert [d.message for d in left_out.value.details] == [
        "options: M is left out; list every option (delete an unused option, or retire one, on its own)."]
    assert _in_kiswahili(app, left_out.value.details[0].message).startswith("options: M limeachwa nje;")


def test_a_relocated_field_is_still_said_in_kiswahili(app):
    long_name = "x" * 130
    problems: list[ErrorDetail] = []
    admin._name(long_name, "options.3.name", problems, admin._option_label("options.3.name", "X"))
    moved = admin._relocate(problems[0], 3)
    assert moved.message == "name (option X): at most 120 characters (130 given)."
    assert moved.location == {"field": "name"}
    assert _in_kiswahili(app, moved.message) == "name (chaguo X): herufi zisizozidi 120 (zimetolewa 130)."
    plain = admin._relocate(ErrorDetail("options.3.code: odd.", {"field": "options.3.code"}), 3)
    assert plain.message == "code: odd." and not isinstance(plain.message, Text)


def test_an_options_kiswahili_name_is_named_with_its_option(app):
    problems: list[ErrorDetail] = []
    admin._option_list([{"code": "X", "name": "Ex", "name_sw": "y" * 130}], {}, problems)
    assert [d.message for d in problems] == ["options.1.name_sw (option X): at most 120 characters (130 given)."]
    assert "options.1.name_sw (chaguo X): " in _in_kiswahili(app, problems[0].message)
