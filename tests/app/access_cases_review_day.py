"""Access-matrix cases for the working day: review at meeting speed and starting plans (merged by
tests/app/test_access_matrix.py)."""

from __future__ import annotations


def cases(s) -> dict:
    from tests.app.test_access_matrix import ADMIN, REVIEWERS, WRITE, Case, only

    return {
        ("plans.pmp_start", "POST"): [Case("POST", "/plans/pmps/start", only(ADMIN, WRITE),
                                           data={"scope": "OPCT", "fiscal_year": "2026July", "from_previous": "1"})],
        ("review.bulk_return", "POST"): [Case("POST", "/review/bulk-return", only(REVIEWERS, WRITE),
                                              data={"period": "2025Q3", "reasons": "inconsistent", "text": "Matrix."})],
    }
