"""README passages quoted in a report: markdown's paragraphs, lists, bold, emphasis and code as HTML,
the words untouched and escaped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reports.quoted import inline, to_html


def test_a_passage_keeps_its_words_and_structure():
    text = ("### Targets: the rules\n\nOne function (`indicators/targets.py`) decides\nwhich target applies.\n\n"
            "1. **Own plan.** The current version\n   of the plan.\n2. **County targets added up.** Their sum.\n\n"
            "*Indicators* (a < b & c) stay.")
    html = str(to_html(text))
    assert html.splitlines() == [
        "<h4>Targets: the rules</h4>",
        "<p>One function (<code>indicators/targets.py</code>) decides which target applies.</p>",
        "<ol><li><strong>Own plan.</strong> The current version of the plan.</li>"
        "<li><strong>County targets added up.</strong> Their sum.</li></ol>",
        "<p><em>Indicators</em> (a &lt; b &amp; c) stay.</p>"]


def test_a_bullet_quoted_alone_is_a_list_and_code_is_not_formatted():
    html = str(to_html("- **Results**: compiled by `a*b*c` — counts add,\n  ratios divide."))
    assert html == "<ul><li><strong>Results</strong>: compiled by <code>a*b*c</code> — counts add, ratios divide.</li></ul>"
    assert inline("0.6745·(x − median)/MAD × 100") == "0.6745·(x − median)/MAD × 100"
    assert inline("<script>") == "&lt;script&gt;"


@given(st.text(max_size=300))
def test_any_text_is_quoted_escaped_and_never_breaks(text):
    html = str(to_html(text))
    assert "<script" not in html
    for word in text.split():
        if word.isalnum():
            assert word in html  # letters and digits are never dropped
