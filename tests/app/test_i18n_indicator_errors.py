"""The errors of the indicator editor and of the validation rules, the rules in words and the history checks
of an indicator, in the reader's language (issue 19): a Kiswahili account reads them in Kiswahili on the
pages (the error box, each field's error, the 403 and 404 pages, the reference sheet), while /api/v1
answers the same requests in English, word for word as before. The English of each converted message is
checked against the text it always had."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from indicators.history import HistorySettings, thresholds_in_words
from indicators.messages import Text, say
from indicators.validation import IndicatorSpec, rule_words
from mel.accounts.operations import create_token, load_user
from mel.catalogue import indicator_admin, queries, rule_admin
from mel.catalogue.language import checked_translation
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import Indicator, ValidationRule
from mel.errors import Conflict, ErrorDetail, NotFound, ValidationFailed
from mel.returns.models import DataValue
from tests.app.test_i18n import visible_text
from tests.helpers import choose_language, csrf_token, login
from tests.indicators import history_pandas

SECRETARIAT = "secretariat@demo.test"
ROOT = Path(__file__).resolve().parents[2]
FILES = ("mel/catalogue/indicator_admin.py", "mel/catalogue/rule_admin.py", "mel/catalogue/queries.py",
         "mel/catalogue/language.py", "mel/catalogue/indicator_views.py", "mel/catalogue/rule_views.py")
# The messages of indicators/history.py's thresholds_in_words and indicators/validation.py's rule_words.
WORDS = ("moves by at least %(points)s percentage points (and by more than chance allows with its denominator)",
         "changes by at least %(change)s and by at least %(absolute)s", "changes by at least %(change)s",
         "the same quarter of earlier years", "its last %(count)s quarters",
         "A figure is flagged when it is far from %(against)s (robust z-score above %(z)s; with fewer than "
         "%(points)s points, a change beyond ±%(band)s) and it %(size)s.",
         "A figure of %(amount)s or more that is the same three quarters running is flagged too.",
         "%(left)s should be %(operator)s %(right)s", "%(rule)s, where %(figures)s")
NEW = {"code": "SA90", "name": "Number of caregivers trained on child protection",
       "short_name": "Caregivers trained", "definition": "Caregivers of CT-OVC households trained in the quarter.",
       "rationale": "", "pillar": "social_assistance", "level": "output", "unit": "number", "measure": "count",
       "factor": "", "numerator": "", "denominator": "", "calculation": "", "time_aggregation": "sum",
       "is_additive_across_programmes": "true", "disaggregation": "sex", "direction": "increase",
       "frequency": "quarterly", "data_source": "", "collection_method": "", "means_of_verification": "",
       "responsible_agency": "", "limitations": "", "basis": ""}
RULE = {"code": "VR90", "name": "Exits within new enrolments", "description": "", "left": "SA15",
        "operator": "<=", "right": "SA14", "severity": "warning", "importance": "low",
        "missing_strategy": "skip_if_any_missing"}



@pytest.fixture
def api(session):
    return {"Authorization": f"Bearer {create_token(session, SECRETARIAT, name='i18n indicators').token}"}


def _post(client, path: str, data: dict, page: str = "/indicators"):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _text(response) -> str:
    return html.unescape(visible_text(response.get_data(as_text=True)))


def _messages(body: dict) -> list[str]:
    return [body["message"], *(d["message"] for d in body.get("details", []))]


def _field_errors(response) -> dict[str, list[str]]:
    """The error written under each field of the form (its own paragraph, not the box at the top)."""
    found: dict[str, list[str]] = {}
    for field, said in re.findall(r'<p class="field-error" id="([\w-]+)-error">(.*?)</p>', response.get_data(
            as_text=True), flags=re.S):
        found.setdefault(field, []).append(html.unescape(said))
    return found


def _figures(session, code: str) -> int:
    indicator_id = session.scalar(select(Indicator.id).where(Indicator.code == code))
    return session.scalar(select(func.count()).select_from(DataValue).where(DataValue.indicator_id == indicator_id))


# --------------------------------------------------------------------------- the indicator editor


def test_a_refused_new_indicator_reads_kiswahili_by_its_fields_and_the_api_keeps_its_english(swahili, client, api,
                                                                                            session):
    bad = {**NEW, "code": "SA-90", "pillar": "nope", "unit": "percent", "factor": "ten",
           "is_additive_across_programmes": "maybe", "numerator": "People", "name_sw": "x" * 301}
    response = _post(swahili, "/catalogue/indicators/new", bad)
    assert response.status_code == 422
    page = _text(response)
    for said in (
            "Kiashiria hakikuundwa: sahihisha visanduku vilivyo hapa chini.",
            "Msimbo: 'SA-90' lazima uanze kwa herufi kubwa, ikifuatiwa na herufi kubwa au tarakimu 1–19 (kwa mfano "
            "SA20), ili kanuni za uthibitishaji ziweze kuutaja.",
            "Jina kwa Kiswahili: herufi zisizozidi 300 (zimetolewa 301).",
            "Nguzo: “nope” si nguzo; chagua mojawapo ya",
            "Katika mipango yote: “maybe” si kweli wala si uongo (true au false).",
            "Kizidishi: “ten” si namba kamili; andika namba kamili, kwa mfano 100.",
            "Namba ya juu (numerator): ni uwiano pekee wenye namba ya juu; idadi huandikwa kama takwimu moja "
            "(acha tupu).",
            "Kipimo: asilimia hukokotolewa kutoka namba ya juu na namba ya chini: aina yake ya takwimu ni uwiano, "
            "si idadi."):
        assert said in page, said
    for english in ("was not created", "must be a capital letter", "is not a pillar", "is not true or false",
                    "is not a whole number", "only a ratio has", "a percentage is computed", "characters (301 given)"):
        assert english not in page, english
    # each field's own error, under the field, in Kiswahili too
    fields = _field_errors(response)
    assert fields["factor"] == ["Kizidishi: “ten” si namba kamili; andika namba kamili, kwa mfano 100."]
    assert fields["pillar"][0].startswith("Nguzo: “nope” si nguzo;")

    payload = {**bad, "factor": None, "is_additive_across_programmes": True}
    through_api = client.post("/api/v1/indicators", json=payload, headers=api)
    assert through_api.status_code == 422
    messages = _messages(through_api.json)
    assert messages[0] == "The indicator was not created: correct the fields below."
    assert ("Code: 'SA-90' must be a capital letter then 1–19 capital letters or digits (e.g. SA20), so validation "
            "rules can name it.") in messages
    assert "Name in Kiswahili: at most 300 characters (301 given)." in messages
    assert any(m.startswith("Pillar: “nope” is not a pillar; choose one of ") for m in messages)
    assert "Numerator: only a ratio has a numerator; a count is typed in as one figure (leave it empty)." in messages
    assert ("Unit: a percentage is computed from a numerator and a denominator: its measure is ratio, not count."
            in messages)
    assert session.scalar(select(func.count(Indicator.id)).where(Indicator.code == "SA90")) == 0  # nothing stored


def test_a_change_of_meaning_is_refused_in_kiswahili_and_in_the_apis_english(swahili, client, api, session):
    figures = _figures(session, "SA02")
    assert figures > 1
    count = f"{figures:,}"
    values = indicator_admin.form_values(session, session.scalar(select(Indicator).where(Indicator.code == "SA02")))
    response = _post(swahili, "/catalogue/indicators/SA02/edit", {**values, "measure": "amount", "unit": "KES",
                                                                   "reason": "Try."})
    assert response.status_code == 409
    page = _text(response)
    assert (f"SA02 tayari kina takwimu {count}: kubadilisha aina ya takwimu kungebadilisha maana ya takwimu hizo. "
            "Badala yake unda kiashiria kipya na ustaafishe SA02, ukikitaja kipya kama mbadala wake.") in page
    assert (f"Aina ya takwimu: SA02 kina takwimu {count}, kwa hiyo haiwezekani kubadilisha aina ya takwimu "
            "kutoka count hadi amount.") in page
    assert "already has" not in page and "cannot change from" not in page

    through_api = client.put("/api/v1/indicators/SA02", json={"measure": "amount", "unit": "KES",
                                                               "time_aggregation": "sum", "reason": "Try."},
                             headers=api)
    assert through_api.status_code == 409
    assert _messages(through_api.json) == [
        f"SA02 already has {count} figures: a change of measure, over time would change what they mean. Create a "
        "new indicator instead and retire SA02, naming the new one as its replacement.",
        f"Measure: SA02 has {count} figures, so its measure cannot change from count to amount. Create a new "
        "indicator and retire SA02 with the new one as its replacement.",
        f"Over time: SA02 has {count} figures, so its over time cannot change from last to sum. Create a new "
        "indicator and retire SA02 with the new one as its replacement."]


def test_retiring_an_indicator_still_in_use_and_without_a_reason_reads_kiswahili(swahili, client, api):
    in_use = _post(swahili, "/catalogue/indicators/SA07/retire", {"reason": "Old.", "replaced_by": ""})
    assert in_use.status_code == 409
    page = _text(in_use)
    assert "SA07 hakikustaafishwa: bado kinatumika." in page
    assert "Hali: fomu za kuripoti HSNP-QR bado zinaomba SA07; kwanza kiondoe kwenye fomu hizo" in page
    assert ("Hali: kanuni za uthibitishaji zinazotumika VR05, VR14, VR15, VR16, VR17, VR18, VR19, VR20, VR21 "
            "zinakitaja SA07; kwanza zibadilishe au uzistaafishe.") in page
    assert "still in use" not in page and "still ask for" not in page

    replaced = _post(swahili, "/catalogue/indicators/SA07/retire", {"reason": "Old.", "replaced_by": "SA07"})
    assert replaced.status_code == 422
    assert "Kimechukuliwa nafasi na: SA07 hakiwezi kuchukua nafasi yake chenyewe." in _text(replaced)
    assert "SA07 hakikustaafishwa: sahihisha visanduku vilivyo hapa chini." in _text(replaced)

    why = _post(swahili, "/catalogue/indicators/SA07/reactivate", {"reason": " "})
    assert why.status_code == 422
    page = _text(why)
    assert "SA07 hakikurejeshwa: eleza sababu." in page
    assert ("Sababu: eleza kwa nini unafanya mabadiliko haya (huhifadhiwa pamoja na toleo na katika kumbukumbu "
            "za ukaguzi).") in page
    assert "say why" not in page

    through_api = client.put("/api/v1/indicators/SA07", json={"is_active": False, "reason": "Old."}, headers=api)
    assert through_api.status_code == 409
    assert _messages(through_api.json) == [
        "SA07 was not retired: it is still in use.",
        "Status: the reporting forms HSNP-QR still ask for SA07; take it off those forms first (each programme's "
        "form), then retire it.",
        "Status: the active validation rules VR05, VR14, VR15, VR16, VR17, VR18, VR19, VR20, VR21 name SA07; change "
        "or retire them first."]
    itself = client.put("/api/v1/indicators/SA07", json={"is_active": False, "replaced_by": "sa07", "reason": "x"},
                        headers=api)
    assert _messages(itself.json) == ["SA07 was not retired: correct the fields below.",
                                      "Replaced by: SA07 cannot replace itself."]


def test_an_unknown_indicator_and_version_read_kiswahili_on_the_404_page(swahili, client, api):
    assert client.get("/api/v1/indicators/SA02/versions/9", headers=api).json["message"] == (
        "SA02 has no version 9 (it is at version 1).")
    assert client.get("/api/v1/indicators/zz9/versions", headers=api).json["message"] == (
        "Indicator 'zz9' is not in the catalogue.")
    assert client.get("/api/v1/indicators/SA99", headers=api).json["message"] == (
        "Indicator 'SA99' is not in the catalogue.")

    unknown = swahili.get("/indicators/SA99")
    assert unknown.status_code == 404
    assert "Kiashiria 'SA99' hakimo kwenye orodha ya viashiria." in _text(unknown)
    version = swahili.get("/catalogue/indicators/SA02/versions/9")
    assert version.status_code == 404
    assert "SA02 hakina toleo 9 (kiko kwenye toleo 1)." in _text(version)
    assert "has no version" not in _text(version)
    editor = swahili.get("/catalogue/indicators/zz9/edit")
    assert editor.status_code == 404 and "Kiashiria 'zz9' hakimo kwenye orodha ya viashiria." in _text(editor)
    assert "is not in the catalogue" not in _text(editor)


def test_the_versions_page_says_none_in_kiswahili(swahili, session):
    actor = load_user(session, SECRETARIAT)
    indicator_admin.create_indicator(session, actor, NEW, "New.")
    indicator_admin.change_indicator(session, actor, "SA90", {"limitations": "Self-reported."}, "Known limit.")
    page = swahili.get("/catalogue/indicators/SA90/versions").get_data(as_text=True)
    assert re.search(r"<td>Mapungufu</td><td>hakuna</td><td>Self-reported.</td>", page), page
    assert "<td>none</td>" not in page


# --------------------------------------------------------------------------- the validation rules


def test_a_refused_rule_reads_kiswahili_by_its_fields_and_the_api_keeps_its_english(swahili, client, api):
    bad = {**RULE, "name": "", "left": "SA99", "right": "SA12", "severity": "fatal", "action": "save"}
    response = _post(swahili, "/catalogue/validation-rules/new", bad, page="/catalogue/validation-rules")
    assert response.status_code == 422
    page = _text(response)
    for said in ("Kanuni haikuhifadhiwa: sahihisha visanduku vilivyo hapa chini.",
                 "Jina: ipe kanuni jina ambalo watu watalisoma kwenye maonyo.",
                 "Upande wa kushoto: kiashiria SA99 hakijulikani.",
                 "Upande wa kulia: SA12 (",
                 "ni uwiano: tumia SA12.N (namba ya juu) au SA12.D (namba ya chini).",
                 "Uzito: “fatal” si mojawapo ya error, warning."):
        assert said in page, said
    for english in ("was not saved", "give the rule a name", "unknown indicator", "is a ratio: use",
                    "is not one of"):
        assert english not in page, english
    assert _field_errors(response)["left"] == ["Upande wa kushoto: kiashiria SA99 hakijulikani."]

    tried = _post(swahili, "/catalogue/validation-rules/new", {**RULE, "left": "", "right": "SA01.N",
                                                                "action": "try"}, page="/catalogue/validation-rules")
    page = _text(tried)
    assert ("Upande wa kushoto: tupu. Andika hesabu juu ya misimbo ya viashiria, kwa mfano SA14 - SA15 au "
            "SA01 * 0.25.") in page
    assert "Upande wa kulia: SA01.N: SA01 (" in page and "si uwiano, kwa hiyo hakina namba ya juu wala" in page

    through_api = client.post("/api/v1/validation-rules", json={k: v for k, v in bad.items() if k != "action"},
                              headers=api)
    assert through_api.status_code == 422
    messages = _messages(through_api.json)
    assert messages[:3] == ["The rule was not saved: correct the fields below.",
                            "Name: give the rule a name people will read in warnings.",
                            "Left side: unknown indicator SA99."]
    assert messages[3].startswith("Right side: SA12 (") and messages[3].endswith(
        ") is a ratio: use SA12.N (numerator) or SA12.D (denominator).")
    assert messages[4:] == ["Severity: “fatal” is not one of error, warning."]


def test_a_rule_retired_without_a_reason_and_an_unknown_rule_read_kiswahili(swahili, client, api):
    response = _post(swahili, "/catalogue/validation-rules/VR01/retire", {"reason": ""},
                     page="/catalogue/validation-rules/VR01")
    assert response.status_code == 422
    page = _text(response)
    assert "Eleza kwa nini: sababu inahitajika, na huhifadhiwa katika kumbukumbu za ukaguzi." in page
    assert "Sababu: inahitajika." in page and "Say why" not in page
    unknown = swahili.get("/catalogue/validation-rules/NOPE")
    assert unknown.status_code == 404
    assert "Hakuna kanuni ya uthibitishaji yenye msimbo 'NOPE'." in _text(unknown)

    assert client.put("/api/v1/validation-rules/VR01", json={"is_active": False, "reason": " "},
                      headers=api).json["message"] == "Say why: a reason is required, and kept in the audit."
    assert client.get("/api/v1/validation-rules/NOPE", headers=api).json["message"] == (
        "No validation rule with code 'NOPE'.")


def test_only_the_secretariat_keeps_the_rules_in_either_language(client, session):
    login(client, "reviewer@demo.test")
    choose_language(client, "sw")
    refused = client.get("/catalogue/validation-rules")
    assert refused.status_code == 403
    assert "Ni sekretarieti pekee inayosimamia kanuni za uthibitishaji." in _text(refused)
    assert "Only the secretariat" not in _text(refused)
    token = create_token(session, "reviewer@demo.test", name="i18n rules").token
    through_api = client.get("/api/v1/validation-rules", headers={"Authorization": f"Bearer {token}"})
    assert through_api.status_code == 403
    assert through_api.json["message"] == "Only the secretariat keeps the validation rules."


def test_the_rules_in_words_read_kiswahili_on_the_pages_and_english_in_the_api(swahili, client, api, session):
    english = client.get("/api/v1/validation-rules/VR01", headers=api).json["in_words"]
    assert " should be " in english
    rule = session.scalar(select(ValidationRule).where(ValidationRule.code == "VR01"))
    said = _text(swahili.get("/catalogue/validation-rules/VR01"))
    operator = {"<=": "si zaidi ya", "<": "chini ya", ">=": "angalau sawa na", ">": "juu ya", "==": "sawa na",
                "!=": "tofauti na"}[rule.operator]
    assert f" inapaswa kuwa {operator} " in said and " should be " not in said
    listing = _text(swahili.get("/catalogue/validation-rules"))
    assert " inapaswa kuwa " in listing and " should be " not in listing

    # arithmetic on a side names its figures after "where"
    created = client.post("/api/v1/validation-rules", json={**RULE, "left": "SA14 - SA15", "right": "SA01 * 2",
                                                            "reason": "Test."}, headers=api)
    assert created.status_code == 201, created.json
    words = created.json["in_words"]
    assert words.startswith("SA14 - SA15 should be at most SA01 * 2, where ") and "(SA14); " in words
    page = _text(swahili.get("/catalogue/validation-rules/VR90"))
    assert "SA14 - SA15 inapaswa kuwa si zaidi ya SA01 * 2, ambapo " in page and ", where " not in page


def test_the_history_checks_of_an_indicator_read_kiswahili_on_its_sheet(swahili, client):
    said = _text(swahili.get("/indicators/SA01"))
    assert "Takwimu huwekewa onyo inapokuwa mbali na robo zake 8 zilizopita (alama-z thabiti (robust z-score) " \
           "zaidi ya 3.5;" in said
    assert "A figure is flagged" not in said and "robust z-score above" not in said
    choose_language(swahili, "en")
    english = _text(swahili.get("/indicators/SA01"))
    assert "A figure is flagged when it is far from its last 8 quarters (robust z-score above 3.5;" in english


# --------------------------------------------------------------------------- the English as it was


def test_the_english_of_the_indicator_checks_is_unchanged(session):
    values, problems = indicator_admin.checked(session, {
        **NEW, "name": "", "short_name": "x" * 121, "level": "", "pillar": "", "disaggregation": "colour",
        "factor": "2000000", "numerator": "People", "denominator": "Everyone", "unit": "percent",
        "is_additive_across_programmes": "perhaps", "name_sw": 7, "short_name_sw": "a\x00b"})
    messages = [p.message for p in problems]
    assert all(isinstance(m, Text) for m in messages)
    assert messages[:6] == [
        "Name: required.", "Short name: at most 120 characters (121 given).",
        "Level: “nothing” is not one of impact, outcome, output, process.",
        "Name in Kiswahili: text, or nothing while it is not translated.",
        "Short name in Kiswahili: contains a control character; type or paste the text again.",
        "Pillar: “nothing” is not a pillar; choose one of social_assistance, social_security, health_insurance, "
        "cross_cutting."]
    assert messages[6].startswith("Disaggregation set: “colour” is not a disaggregation set; choose one of ")
    assert messages[7:] == [
        "Across programmes: “perhaps” is not true or false.",
        "Factor: 2000000 is outside 1–1,000,000.",
        "Numerator: only a ratio has a numerator; a count is typed in as one figure (leave it empty).",
        "Denominator: only a ratio has a denominator; a count is typed in as one figure (leave it empty).",
        "Unit: a percentage is computed from a numerator and a denominator: its measure is ratio, not count."]
    _, problems = indicator_admin.checked(session, {**NEW, "measure": "amount", "factor": "5", "unit": "KES"})
    assert [p.message for p in problems] == ["Factor: only a ratio has a factor; a amount has none (leave it empty)."]
    _, problems = indicator_admin.checked(session, {**NEW, "measure": "ratio", "factor": "", "unit": "percent"})
    assert [p.message for p in problems] == [
        "Factor: a ratio needs a factor: 100 for a percentage, 1 for a plain ratio.",
        "Numerator: a ratio needs its numerator defined: it is typed in as a figure of its own.",
        "Denominator: a ratio needs its denominator defined: it is typed in as a figure of its own."]
    _, problems = indicator_admin.checked(session, {**NEW, "measure": "ratio", "factor": True, "unit": "number"})
    assert problems[0].message == "Factor: a whole number, e.g. 100."
    _, problems = indicator_admin.checked(session, {**NEW, "measure": "ratio", "factor": "10", "unit": "percent",
                                                    "numerator": "a", "denominator": "b"})
    assert [p.message for p in problems] == ["Factor: a percentage has the factor 100 (10 given)."]


def test_the_english_of_the_indicator_services_is_unchanged(session):
    actor = load_user(session, SECRETARIAT)
    with pytest.raises(ValidationFailed) as refused:
        indicator_admin.create_indicator(session, actor, {**NEW, "code": ""}, "x" * 501)
    assert _messages(refused.value.as_dict()) == [
        "The indicator was not created: correct the fields below.", "Code: required, e.g. SA20.",
        "Reason: at most 500 characters (501 given)."]
    with pytest.raises(ValidationFailed) as refused:
        indicator_admin.create_indicator(session, actor, {**NEW, "code": "SA02"}, "")
    assert refused.value.details[0].message == "Code: an indicator SA02 already exists; choose another code."
    with pytest.raises(ValidationFailed) as refused:
        indicator_admin.change_indicator(session, actor, "SA02", {"name": ""}, "")
    assert _messages(refused.value.as_dict()) == [
        "SA02 was not saved: correct the fields below.",
        "Reason: say why you make this change (it is kept with the version and in the audit).", "Name: required."]
    with pytest.raises(ValidationFailed) as refused:
        indicator_admin.retire_indicator(session, actor, "SA02", "Old.", "SA99")
    assert refused.value.details[0].message == "Replaced by: 'SA99' is not in the catalogue."
    indicator_admin.create_indicator(session, actor, NEW, "New.")
    indicator_admin.create_indicator(session, actor, {**NEW, "code": "SA91"}, "New.")
    indicator_admin.retire_indicator(session, actor, "SA91", "Gone.")
    with pytest.raises(ValidationFailed) as refused:
        indicator_admin.retire_indicator(session, actor, "SA90", "Old.", "SA91")
    assert refused.value.details[0].message == "Replaced by: SA91 is retired too; name an active indicator."
    with pytest.raises(ValidationFailed) as refused:
        indicator_admin.reactivate_indicator(session, actor, "SA91", "")
    assert refused.value.message == "SA91 was not reactivated: say why."
    with pytest.raises(NotFound) as missing:
        indicator_admin.version(session, "SA90", 3)
    assert missing.value.message == "SA90 has no version 3 (it is at version 1)."
    # a figure, so its meaning is locked: the singular
    rule_admin.create_rule(session, load_catalogue(session), actor, {**RULE, "code": "VR91", "left": "SA90"})
    session.add(DataValue(**_one_figure(session, "SA90")))
    session.flush()
    with pytest.raises(Conflict) as locked:
        indicator_admin.change_indicator(session, actor, "SA90", {"disaggregation": "none"}, "Try.")
    assert _messages(locked.value.as_dict()) == [
        "SA90 already has 1 figure: a change of disaggregation set would change what they mean. Create a new "
        "indicator instead and retire SA90, naming the new one as its replacement.",
        "Disaggregation set: SA90 has 1 figure, so its disaggregation set cannot change from sex to none. Create a "
        "new indicator and retire SA90 with the new one as its replacement."]
    with pytest.raises(Conflict) as named:
        indicator_admin.retire_indicator(session, actor, "SA90", "Gone.")
    assert named.value.details[-1].message == (
        "Status: the active validation rules VR91 name SA90; change or retire them first.")
    assert indicator_admin.changed_fields({"factor": None}, {"factor": 100}) == [("Factor", "none", "100")]


def _one_figure(session, code: str) -> dict:
    """A data value of `code` in a new draft return (its meaning is then locked)."""
    from mel.catalogue.models import OptionCombo
    from mel.returns.models import Return

    other = session.scalar(select(Return).limit(1))
    draft = Return(programme_id=other.programme_id, org_unit_id=other.org_unit_id, period="2031Q1",
                   form_id=other.form_id, state="draft")
    session.add(draft)
    session.flush()
    indicator = session.scalar(select(Indicator).where(Indicator.code == code))
    combo = session.scalar(select(OptionCombo).where(OptionCombo.set_id == indicator.disaggregation_set_id)
                           .limit(1))
    return {"return_id": draft.id, "programme_id": draft.programme_id, "org_unit_id": draft.org_unit_id,
            "period": draft.period, "indicator_id": indicator.id, "component": "value", "option_combo_id": combo.id,
            "value": 5}


def test_the_english_of_the_rule_checks_is_unchanged(session):
    catalogue = load_catalogue(session)
    with pytest.raises(ValidationFailed) as refused:
        rule_admin.checked({**RULE, "name": "x" * 201, "description": "y" * 2001, "left": "1", "right": "2",
                            "operator": "", "importance": "urgent"}, catalogue)
    assert _messages(refused.value.as_dict()) == [
        "The rule was not saved: correct the fields below.",
        "Name: at most 200 characters (201 given).", "Description: at most 2000 characters (2001 given).",
        "Left side: the rule names no indicator, so it would hold or fail for every return alike. Use indicator "
        "codes such as SA01.",
        "Operator: “nothing” is not one of <=, <, >=, >, ==, !=.", "Importance: “urgent” is not one of high, "
        "medium, low."]
    with pytest.raises(ValidationFailed) as refused:
        rule_admin.checked({**RULE, "left": "SA01 +", "right": "x" * 401}, catalogue)
    left, right = (d.message for d in refused.value.details)
    assert left.startswith("Left side: 'SA01 +' is not a valid expression: ")
    assert right == "Right side: at most 400 characters (401 given)."
    with pytest.raises(ValidationFailed) as refused:
        rule_admin.checked({**RULE, "left": "SA01.N"}, catalogue)
    assert refused.value.details[0].message == (
        f"Left side: SA01.N: SA01 ({catalogue.indicators['SA01'].name}) is not a ratio, so it has no numerator or "
        "denominator; use SA01.")
    actor = load_user(session, SECRETARIAT)
    with pytest.raises(ValidationFailed) as refused:
        rule_admin.create_rule(session, catalogue, actor, {**RULE, "code": "1BAD"})
    assert refused.value.details[0].message == (
        "Code: '1BAD' must start with a letter and hold at most 20 letters, digits, - or _.")
    with pytest.raises(ValidationFailed) as refused:
        rule_admin.create_rule(session, catalogue, actor, {**RULE, "code": "VR01", "name": ""})
    assert _messages(refused.value.as_dict()) == [
        "The rule was not saved: correct the fields below.", "Code: a rule VR01 already exists; choose another code.",
        "Name: give the rule a name people will read in warnings."]
    with pytest.raises(ValidationFailed) as refused:
        rule_admin.set_active(session, actor, "VR01", False, "r" * 501)
    assert _messages(refused.value.as_dict()) == ["The reason is too long.",
                                                  "Reason: at most 500 characters (501 given)."]


def _old_rule_words(rule, names) -> str:
    """rule_words as it was written before its words were messages."""
    from indicators.validation import OPERATOR_WORDS, _side

    text = f"{_side(rule.left, names)} should be {OPERATOR_WORDS.get(rule.operator, rule.operator)} " \
           f"{_side(rule.right, names)}"
    named = [names.figure(ref.name) for side in (rule.left, rule.right) if _side(side, names) == side.text
             for ref in side.references() if names.figure(ref.name) != ref.name]
    if named:
        text += ", where " + "; ".join(dict.fromkeys(named))
    return text


def test_the_english_of_the_words_is_unchanged(session, app):
    from indicators.expressions import Expression
    from indicators.validation import Rule

    catalogue = load_catalogue(session)
    rules = list(catalogue.rules) + [
        Rule("T1", "t", Expression.parse("SA14 - SA15 + SA14"), "<=", Expression.parse("SA01 * 2")),
        Rule("T2", "t", Expression.parse("SA12.N"), ">", Expression.parse("SA12.D / 2 + SA99")),
        Rule("T3", "t", Expression.parse("SA01"), "~", Expression.parse("3"))]
    assert len(rules) > 5
    for rule in rules:
        said = rule_words(rule, catalogue.names)
        assert isinstance(said, Text) and said == _old_rule_words(rule, catalogue.names), rule.code
    with app.test_request_context(), force_locale("sw"):
        said = say(rule_words(rules[-3], catalogue.names), gettext)
        assert said.startswith("SA14 - SA15 + SA14 inapaswa kuwa si zaidi ya SA01 * 2, ambapo ")
        assert said.count("(SA14)") == 1 and "; " in said

    checked = 0
    for measure in ("count", "amount", "ratio"):
        for factor in (None, 1, 100):
            for aggregation in ("sum", "last"):
                for seasonal in (False, True):
                    for minimum in (None, 0.0, 2500.0):
                        spec = IndicatorSpec("SA01", measure, factor, ("default",), False, aggregation, None, minimum,
                                             None, seasonal)
                        for settings in (HistorySettings(), HistorySettings(z_threshold=3, band=0.25, window=6)):
                            said = thresholds_in_words(spec, settings)
                            assert isinstance(said, Text)
                            assert said == history_pandas.thresholds_in_words(spec, settings)
                            checked += 1
    assert checked == 216
    with app.test_request_context(), force_locale("sw"):
        said = say(thresholds_in_words(IndicatorSpec("SA05", "amount", None, ("default",), False, "sum")), gettext)
    assert said == (
        "Takwimu huwekewa onyo inapokuwa mbali na robo zake 8 zilizopita (alama-z thabiti (robust z-score) zaidi ya "
        "3.5; ikiwa kuna takwimu za awali chini ya 4, mabadiliko zaidi ya ±50%) na inabadilika kwa angalau 33% na "
        "kwa angalau KES 100,000. Takwimu ya KES 1,000,000 au zaidi inayojirudia sawasawa kwa robo tatu mfululizo "
        "pia huwekewa onyo.")


def test_the_english_of_the_catalogue_reads_is_unchanged(session):
    problems: list[ErrorDetail] = []
    assert checked_translation(3, "name_sw", 10, problems) == ""
    assert checked_translation("a\x01", "name_sw", 10, problems, "Name in Kiswahili") == "a\x01"
    assert checked_translation("x" * 11, "notes_sw", 10, problems) == "x" * 11
    assert [p.message for p in problems] == [
        "name_sw: text, or nothing while it is not translated.",
        "Name in Kiswahili: contains a control character; type or paste the text again.",
        "notes_sw: at most 10 characters (11 given)."]
    for call, english in ((lambda: queries.resolve_org_unit(session, " "), "An org unit code is empty."),
                          (lambda: queries.resolve_org_unit(session, "Atlantis"),
                           "Org unit 'Atlantis' is not known: use the county code (001–047, e.g. 042 or 42), its "
                           "name (e.g. Kisumu) or KE for Kenya."),
                          (lambda: queries.programme(session, "NOPE"), "Programme 'NOPE' is not known."),
                          (lambda: queries.indicator(session, "sa99"), "Indicator 'sa99' is not in the catalogue.")):
        with pytest.raises(NotFound) as missing:
            call()
        assert missing.value.message == english and isinstance(missing.value.message, Text)


# --------------------------------------------------------------------------- the catalogue


def test_every_message_of_these_files_has_its_kiswahili():
    """Each English template of the indicator editor's and the rules' files is translated, placeholders kept."""
    with (ROOT / "mel/translations/sw/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    wanted = list(WORDS)
    for name in FILES:
        for _, msgid, _, _ in extract_from_file("python", ROOT / name, keywords={
                "N_": None, "gettext": None, "ngettext": (1, 2)}):
            wanted.append(msgid if isinstance(msgid, str) else msgid[0])
    missing, damaged = [], []
    for key in wanted:
        entry = catalogue.get(key)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
            (entry.string,) if entry is not None else ())
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(key)
            continue
        if any(sorted(re.findall(r"%\(\w+\)s", s)) != sorted(re.findall(r"%\(\w+\)s", key)) for s in strings):
            damaged.append(key)
    assert len(wanted) > 100
    assert not missing, json.dumps(missing, indent=1)
    assert not damaged, damaged
