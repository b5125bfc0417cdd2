"""Refusals of plans in the reader's language (issue 19): the PMP and work-plan pages (uploads, forms,
refusals, flash messages, year/quarter mismatches) say the service's errors in Kiswahili, still naming
the file, sheet, row and column; the API answers the same refusals in English, as before."""

from __future__ import annotations

import html
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from indicators.messages import say
from mel.accounts.models import User
from mel.accounts.operations import create_token
from tests.app.test_i18n import visible_text
from tests.helpers import choose_language, csrf_token, login

SECRETARIAT = "secretariat@demo.test"
OFFICER = "officer.kisumu@demo.test"



def _words(response) -> str:
    return html.unescape(visible_text(response.get_data(as_text=True)))


@pytest.fixture
def sw(client):
    """The secretariat, signed in, with Kiswahili chosen for the account."""
    login(client, SECRETARIAT)
    choose_language(client, "sw")
    return client


@pytest.fixture
def api(session):
    """The secretariat's API token; the account reads Kiswahili and the client asks for it: the API stays English."""
    user = session.scalar(select(User).where(User.email == SECRETARIAT))
    user.locale = "sw"
    session.commit()
    return {"Authorization": f"Bearer {create_token(session, SECRETARIAT).token}", "Accept-Language": "sw"}


def _workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _upload(client, path: str, book: openpyxl.Workbook, name: str, **form):
    buffer = io.BytesIO()
    book.save(buffer)
    return client.post(path, data={"csrf_token": csrf_token(client, path), **form,
                                   "file": (io.BytesIO(buffer.getvalue()), name)})


def test_a_pmp_workbook_whose_rows_disagree_is_refused_in_kiswahili_naming_sheet_and_rows(sw):
    book = _workbook(sw.get("/plans/pmps/PWSD/2024July/template.xlsx").data)
    sheet = book["Targets"]
    first = [c.value for c in sheet[2]]
    sheet.append(first[:8] + ["somebody else"])  # the same indicator, another responsible officer
    row = sheet.max_row
    response = _upload(sw, "/plans/pmps/PWSD/2024July", book, "pwsd.xlsx", reason="typo")
    assert response.status_code == 422
    text = _words(response)
    assert (f"pwsd.xlsx Targets mstari {row}: {first[0]} kina msingi, mbinu, marudio au afisa anayehusika tofauti "
            "na mstari 2; viandike mara moja tu kwa kila kiashiria.") in text
    assert "pwsd.xlsx: matatizo 1; hakuna kilichohifadhiwa." in text
    assert "has a different baseline" not in text and "nothing was stored" not in text and " row " not in text


def test_a_pmp_with_an_unknown_county_is_refused_in_kiswahili_and_in_english_by_the_api(sw, client, api):
    book = _workbook(sw.get("/plans/pmps/PWSD/2024July/template.xlsx").data)
    sheet = book["Targets"]
    header = [c.value for c in sheet[1]]
    first = [c.value for c in sheet[2]]
    extra = list(first[:9]) + [None] * (len(header) - 9)
    extra[2], extra[3] = "999", ""
    extra[header.index("2024july")] = 5
    sheet.append(extra)
    response = _upload(sw, "/plans/pmps/PWSD/2024July", book, "pwsd.xlsx", reason="county targets")
    assert response.status_code == 422
    text = _words(response)
    assert "eneo '999' halijulikani." in text and ": tatizo 1; hakuna kilichohifadhiwa." in text
    assert re.search(r"pwsd\.xlsx mstari \d+, safu [A-Z]+ — ", text), text  # the file, row and column named
    assert "is not known" not in text and "problem" not in text and "nothing was stored" not in text

    body = {"version": 0, "reason": "x", "lines": [
        {"indicator": "SA07", "targets": [{"org_unit": "999", "period": "2025Q3", "value": 5},
                                          {"org_unit": "023", "period": "2026Q3", "value": 5}]},
        {"indicator": "XX01", "targets": []}]}
    answer = client.put("/api/v1/pmps/HSNP/2025July", json=body, headers=api)
    assert answer.status_code == 422
    assert answer.json["message"] == "Hunger Safety Net Programme PMP FY2025/26: 3 problems; nothing was stored."
    details = [d["message"] for d in answer.json["details"]]
    assert any(m.endswith(": indicator 'XX01' is not in the catalogue.") for m in details), details
    assert any(m.endswith(": org unit '999' is not known.") for m in details), details
    assert any(m.endswith(": period '2026Q3' is outside FY2025/26 (Jul 2025–Jun 2026); use 2025July, 2025Q3, "
                          "2025Q4, 2026Q1, 2026Q2.") for m in details), details


def test_a_pmp_upload_without_a_workbook_and_a_wrong_file_in_kiswahili(sw):
    token = csrf_token(sw, "/plans/pmps/PWSD/2024July")
    empty = sw.post("/plans/pmps/PWSD/2024July", data={"csrf_token": token, "reason": "r"})
    assert empty.status_code == 422
    text = _words(empty)
    assert "Chagua kitabu cha kazi cha PMP ulichohariri (.xlsx) ili ukipakie." in text
    assert "Choose the edited PMP workbook" not in text
    wrong = sw.post("/plans/pmps/PWSD/2024July", data={"csrf_token": token, "reason": "r",
                                                         "file": (io.BytesIO(b"a,b\n"), "pwsd.csv")})
    text = _words(wrong)
    assert wrong.status_code == 422
    assert "pwsd.csv: pakia PMP kama kitabu cha kazi cha .xlsx ulichopakua." in text and "upload the PMP" not in text


def test_a_bad_work_plan_workbook_in_kiswahili_naming_each_cell(sw):
    book = _workbook(sw.get("/plans/workplans/2024July/template.xlsx").data)
    activities, progress = book["Activities"], book["Progress"]
    activities.append(["ZZZ-01", "A title", "nope", "SPS", "", "100", "", "", "", ""])
    bad_group = activities.max_row
    activities.append(["ZZZ-02", "A title", "merl", "SPS", "", "100", "", "2030Q1,2031Q1", "", ""])
    bad_quarters = activities.max_row
    progress.append(["NOPE-99", "2025Q2", "completed", 100, 0, ""])
    unknown = progress.max_row
    progress.append(["POL-02", "2026Q1", "on_track", 10, 0, "wrong year"])
    wrong_year = progress.max_row
    response = _upload(sw, "/plans/workplans/2024July", book, "jwp.xlsx")
    assert response.status_code == 422
    text = _words(response)
    assert "Matatizo 4 kwenye mpango kazi; hakuna kilichohifadhiwa." in text
    assert (f"jwp.xlsx Activities!C{bad_group}: kikundi kazi 'nope' si mojawapo ya policy, finance, shock, "
            "standards, merl.") in text
    assert (f"jwp.xlsx Activities!H{bad_quarters}: 2030Q1, 2031Q1 si robo za Mwaka wa Fedha 2024/25 "
            "(Jul 2024–Jun 2025).") in text
    assert f"jwp.xlsx Progress!A{unknown}: shughuli 'NOPE-99' haimo kwenye mpango kazi." in text
    # A refusal of record_progress said again inside the workbook's: its words translated too.
    assert (f"jwp.xlsx Progress!B{wrong_year}: POL-02 2026Q1: '2026Q1' si robo ya Mwaka wa Fedha 2024/25 "
            "(Jul 2024–Jun 2025).") in text
    assert not [s for s in ("problem(s)", "nothing was stored", "is not one of", "are not a quarter",
                            "is not in the work plan", "is not a quarter") if s in text]


def test_progress_refused_in_kiswahili_on_the_page_and_in_english_by_the_api(sw, client, api):
    plan = client.get("/api/v1/workplans/2024July", headers=api).json
    code = plan["activities"][0]["code"]
    page = f"/plans/workplans/2024July/{code}"
    response = sw.post(page, data={"csrf_token": csrf_token(sw, page), "period": "2025Q2", "status": "late",
                                   "percent_complete": "150", "spend_to_date": "1,000", "note": ""})
    assert response.status_code == 422
    text = _words(response)
    assert (f"{code} 2025Q2: hali 'late' si mojawapo ya not_started, on_track, delayed, completed, dropped. "
            "asilimia iliyokamilika '150' lazima iwe namba kamili kuanzia 0 hadi 100. matumizi hadi sasa '1,000' "
            "lazima yawe kiasi cha KES kisicho hasi, bila vitenganishi.") in text
    assert "must be a whole number" not in text and "is not one of" not in text

    answer = client.put(f"/api/v1/workplans/2024July/activities/{code}/progress/2025Q2", headers=api,
                        json={"status": "late", "percent_complete": 150, "spend_to_date": "1,000"})
    assert answer.status_code == 422
    assert answer.json["message"] == (
        f"{code} 2025Q2: status 'late' is not one of not_started, on_track, delayed, completed, dropped. "
        "percent complete 150 must be a whole number from 0 to 100. spend to date '1,000' must be a "
        "non-negative KES amount without separators.")
    assert [d["message"] for d in answer.json["details"]][0] == (
        "status 'late' is not one of not_started, on_track, delayed, completed, dropped.")


def test_refusals_and_missing_plans_in_kiswahili(client, session, api):
    login(client, OFFICER)
    choose_language(client, "sw")
    token = csrf_token(client, "/plans/pmps/OPCT/2024July")
    refused = client.post("/plans/pmps/OPCT/2024July", data={"csrf_token": token, "reason": "r"})
    assert refused.status_code == 403
    text = _words(refused)
    assert "Ni sekretarieti pekee inayorekebisha mipango kazi ya ufuatiliaji wa utendaji." in text
    assert "Only the secretariat" not in text
    started = client.post("/plans/", data={"csrf_token": token, "fiscal_year": "2026July"})
    assert started.status_code == 403
    assert "Ni sekretarieti pekee inayoanzisha mpango kazi wa pamoja." in _words(started)

    missing = client.get("/plans/workplans/2030July")
    assert missing.status_code == 404
    assert "Hakuna mpango kazi wa pamoja wa 2030July." in _words(missing)
    activity = client.get("/plans/workplans/2024July/ZZZ-99")
    assert activity.status_code == 404
    assert "Shughuli 'ZZZ-99' haimo katika" in _words(activity) and "is not in the" not in _words(activity)
    pmp = client.get("/plans/pmps/OPCT/2030July")
    assert pmp.status_code == 404
    text = _words(pmp)
    assert "Bado hakuna PMP ya OPCT kwa Mwaka wa Fedha 2030/31 (Jul 2030–Jun 2031)." in text and "There is no" not in text

    answer = client.get("/api/v1/pmps/OPCT/2030July", headers=api)
    assert answer.status_code == 404
    assert answer.json["message"] == "There is no OPCT PMP for FY2030/31 (Jul 2030–Jun 2031) yet."


def test_flash_messages_of_plans_in_kiswahili_and_the_api_in_english(sw, client, api):
    exists = sw.post("/plans/", data={"csrf_token": csrf_token(sw, "/plans/"), "fiscal_year": "2024July"})
    assert exists.status_code == 200
    text = _words(exists)
    assert "Mpango kazi wa Mwaka wa Fedha 2024/25 (Jul 2024–Jun 2025) upo tayari." in text
    assert "already exists" not in text

    year = re.search(r'<select id="pmp-year" name="fiscal_year"><option value="(\d{4}July)"',
                     sw.get("/plans/").get_data(as_text=True)).group(1)
    started = sw.post("/plans/pmps/start", data={"csrf_token": csrf_token(sw, "/plans/"), "scope": "XYZ",
                                                 "fiscal_year": year}, follow_redirects=True)
    text = _words(started)
    assert "'XYZ' si msimbo wa mpango wala SECTOR." in text and "is neither" not in text

    conflict = client.put("/api/v1/workplans/2024July", json={"title": ""}, headers=api)
    assert conflict.status_code == 409
    assert conflict.json["message"] == "The FY2024/25 (Jul 2024–Jun 2025) work plan already exists."


def test_year_target_mismatches_in_kiswahili_on_the_page_in_english_in_the_api(sw, client, api):
    lines = [{"indicator": "SA14", "targets": [{"org_unit": "KE", "period": p, "value": 1000}
                                              for p in ("2025Q3", "2025Q4", "2026Q1", "2026Q2")]
              + [{"org_unit": "KE", "period": "2025July", "value": 4500}]}]
    answer = client.put("/api/v1/pmps/OPCT/2025July", json={"version": 0, "reason": "r", "lines": lines}, headers=api)
    assert answer.status_code == 200
    english = "SA14 (KE): the year target 4,500 differs from the sum of the quarterly targets 4,000."
    assert answer.json["mismatches"] == [english]
    text = _words(sw.get("/plans/pmps/OPCT/2025July"))
    assert "SA14 (KE): lengo la mwaka 4,500 linatofautiana na jumla ya malengo ya robo 4,000." in text
    assert english not in text

    edit = "/plans/pmps/OPCT/2025July/edit"
    page = sw.post(edit, data={"csrf_token": csrf_token(sw, edit), "version": "0", "reason": "again",
                               "t.SA14.KE.2025July": "4000"})
    assert page.status_code == 422
    text = _words(page)
    assert ("PMP FY2025/26 sasa iko kwenye toleo 1, lakini wewe ulihariri toleo 0; pakia ukurasa upya na ufanye "
            "mabadiliko yako tena.") in text and "reload it" not in text
    stale = client.put("/api/v1/pmps/OPCT/2025July", json={"version": 0, "reason": "again", "lines": lines},
                       headers=api)
    assert stale.status_code == 409
    assert stale.json["message"] == ("Inua Jamii Older Persons Cash Transfer (70+) PMP FY2025/26 is now at version 1, "
                                     "but you edited version 0; reload it and make your change again.")


def test_the_messages_keep_their_english_and_say_it_again_in_kiswahili():
    """The English text of each converted message is the one the API has always sent; a translation
    function says it again (here a stand-in catalogue)."""
    from mel.errors import ValidationFailed
    from mel.plans.workbook import read_pmp_file, read_workplan_file

    catalogue = {"%(name)s: upload the work plan as the downloaded .xlsx workbook.": "%(name)s: NENO.",
                 "%(name)s: upload the PMP as the downloaded .xlsx workbook.": "%(name)s: PMP NENO."}
    with pytest.raises(ValidationFailed) as raised:
        read_workplan_file(b"x", "plan.ods")
    assert raised.value.message == "plan.ods: upload the work plan as the downloaded .xlsx workbook."
    assert say(raised.value.message, lambda m: catalogue.get(m, m)) == "plan.ods: NENO."
    with pytest.raises(ValidationFailed) as raised:
        read_pmp_file(b"x", "plan.csv", "2025July")
    assert raised.value.message == "plan.csv: upload the PMP as the downloaded .xlsx workbook."
    assert say(raised.value.message, lambda m: catalogue.get(m, m)) == "plan.csv: PMP NENO."


def test_every_plan_message_has_its_kiswahili():
    """Each message marked in the plans' modules has a translation in the Kiswahili catalogue that keeps its
    placeholders."""
    import ast
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    with (root / "mel/translations/sw/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    marked = set()
    for name in ("mel/plans/operations.py", "mel/plans/views.py", "mel/plans/workbook.py"):
        for node in ast.walk(ast.parse((root / name).read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_":
                marked.add(node.args[0].value)
    assert len(marked) > 40
    for msgid in marked:
        entry = catalogue.get(msgid)
        assert entry is not None and entry.string and not entry.fuzzy, msgid
        assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(re.findall(r"%\(\w+\)s", entry.string)), msgid
