"""The snapshot's money part for a programme: what it may disburse this financial year.

A PMP has no budget field. The budget a programme report holds its disbursements against is the
PMP's annual target of each of the programme's disbursement indicators (an amount in KES, such as
SA10 "Cash transfers disbursed"), and the report labels it so: "budget (PMP target for FY …)".
"""

from __future__ import annotations

from indicators.periods import financial_year_quarters, parse_period
from indicators.targets import Span
from mel.catalogue.lookup import Catalogue
from mel.results.queries import TargetBook


def disbursement_budgets(book: TargetBook, catalogue: Catalogue, *, programme: str, org_unit: str, period: str,
                         carried: list[str]) -> list[dict]:
    """The annual PMP target of each KES amount the programme reports, with the plan it came from."""
    fy = parse_period(period).financial_year()
    span = Span(tuple(q.id for q in financial_year_quarters(fy)), fy.id)
    out = []
    for code in carried:
        indicator = catalogue.indicators[code]
        if indicator.measure != "amount" or indicator.unit != "KES":
            continue
        choice = book.choose(code, programme, org_unit, span)
        out.append({"indicator": code, "fiscal_year": fy.id, "fiscal_year_label": fy.fy_label,
                    "budget": choice.value, "source": choice.source, "plan": choice.plan, "note": choice.note})
    return out
