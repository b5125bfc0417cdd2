"""Messages kept with what they describe (issue 19): a return's warnings (value_flag) and a background
import's result (import_job) are stored in English with their words beside them, and each page says
them again in its reader's language; the API and the English pages read exactly as before."""

from __future__ import annotations

import json

import time_machine
from babel.support import Translations
from sqlalchemy import select

from indicators.messages import as_data, restored, say
from mel import jobs
from mel.accounts.operations import create_token
from mel.i18n import report_catalogues
from mel.jobs import ImportJob
from mel.returns.ingest import describe_outcome
from mel.returns.models import ValueFlag
from tests.app.returns_helpers import IN_WINDOW, rows_like, send, user
from tests.app.test_i18n import visible_text
from tests.helpers import choose_language, login

OFFICER = "officer.opct@demo.test"


def _kiswahili() -> Translations:
    return Translations.load(str(report_catalogues()), ["sw"])



def _jumping_rows(session):
    rows = rows_like(session, "OPCT", ["042"])
    index = rows.index[(rows["indicator"] == "SA14") & (rows["option"] == "F_A70P")][0]
    rows.loc[index, "value"] = str(int(rows.loc[index, "value"]) * 4)  # a jump the history check flags
    return rows


def _job(session, result, filename: str) -> ImportJob:
    job = ImportJob(user_id=user(session, OFFICER).id, filename=filename, state="done", stage="done",
                    status=422 if result.errors else 200, rows_read=len(result.returns),
                    result=jobs._stored(result.as_dict()), answer=jobs._stored(result.as_dict()))
    session.add(job)
    session.commit()
    return job


def _pages(client, path: str) -> tuple[str, str]:
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, OFFICER)
        choose_language(client, "sw")
        swahili = visible_text(client.get(path).get_data(as_text=True)).replace("&#39;", "'")
        choose_language(client, "en")
        english = visible_text(client.get(path).get_data(as_text=True)).replace("&#39;", "'")
    return swahili, english


def test_a_background_imports_warnings_and_outcome_in_the_readers_language(client, session):
    result = send(session, OFFICER, _jumping_rows(session))
    assert result.outcome == "stored" and result.warnings
    job = _job(session, result, result.filename)
    stored = json.loads(job.result)
    assert all("words" in w for w in stored["warnings"])  # kept beside the English
    swahili, english = _pages(client, f"/imports/{job.id}")
    sw = _kiswahili()
    outcome = describe_outcome("stored", [r.as_counts() for r in result.returns], 0, 0, result.filename,
                               sw.gettext, sw.ngettext)
    assert outcome in swahili and "ripoti 1" in outcome and result.describe() not in swahili
    for warning in result.warnings:
        assert say(warning.message, sw.gettext) in swahili
        assert str(warning.message) in english and str(warning.message) not in swahili
    assert result.describe() in english
    # The API answers as before: English messages, no words beside them.
    headers = {"Authorization": f"Bearer {create_token(session, OFFICER).token}"}
    for path in (f"/api/v1/imports/{job.id}", f"/imports/{job.id}/status"):
        body = client.get(path, headers=headers).get_json()
        assert body["result"]["message"] == result.describe(), path
        assert [w["message"] for w in body["result"]["warnings"]] == [str(w.message) for w in result.warnings]
        assert "words" not in json.dumps(body)


def test_a_refused_background_import_names_each_cell_in_the_readers_language(client, session):
    rows = rows_like(session, "OPCT", ["042"])
    rows.loc[rows.index[0], "value"] = "12,5OO"  # letters O for zeros
    rows.loc[rows.index[1], "value"] = "-4"
    result = send(session, OFFICER, rows)
    assert result.outcome == "refused" and len(result.errors) >= 2
    job = _job(session, result, result.filename)
    swahili, english = _pages(client, f"/imports/{job.id}")
    sw = _kiswahili()
    for error in result.errors:
        said = say(error.message, sw.gettext)
        assert said != str(error.message) and said in swahili and str(error.message) in english
    assert "Nothing was stored" not in swahili and "nothing was stored" in english


def test_a_stored_warning_keeps_its_words_and_falls_back_to_its_english(client, session):
    send(session, OFFICER, _jumping_rows(session))
    flags = session.scalars(select(ValueFlag)).all()
    assert flags and all(f.message_words for f in flags)
    flag = flags[0]
    sw = _kiswahili()
    assert flag.words == flag.message and say(flag.words, sw.gettext) != flag.message
    assert flag.message.endswith(str(flag.what)) and say(flag.what, sw.gettext) != str(flag.what)
    # Words that no longer give the stored English (a template changed since) are not trusted.
    changed = json.loads(json.dumps(flag.message_words).replace("usual level", "normal level"))
    assert restored(changed, flag.message) == flag.message and say(restored(changed, flag.message), sw.gettext) \
        == flag.message
    # A flag stored before its words were kept reads as it was, in English.
    flag.message_words = None
    assert say(flag.words, sw.gettext) == flag.message and say(flag.what, sw.gettext) == flag.what
    assert as_data(flag.message) == flag.message  # plain text is data
