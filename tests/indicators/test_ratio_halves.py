"""Half a ratio is one located error at the part that was given, whatever the frame's number dtype."""

from __future__ import annotations

import pandas as pd
import pytest

from indicators.validation import IndicatorSpec, ratio_issues

SPECS = {"SA12": IndicatorSpec("SA12", "ratio", 100, ("F", "M"))}


def effective(parts: list[tuple[str, str, float]], dtype: str) -> pd.DataFrame:
    frame = pd.DataFrame([{"programme": "OPCT", "org_unit": "042", "period": "2025Q3", "indicator": "SA12",
                           "component": component, "option": option, "number": number}
                          for component, option, number in parts])
    frame["number"] = frame["number"].astype(dtype)
    return frame


@pytest.mark.parametrize("dtype", ["float64", "Float64", "object"])
@pytest.mark.parametrize(("given", "missing", "suffix"), [("numerator", "denominator", ".N"),
                                                           ("denominator", "numerator", ".D")])
def test_half_a_ratio_is_located_at_the_given_part(given, missing, suffix, dtype):
    # F is complete, so the frame has both columns and M's missing part is a gap, not a missing column.
    frame = effective([("numerator", "F", 5.0), ("denominator", "F", 10.0), (given, "M", 7.0)], dtype)
    issues = ratio_issues(frame, SPECS)
    assert [(i.code, i.location["indicator"], i.location["option"]) for i in issues] == [
        ("incomplete_ratio", f"SA12{suffix}", "M")]
    assert issues[0].message.endswith(f"Enter the {missing} too, or clear the {given}.")
    assert issues[0].message.startswith(f"org unit 042, FY2025/26 Q1 — SA12{suffix}, M: the {given} is given")
