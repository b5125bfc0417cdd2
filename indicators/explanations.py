"""Why a flagged figure is right: the common reasons officers give, kept as codes the annex counts.

An explanation is stored as text. Its reason is read from the start of the text, so a reason
chosen on the web, typed in an Excel file or sent through the API is one rule:
"Drought scale-up: 3,200 households added in Turbo" is a drought scale-up; any other text is
"other"; no text is no explanation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

OTHER = "other"
EXPLANATION_CHOICES: tuple[tuple[str, str], ...] = (
    ("payroll_cleaning", "Payroll cleaning"),
    ("enrolment_wave", "New enrolment wave"),
    ("drought_scale_up", "Drought scale-up"),
    ("data_entry_correction", "Data entry correction"),
    ("arrears_paid", "Arrears paid or payment delayed"),
    ("reporting_change", "Change in who reports or how"),
    (OTHER, "Other"),
)
_LABELS = dict(EXPLANATION_CHOICES)
# The reasons a text can start with, as the Excel instructions and the API documentation list them.
REASON_LABELS: tuple[str, ...] = tuple(label for code, label in EXPLANATION_CHOICES if code != OTHER)
# Spellings people type for a label's words: "enrollment", "scale up".
_SPELLINGS = {"enrolment": "enroll?ment"}
# What may follow a label: the end of the text or of its first line, a colon, a full stop, or a
# dash after a space ("Drought scale-up – 3,200 added"; "Payroll cleaning-related" is not one).
_AFTER = r"(?:\s*(?:\n|\Z)|\s*:|\.|\s+[-–—])"


def _pattern(label: str) -> re.Pattern[str]:
    words = []
    for word in label.split():
        parts = [_SPELLINGS.get(part.lower(), re.escape(part)) for part in word.split("-")]
        words.append(r"[-\s]?".join(parts))
    return re.compile(r"\s+".join(words) + _AFTER, re.IGNORECASE)


_PATTERNS = tuple((code, _pattern(label)) for code, label in EXPLANATION_CHOICES)


def split(text: str) -> tuple[str, str]:
    """An explanation's reason and the officer's own words after it.

    "Drought scale-up: rains failed" → ("drought_scale_up", "rains failed");
    "Rains failed" → ("other", "Rains failed"); "" → ("", "").
    """
    text = text.strip()
    if not text:
        return "", ""
    for code, pattern in _PATTERNS:
        found = pattern.match(text)
        if found:
            return code, text[found.end():].strip()
    return OTHER, text


def explanation_code(text: str) -> str:
    """The reason code of an explanation's text: a choice's code, "other", or "" for no text."""
    return split(text)[0]


def label_of(code: str) -> str:
    """The words of a reason code ("" for no code or an unknown one)."""
    return _LABELS.get(code, "")


def compose(code: str, text: str) -> str:
    """The explanation to store for a chosen reason and the words typed beside it.

    "Label: words", or the label alone when no words are typed; the words alone for "other", an
    unknown or no code. Words already led by the chosen label keep one label.
    """
    text = text.strip()
    label = _LABELS.get(code) if code != OTHER else None
    if not label:
        return text
    found, words = split(text)
    if found == code:
        text = words
    return f"{label}: {text}" if text else label


def reason(code: str, text: str) -> tuple[str, str]:
    """A stored explanation as a reader sees it: (reason code, the officer's own words).

    The stored code wins; an explanation stored before codes were kept gets the code of its text.
    The words lose the reason's label when they start with it.
    """
    found, words = split(text)
    if not found:
        return "", ""
    code = code or found
    return code, (words if found == code else text.strip())


def tally(codes: Iterable[str]) -> list[dict]:
    """Explanations counted by reason: the most frequent first, "other" last; share in per cent.

    Empty codes (warnings not explained) are not counted.
    """
    counts = Counter(code for code in codes if code)
    total = sum(counts.values())
    order = {code: n for n, (code, _) in enumerate(EXPLANATION_CHOICES)}

    def rank(item: tuple[str, int]) -> tuple[bool, int, int, str]:
        code, count = item
        return code not in order or code == OTHER, -count, order.get(code, len(order)), code

    return [{"code": code, "label": label_of(code) or code, "count": count, "share": count / total * 100}
            for code, count in sorted(counts.items(), key=rank)]
