"""The reason of an explanation is read from the start of its text, whichever way it arrived."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from indicators.explanations import (
    EXPLANATION_CHOICES,
    OTHER,
    compose,
    explanation_code,
    label_of,
    reason,
    split,
    tally,
)

CODES = [code for code, _ in EXPLANATION_CHOICES]
REASONS = [code for code in CODES if code != OTHER]


def test_the_choices_in_the_order_officers_see_them():
    assert EXPLANATION_CHOICES == (
        ("payroll_cleaning", "Payroll cleaning"),
        ("enrolment_wave", "New enrolment wave"),
        ("drought_scale_up", "Drought scale-up"),
        ("data_entry_correction", "Data entry correction"),
        ("arrears_paid", "Arrears paid or payment delayed"),
        ("reporting_change", "Change in who reports or how"),
        ("other", "Other"),
    )
    assert all(len(code) <= 30 for code in CODES)  # value_flag.explanation_code is String(30)


@pytest.mark.parametrize(("code", "label"), EXPLANATION_CHOICES)
def test_each_label_alone_or_with_words_is_its_reason(code, label):
    assert explanation_code(label) == code
    assert explanation_code(f"{label}: 3,200 households in Turbo") == code
    assert label_of(code) == label


@pytest.mark.parametrize(("text", "code"), [
    # case and spacing
    ("drought scale-up: rains failed", "drought_scale_up"),
    ("DROUGHT SCALE-UP", "drought_scale_up"),
    ("  Drought   scale-up  ", "drought_scale_up"),
    ("Drought scale up: rains failed", "drought_scale_up"),
    ("Drought scaleup - rains failed", "drought_scale_up"),
    ("New enrollment wave: cohort 3", "enrolment_wave"),
    ("new ENROLMENT wave", "enrolment_wave"),
    ("data entry correction.", "data_entry_correction"),
    ("arrears paid or payment delayed : the June cycle paid in July", "arrears_paid"),
    ("Change in who reports or how. New county focal person", "reporting_change"),
    # separators: end, colon, full stop, a dash after a space, a line break
    ("Payroll cleaning", "payroll_cleaning"),
    ("Payroll cleaning:", "payroll_cleaning"),
    ("Payroll cleaning:exits after the death audit", "payroll_cleaning"),
    ("Payroll cleaning. Exits after the death audit", "payroll_cleaning"),
    ("Payroll cleaning - exits after the death audit", "payroll_cleaning"),
    ("Payroll cleaning – exits after the death audit", "payroll_cleaning"),
    ("Payroll cleaning — exits after the death audit", "payroll_cleaning"),
    ("Payroll cleaning\nexits after the death audit", "payroll_cleaning"),
    # a label that does not stand alone is free text
    ("Payroll cleaning-related exits", OTHER),
    ("Payroll cleaning in Seme", OTHER),
    ("Payroll cleaningXYZ", OTHER),
    ("Drought scale-upward trend", OTHER),
    ("The drought scale-up", OTHER),
    ("Arrears paid", OTHER),
    # free text, and no text
    ("ok", OTHER),
    ("Mass enrolment drive in Kisumu.", OTHER),
    ("Otherwise fine", OTHER),
    ("Other: a new MIS", OTHER),
    ("", ""),
    ("   ", ""),
    ("\n\t", ""),
])
def test_the_reason_of_a_text(text, code):
    assert explanation_code(text) == code


def test_split_gives_the_words_after_the_label():
    assert split("Drought scale-up: rains failed") == ("drought_scale_up", "rains failed")
    assert split("drought scale-up – rains failed ") == ("drought_scale_up", "rains failed")
    assert split("Data entry correction.") == ("data_entry_correction", "")
    assert split("Rains failed") == (OTHER, "Rains failed")
    assert split(" ") == ("", "")


@pytest.mark.parametrize(("code", "text", "stored"), [
    ("drought_scale_up", "3,200 households added in Turbo", "Drought scale-up: 3,200 households added in Turbo"),
    ("drought_scale_up", "  ", "Drought scale-up"),
    ("drought_scale_up", "", "Drought scale-up"),
    # a label already typed is not doubled (and is written as the label)
    ("drought_scale_up", "Drought scale-up: rains failed", "Drought scale-up: rains failed"),
    ("drought_scale_up", "drought scale-up - rains failed", "Drought scale-up: rains failed"),
    ("drought_scale_up", "DROUGHT SCALE-UP", "Drought scale-up"),
    # another label typed: the choice leads
    ("payroll_cleaning", "Drought scale-up: x", "Payroll cleaning: Drought scale-up: x"),
    # other, unknown or no choice: the words alone
    ("other", "A new MIS", "A new MIS"),
    ("other", "", ""),
    ("", " typed only ", "typed only"),
    ("no_such_reason", "typed only", "typed only"),
    ("", "", ""),
])
def test_compose(code, text, stored):
    assert compose(code, text) == stored


def test_a_reason_chosen_without_words_explains_other_without_words_does_not():
    assert explanation_code(compose("arrears_paid", "")) == "arrears_paid"
    assert explanation_code(compose(OTHER, "")) == ""


def test_label_of_unknown_or_no_code_is_empty():
    assert label_of("") == ""
    assert label_of("no_such_reason") == ""


@given(code=st.sampled_from(REASONS), text=st.text())
def test_a_chosen_reason_survives_being_stored_as_text(code, text):
    stored = compose(code, text)
    assert explanation_code(stored) == code
    assert compose(code, stored) == stored  # composing again changes nothing
    assert compose(code, reason(code, stored)[1]) == stored  # the page shows the words; saving again keeps it


@given(choice=st.sampled_from(EXPLANATION_CHOICES), case=st.sampled_from([str.lower, str.upper, str.title, str]),
       separator=st.sampled_from([":", ": ", " : ", ".", ". ", " - ", " – ", " — ", "\n"]), words=st.text())
def test_a_label_typed_by_hand_before_any_words_is_its_reason(choice, case, separator, words):
    code, label = choice
    assert explanation_code(case(label) + separator + words) == code


@given(text=st.text())
def test_free_text_with_other_is_kept_as_typed(text):
    assume(text.strip() and explanation_code(text) == OTHER)
    assert compose(OTHER, text) == text.strip()
    assert explanation_code(compose(OTHER, text)) == OTHER


@given(code=st.sampled_from(CODES + ["", "unknown"]), text=st.text())
def test_the_code_of_any_composed_text_is_a_choice_or_empty(code, text):
    assert explanation_code(compose(code, text)) in {*CODES, ""}


def test_reason_as_a_reader_sees_it():
    assert reason("drought_scale_up", "Drought scale-up: rains failed") == ("drought_scale_up", "rains failed")
    assert reason("drought_scale_up", "Drought scale-up") == ("drought_scale_up", "")
    assert reason(OTHER, "Rains failed") == (OTHER, "Rains failed")
    # stored before codes were kept: the code of the text
    assert reason("", "Payroll cleaning: exits") == ("payroll_cleaning", "exits")
    assert reason("", "") == ("", "")


def test_tally_counts_explained_flags_most_frequent_first_other_last():
    rows = tally(["other", "drought_scale_up", "", "drought_scale_up", "payroll_cleaning", "other", "other"])
    assert [(r["label"], r["count"]) for r in rows] == [("Drought scale-up", 2), ("Payroll cleaning", 1),
                                                         ("Other", 3)]
    assert [round(r["share"], 1) for r in rows] == [33.3, 16.7, 50.0]
    assert tally(["", ""]) == []
    # ties in the order of the choices
    assert [r["code"] for r in tally(["arrears_paid", "payroll_cleaning"])] == ["payroll_cleaning", "arrears_paid"]
