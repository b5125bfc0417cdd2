"""The story a report opens with: generated key messages for every kind of quarter, the commentary
that replaces them, quotes per pillar, and the actions carried from earlier reports."""

from __future__ import annotations

import pytest

from reports.format import headline
from reports.model import KeyFigure
from reports.story import QUOTES_PER_PILLAR, key_messages, tell

INDICATORS = {
    "SA02": {"short_name": "OPCT beneficiaries (70+)", "measure": "count", "unit": "number", "pillar": "SA"},
    "SA10": {"short_name": "Cash transfers disbursed (KES)", "measure": "amount", "unit": "KES", "pillar": "SA"},
    "SA11": {"short_name": "Payment timeliness", "measure": "ratio", "unit": "percent", "pillar": "SA"},
    "SS01": {"short_name": "NSSF active members", "measure": "count", "unit": "number", "pillar": "SS"},
}


def row(code, actual, target=None, status=None, previous=None, last_year=None, achievement=None):
    return {"indicator": code, "actual": actual, "target": target, "previous": previous, "last_year": last_year,
            "achievement": achievement, "status": status or ("no_target" if target is None else "on_track")}


def snapshot(rows, overall=None, **extra):
    return {"kind": "sector", "period": "2025Q2", "indicators": INDICATORS, "results": rows,
            "pillars": [{"code": "SA", "name": "Social assistance"}, {"code": "SS", "name": "Social security"}],
            "returns": {"overall": overall}, **extra}


CASES = [
    # (what, rows, messages that must be there, texts that must not)
    ("rise and fall against last quarter",
     [row("SA02", 1_100_000, previous=1_000_000), row("SS01", 900, previous=1000)],
     ["Largest rise against last quarter: OPCT beneficiaries (70+), 1.10 million (+10.0% from 1.00 million).",
      "Largest fall against last quarter: NSSF active members, 900 (-10.0% from 1,000)."], ["SA02", "SS01"]),
    ("a ratio moves in points, against last year",
     [row("SA11", 96.2, last_year=69.4)],
     ["Largest rise against the same quarter last year: Payment timeliness, 96.2% (+26.8 pts from 69.4%)."],
     ["Largest fall"]),
    ("no previous figure at all",
     [row("SA02", 1000, target=900, achievement=111.1)],
     ["No figure of last quarter or of the same quarter last year to compare with."], ["Largest"]),
    ("no target: nothing can be rated",
     [row("SA02", 1000), row("SS01", 50)],
     ["No indicator has both a target and an approved figure this quarter, so none can be rated."], ["1 indicator is off track", "indicators are off track"]),
    ("none off track says so",
     [row("SA02", 1000, target=1000, achievement=100.0), row("SS01", 95, target=100, achievement=95.0)],
     ["No indicator is off track: 2 indicators with a target and a figure, all on track."], ["1 indicator is off track", "indicators are off track", "need"]),
    ("one off track, one needing attention: named with figure and target, singular verbs",
     [row("SA02", 500, target=1000, status="off_track", achievement=50.0),
      row("SA10", 8_000_000_000, target=10_000_000_000, status="needs_attention", achievement=80.0),
      row("SS01", 100, target=100, achievement=100.0)],
     ["1 indicator is off track: OPCT beneficiaries (70+): 500 against a target of 1,000 (50% achieved).",
      f"1 indicator needs attention: Cash transfers disbursed (KES): {headline(8e9, 'amount', 'KES')} against a "
      f"target of {headline(1e10, 'amount', 'KES')} (80% achieved)."], ["No indicator is off track"]),
    ("every off-track indicator, worst first, plural verb",
     [row("SA02", 600, target=1000, status="off_track", achievement=60.0),
      row("SS01", 10, target=100, status="off_track", achievement=10.0)],
     ["2 indicators are off track: NSSF active members: 10 against a target of 100 (10% achieved); "
      "OPCT beneficiaries (70+): 600 against a target of 1,000 (60% achieved)."], []),
]


@pytest.mark.parametrize("what, rows, wanted, unwanted", CASES, ids=[c[0] for c in CASES])
def test_generated_key_messages(what, rows, wanted, unwanted):
    messages = key_messages(snapshot(rows))
    for message in wanted:
        assert message in messages, f"{what}: {message!r} not in {messages}"
    text = " ".join(messages)
    for word in unwanted:
        assert word not in text, f"{what}: {word!r} in {messages}"


def test_completeness_caveat_and_records_reached():
    partial = key_messages(snapshot([row("SA02", 1)], overall={
        "received": 172, "expected": 251, "on_time": 100, "completeness": 68.53, "timeliness": 39.8}),
        [KeyFigure("SA02", "Older persons paid", "people", "1.02 million", "", "", "", "", "", ""),
         KeyFigure("SA10", "Cash transfers disbursed", "money", "KES 10.2 billion", "", "", "", "", "", ""),
         KeyFigure("SA04", "CT-OVC households paid", "people", "not reported", "", "", "", "", "", "")])
    assert partial[0] == "Reached this quarter: Older persons paid: 1.02 million."
    assert ("Only 172 of 251 expected returns were received (69%), 100 by the due date (40%): the figures of the "
            "79 missing returns are not in this report.") in partial
    one = key_messages(snapshot([row("SA02", 1)], overall={
        "received": 1, "expected": 2, "on_time": 1, "completeness": 50.0, "timeliness": 50.0}))
    assert "the figures of the 1 missing return are not in this report." in one[-1]
    full = key_messages(snapshot([row("SA02", 1)], overall={
        "received": 1, "expected": 1, "on_time": 1, "completeness": 100.0, "timeliness": 100.0}))
    assert full[-1] == "The 1 expected return was received, 1 by the due date (100%)."


def test_commentary_replaces_the_generated_messages_and_notes_go_to_their_indicator():
    commentary = {"key_messages": ["  Payments reached more older persons.  ", ""],
                  "pillars": {"SA": "Transfers were paid on time."}, "variance": {"SA02": " Late enrolment. ", "SS01": " "},
                  "recommendations": [{"text": "Speed up enrolment", "owner": "SDSPSCA", "due": "2025Q4"},
                                      {"text": "", "owner": "nobody"}]}
    told = tell(snapshot([row("SA02", 500, target=1000, status="off_track", achievement=50.0)], commentary=commentary))
    assert told.key_messages == ["Payments reached more older persons."] and told.is_edited
    assert told.pillar("SA").paragraph == "Transfers were paid on time." and told.pillar("XX").paragraph == ""
    assert told.variance == {"SA02": "Late enrolment."}
    assert told.recommendations == [{"text": "Speed up enrolment", "owner": "SDSPSCA",
                                     "due": "FY2025/26 Q2 (Oct–Dec 2025)"}]
    blank = tell(snapshot([row("SA02", 500, target=1000, status="off_track", achievement=50.0)],
                          commentary={"key_messages": []}))
    assert not blank.is_edited and blank.key_messages[0].startswith("1 indicator is off track")


def test_quotes_are_a_few_per_pillar_and_shortened():
    voices = [{"pillar": "SA", "where": f"County {n}, OPCT", "text": "Paid " + "word " * 100, "indicator": ""}
              for n in range(5)] + [{"pillar": "SS", "where": "Kisumu, NSSF", "text": "Members   rose.",
                                     "indicator": "SS01"}]
    told = tell(snapshot([], voices=voices))
    assert len(told.pillar("SA").quotes) == QUOTES_PER_PILLAR
    assert all(len(q.text) <= 310 and q.text.endswith("[...]") for q in told.pillar("SA").quotes)
    (quote,) = told.pillar("SS").quotes
    assert (quote.where, quote.text, quote.about) == ("Kisumu, NSSF", "Members rose.", "NSSF active members")


@pytest.mark.parametrize("statuses, summary", [
    (["done", "done", "done", "open", "in_progress"], "3 of 5 actions from earlier reports done; 2 overdue."),
    (["done"], "1 of 1 action from earlier reports done; none overdue."),
    (["open", "dropped"], "0 of 2 actions from earlier reports done, 1 dropped; 1 overdue."),
])
def test_actions_carried_from_earlier_reports(statuses, summary):
    carried = [{"id": n, "text": f"Action {n}", "owner": "SPS", "due": "2025Q1", "status": s, "raised_period": "2025Q1"}
               for n, s in enumerate(statuses)]
    told = tell(snapshot([], actions=carried))
    assert told.actions_summary == summary and told.has_actions
    still = [s for s in statuses if s in ("open", "in_progress")]
    assert [a.status for a in told.open_actions] == still
    assert all(a.is_overdue and a.due == "FY24/25 Q3" for a in told.open_actions)


def test_an_action_due_later_is_not_overdue_and_no_actions_print_nothing():
    told = tell(snapshot([], actions=[{"id": 1, "text": "Later", "owner": "", "due": "2025Q4", "status": "open",
                                       "raised_period": "2025Q1"}]))
    assert told.actions_summary == "0 of 1 action from earlier reports done; none overdue."
    assert not told.open_actions[0].is_overdue and told.open_actions[0].owner == "–"
    empty = tell(snapshot([]))
    assert (empty.actions_summary, empty.open_actions, empty.has_actions) == ("", [], False)
