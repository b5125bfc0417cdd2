"""The located messages of indicators/validation.py in another language: English unchanged, every
word said through the translation function passed in, every message id extractable by pybabel,
the placeholders of each message and of its Kiswahili translation the same."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from indicators.expressions import Expression
from indicators.messages import (
    Joined,
    Message,
    Text,
    after_place,
    as_data,
    keeping_words,
    restored,
    say,
    text,
    with_words,
)
from indicators.validation import (
    COMPONENT_OF,
    HALF_RATIO,
    NOT_WHOLE_KINDS,
    OPERATOR_WORDS,
    VALUE_MESSAGES,
    VALUE_TEMPLATES,
    IndicatorSpec,
    Names,
    Rule,
    describe,
    duplicate_issues,
    entry_rules,
    missing_issues,
    parse_numbers,
    ratio_issues,
    rule_issues,
    total_issues,
    value_issues,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("indicators/validation.py", "indicators/messages.py")
PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")
SPECS = {
    "SA01": IndicatorSpec("SA01", "count", None, ("F", "M"), has_total=True),
    "SA10": IndicatorSpec("SA10", "amount", None, ("default",)),
    "SA12": IndicatorSpec("SA12", "ratio", 100, ("default",)),
    "SA14": IndicatorSpec("SA14", "count", None, ("default",)),
    "SA15": IndicatorSpec("SA15", "count", None, ("default",)),
}
# Data in capitals: said in a "language" that turns every translated word into capitals, a message
# with a lower-case letter left has English that did not go through the translation function.
NAMES = Names(indicators={"SA01": "PEOPLE PAID", "SA12": "SHARE WITHDRAWN", "SA14": "NEW", "SA15": "EXITS"},
              options={("SA01", "F"): "WOMEN", ("SA01", "total"): "TOTAL"}, org_units={"042": "KISUMU"})


def shouting(template: str) -> str:
    """A test language: the template's words in capitals, its placeholders as they are."""
    return "".join(part if PLACEHOLDER.fullmatch(part) else part.upper()
                   for part in re.split(r"(%\(\w+\)s|%%)", template))


def frame(rows: list[tuple], *, located: bool = True) -> pd.DataFrame:
    records = []
    for index, (indicator, component, option, value) in enumerate(rows, start=2):
        place = {"file": "F.XLSX", "sheet": "DATA", "row": index, "column": "I"} if located else {}
        records.append({"programme": "OPCT", "org_unit": "042", "period": "2025Q3", "indicator": indicator,
                        "component": component, "option": option, "value": value, **place})
    return pd.DataFrame(records)


def parsed(rows: list[tuple], *, located: bool = True) -> pd.DataFrame:
    f = frame(rows, located=located)
    return parse_numbers(f, f["indicator"].map(lambda c: SPECS[c].measure))


def rule(severity: str = "warning", description: str = "") -> Rule:
    return Rule("R1", "NET ENROLMENT", Expression.parse("SA14 - SA15"), "<=", Expression.parse("SA01"),
                severity=severity, description=description)


def every_issue(names: Names = NAMES):
    """At least one issue of each kind the core says (values, duplicates, ratios, totals, rules, missing)."""
    values = parsed([("SA01", "value", "F", raw) for raw in ("ABC", "1,234", "12%", "-5", "3.5", "1E30")]
                    + [("SA10", "value", "default", "10.123")])
    issues = value_issues(values, names)
    issues += value_issues(parsed([("SA12", "numerator", "default", "1.5")]), names)
    issues += duplicate_issues(parsed([("SA01", "value", "F", "5"), ("SA01", "value", "F", "6")]), names)
    issues += duplicate_issues(parsed([("SA01", "value", "F", "5"), ("SA01", "value", "F", "6")], located=False),
                               names)
    issues += ratio_issues(parsed([("SA12", "numerator", "default", "5")]), SPECS, names)
    issues += ratio_issues(parsed([("SA12", "denominator", "default", "5")]), SPECS, names)
    issues += ratio_issues(parsed([("SA12", "numerator", "default", "5"), ("SA12", "denominator", "default", "0")]),
                           SPECS, names)
    issues += ratio_issues(parsed([("SA12", "numerator", "default", "9"), ("SA12", "denominator", "default", "4")]),
                           SPECS, names)
    issues += total_issues(parsed([("SA01", "value", "F", "5"), ("SA01", "value", "M", "5"),
                                   ("SA01", "value", "total", "11")]), SPECS, names)
    issues += total_issues(parsed([("SA01", "value", "F", "12"), ("SA01", "value", "total", "11")]), SPECS, names)
    counts = parsed([("SA14", "value", "default", "50"), ("SA15", "value", "default", "0"),
                     ("SA01", "value", "total", "10")])
    issues += rule_issues(counts, [rule(), rule("error", "NEW LESS EXITS IS AT MOST THOSE PAID")], names)
    required = pd.DataFrame([("OPCT", "042", "2025Q3", "SA14", "value", "default")],
                            columns=["programme", "org_unit", "period", "indicator", "component", "option"])
    issues += missing_issues(parsed([("SA15", "value", "default", "1")]), required, names)
    issues += missing_issues(parsed([("SA15", "value", "default", "1")]), required.assign(org_unit="099"), names)
    return issues


def test_every_kind_of_check_is_exercised():
    codes = {issue.code for issue in every_issue()}
    assert codes == {"not_a_number", "thousands_separator", "percent_sign", "negative", "not_whole", "too_large",
                     "too_many_decimals", "duplicate", "incomplete_ratio", "zero_denominator",
                     "numerator_above_denominator", "total_mismatch", "rule", "missing"}


def test_english_is_the_same_text_as_before():
    by_code = {}
    for issue in every_issue(Names()):
        by_code.setdefault(issue.code, []).append(issue.message)
    assert by_code["not_a_number"] == [
        "F.XLSX DATA!I2 — org unit 042, FY2025/26 Q1 — SA01, F: 'ABC' is not a number. Type digits only, e.g. 1234 "
        "or 1234.50 (0 if there were none)."]
    assert by_code["duplicate"] == [
        "F.XLSX DATA!I3 — org unit 042, FY2025/26 Q1 — SA01, F: '6' differs from '5' given for the same figure in "
        "row 2. Keep one row per figure and delete the other.",
        "org unit 042, FY2025/26 Q1 — SA01, F: '6' differs from '5' given for the same figure in another entry. "
        "Keep one row per figure and delete the other."]
    assert by_code["numerator_above_denominator"] == [
        "F.XLSX DATA!I2 — org unit 042, FY2025/26 Q1 — SA12.N: the numerator 9 is larger than the denominator 4, "
        "but a percentage cannot exceed 100%. Check whether the two were swapped."]
    assert by_code["total_mismatch"] == [
        "F.XLSX DATA!I4 — org unit 042, FY2025/26 Q1 — SA01, total: the 2 disaggregated values add up to 10, but "
        "the total given is 11. Correct the parts or the total.",
        "F.XLSX DATA!I3 — org unit 042, FY2025/26 Q1 — SA01, total: the 1 disaggregated values already exceed 12, "
        "but the total given is 11. Correct the parts or the total."]
    assert by_code["rule"][1] == (
        "org unit 042, FY2025/26 Q1: NET ENROLMENT (R1). SA14 - SA15 is 50 and SA01 is 10, but the first should be "
        "at most the second (SA14 - SA15 <= SA01). NEW LESS EXITS IS AT MOST THOSE PAID. Correct the figures.")
    assert by_code["missing"][1] == (
        "org unit 099, FY2025/26 Q1 — SA14: this figure is required but empty. Enter it (0 if there were none).")
    halves = [i.message for i in every_issue() if i.code == "incomplete_ratio"]
    assert halves[0].startswith(
        "F.XLSX DATA!I2 — KISUMU, FY2025/26 Q1 — numerator of SHARE WITHDRAWN (SA12.N): the numerator is given")
    assert halves[1].startswith(
        "F.XLSX DATA!I2 — KISUMU, FY2025/26 Q1 — denominator of SHARE WITHDRAWN (SA12.D): the denominator is given")
    assert describe({}) == "the return"
    assert describe({"row": 7}) == "row 7" and describe({"row": 7, "column": "I"}) == "row 7, column I"


def test_english_is_what_no_translation_function_says():
    for issue in every_issue():
        assert issue.text() == issue.message == issue.text(None) == issue.text(lambda template: template)
        assert isinstance(issue.message, str) and str(issue.message) == issue.message


def test_every_word_goes_through_the_translation_function_and_the_data_stays():
    for issue in every_issue():
        said = issue.text(shouting)
        assert not re.search("[a-z]", said), said  # a lower-case letter: English that was not translated
        assert said.upper() == issue.message.upper()  # the same data, in the same places
        if issue.what:
            assert said.endswith(say(issue.what, shouting))


def test_a_translation_names_the_same_place_and_figure():
    swahili = {"row %(row)s": "mstari %(row)s", "org unit %(code)s": "eneo %(code)s",
               "FY%(fy)s Q%(quarter)s": "Robo %(quarter)s, %(fy)s",
               "%(raw)s is negative, and figures cannot be below zero. Type the figure without a minus sign, or 0.":
               "%(raw)s ni hasi."}
    issue = value_issues(parsed([("SA01", "value", "F", "-5")], located=False).assign(row=9))[0]
    assert issue.message.startswith("row 9 — org unit 042, FY2025/26 Q1 — SA01, F: -5 is negative")
    assert issue.text(lambda s: swahili.get(s, s)) == "mstari 9 — eneo 042, Robo 1, 2025/26 — SA01, F: -5 ni hasi."


def test_a_damaged_translation_falls_back_to_english_not_to_an_error():
    issue = value_issues(parsed([("SA01", "value", "F", "-5")]))[0]
    broken = {"%(raw)s is negative, and figures cannot be below zero. Type the figure without a minus sign, or 0.":
              "%(kiasi)s ni hasi."}
    assert issue.text(lambda s: broken.get(s, s)) == issue.message


def test_messages_survive_pickling_with_their_words():
    issue = every_issue()[0]
    again = pickle.loads(pickle.dumps(issue))
    assert again == issue and isinstance(again.message, Text)
    assert again.text(shouting) == issue.text(shouting)


def _extracted(paths=SOURCES) -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "_l": None}
    found = set()
    for path in paths:
        for _, message, _, _ in extract_from_file("python", str(ROOT / path), keywords=keywords):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_id_said_is_extracted_by_pybabel():
    said: set[str] = set()

    def recording(template: str) -> str:
        said.add(template)
        return template

    for issue in every_issue():
        issue.text(recording)
    extracted = _extracted()
    assert said and said <= extracted, said - extracted
    tables = [*VALUE_TEMPLATES.values(), *NOT_WHOLE_KINDS.values(), *OPERATOR_WORDS.values(), *HALF_RATIO.values(),
              *COMPONENT_OF.values()]
    assert set(tables) <= extracted


def test_placeholders_are_named_and_the_kiswahili_keeps_them():
    extracted = _extracted()
    for message in extracted:
        assert "%" not in PLACEHOLDER.sub("", message), message  # only %(name)s and %%
    with (ROOT / "mel/translations/sw/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    for message in extracted:
        entry = catalogue.get(message)
        assert entry is not None and entry.string, f"not in the Kiswahili catalogue: {message!r}"
        assert sorted(PLACEHOLDER.findall(entry.string)) == sorted(PLACEHOLDER.findall(message)), message


def test_the_browser_gets_the_same_messages_in_its_own_form():
    assert entry_rules()["messages"] == VALUE_MESSAGES
    assert VALUE_MESSAGES["thousands_separator"] == (
        "{quoted} has a thousands separator, which is read as text. Type {fixed}.")
    said = entry_rules(shouting)
    assert said["messages"]["thousands_separator"] == (
        "{quoted} HAS A THOUSANDS SEPARATOR, WHICH IS READ AS TEXT. TYPE {fixed}.")
    assert said["kinds"]["value"] == "A COUNT OF PEOPLE OR HOUSEHOLDS"


@pytest.mark.parametrize("problem", sorted(VALUE_TEMPLATES))
def test_the_browser_form_says_what_the_server_says(problem):
    words = {"quoted": "'X'", "raw": "X", "fixed": "X", "indicator": "SA01", "kind": NOT_WHOLE_KINDS["value"]}
    assert VALUE_MESSAGES[problem].format(**words) == VALUE_TEMPLATES[problem] % words


# --------------------------------------------------------------------------- messages kept as data

def _m(template: str, **params) -> Message:
    return Message(template, params)


_data = st.one_of(st.text(max_size=12), st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False))


def _words(depth: int = 2):
    leaf = st.builds(lambda n, v: _m("%(a)s and %(b)s", a=v, b=n), _data, _data)
    if depth == 0:
        return leaf
    inner = st.one_of(_data, _words(depth - 1))
    return st.one_of(leaf, st.builds(lambda a, b: _m("%(a)s: %(b)s", a=a, b=b), inner, inner),
                     st.builds(lambda parts: Joined(" — ", tuple(parts)), st.lists(inner, min_size=1, max_size=3)))


@given(_words())
def test_a_message_kept_as_json_says_the_same_in_every_language(words):
    import json

    kept = json.loads(json.dumps(as_data(text(words))))
    back = restored(kept, words.text())
    assert isinstance(back, Text) and back == words.text()
    upper = {"%(a)s and %(b)s": "%(b)s NA %(a)s", "%(a)s: %(b)s": "%(a)s: %(b)s"}.get
    assert say(back, upper) == words.text(upper)  # said again in "another language", nested parts too


@given(_words(1), st.lists(_words(0), max_size=3))
def test_stored_answers_read_as_before_and_keep_their_messages(top, details):
    import json

    answer = {"message": text(top), "errors": [{"message": text(d), "location": {"row": 3}} for d in details],
              "count": 2}
    stored = json.loads(json.dumps(keeping_words(answer)))
    assert "words" in stored and all("words" in e for e in stored["errors"])
    back = with_words(stored)
    assert back == json.loads(json.dumps(answer))  # the same data, no words beside
    assert isinstance(back["message"], Text) and all(isinstance(e["message"], Text) for e in back["errors"])


def test_a_located_message_without_its_place():
    placed = text(Joined(": ", (_m("row %(row)s", row=4), _m("not a number"))))
    assert after_place(placed) == "not a number" and isinstance(after_place(placed), Text)
    assert after_place("Kisumu: too high: check it") == "too high: check it"
