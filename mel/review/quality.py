"""The data-quality page: flags, explanations, outliers across counties, unchanged figures, decisions."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.explanations import label_of, reason, tally
from indicators.figures import ratios
from indicators.history import unchanged_rows
from indicators.messages import N_, message, text
from indicators.periods import parse_period
from indicators.quality import cross_unit_outliers
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.results.queries import rows_frame
from mel.returns.models import DataValue, Return, ReturnEvent, ValueFlag
from mel.review.models import RETURN_REASONS


def _values(session: Session, periods: list[str]) -> pd.DataFrame:
    rows = session.connection().execute(select(
        DataValue.programme_id, DataValue.org_unit_id, DataValue.period, DataValue.indicator_id, DataValue.component,
        DataValue.option_combo_id, DataValue.value).where(DataValue.period.in_(periods))).fetchall()
    frame = rows_frame(rows, ["programme_id", "org_unit_id", "period", "indicator_id", "component", "combo", "value"])
    return frame.assign(value=frame["value"].astype(float))


def report(session: Session, catalogue: Catalogue, period: str) -> dict:
    """Everything the data-quality page (and the report's annex) shows for a quarter."""
    returns = {r.id: r for r in session.scalars(select(Return).where(Return.period == period))}
    programmes, units, indicators = catalogue.programme_codes, catalogue.org_unit_by_id, catalogue.indicator_by_id

    def label(record: Return) -> str:
        return f"{programmes[record.programme_id]} {units[record.org_unit_id].name}"

    flags = session.scalars(select(ValueFlag).where(ValueFlag.return_id.in_(list(returns)))).all() if returns else []
    flag_rows = []
    for f in flags:
        code, words = reason(f.explanation_code, f.explanation)
        # The flag's message: English text that a page says again in its language (ValueFlag.words).
        flag_rows.append({"return": label(returns[f.return_id]), "message": f.words, "explanation": f.explanation,
                          "explanation_code": code, "reason": label_of(code) or code, "words": words,
                          "kind": f.kind, "link": (programmes[returns[f.return_id].programme_id],
                                                   units[returns[f.return_id].org_unit_id].code)})
    quarter = parse_period(period)
    recent = [quarter.shift(-n).id for n in range(2, -1, -1)]
    values = _values(session, [quarter.previous().id] + recent)
    outliers, unchanged = [], []
    if not values.empty:
        totals = values.groupby(["programme_id", "org_unit_id", "period", "indicator_id", "component"])["value"].sum().reset_index()
        wide = totals.pivot_table(index=["programme_id", "org_unit_id", "period", "indicator_id"], columns="component",
                                  values="value", aggfunc="first").reset_index()
        for column in ("value", "numerator", "denominator"):
            if column not in wide:
                wide[column] = float("nan")
        factors = wide["indicator_id"].map(lambda i: indicators[i].factor or 1)
        wide["figure"] = wide["value"].where(wide["value"].notna(),
                                             ratios(wide["numerator"], wide["denominator"], factors))
        now = wide[wide["period"] == period]
        before = wide[wide["period"] == quarter.previous().id][["programme_id", "org_unit_id", "indicator_id", "figure"]]
        merged = now.merge(before, on=["programme_id", "org_unit_id", "indicator_id"], how="left", suffixes=("", "_before"))
        ratio = merged["numerator"].notna()
        merged["metric"] = merged["figure"].where(ratio, (merged["figure"] - merged["figure_before"]) / merged["figure_before"] * 100)
        merged["group"] = merged["programme_id"].astype(str) + ":" + merged["indicator_id"].astype(str)
        merged["org_unit"] = merged["org_unit_id"]
        for row in cross_unit_outliers(merged[merged["org_unit_id"].map(lambda u: units[u].level == 2)]).to_dict("records"):
            indicator = indicators[row["indicator_id"]]
            what = f"{row['metric']:.1f}{'%' if indicator.factor == 100 else ''}" if indicator.measure == "ratio" \
                else text(message(N_("%(change)s%% change from last quarter"), change=f"{row['metric']:+.0f}"))
            outliers.append({"programme": programmes[row["programme_id"]], "org_unit": units[row["org_unit_id"]].name,
                             "indicator": indicator.code, "name": indicator.short_name, "figure": what,
                             "median": f"{row['median']:.1f}" + ("%" if indicator.measure != "ratio" or indicator.factor == 100 else ""),
                             "z": round(float(row["z"]), 1)})
        # The same rule as the warning an officer gets (indicators/history.py).
        coded = pd.DataFrame({
            "programme": values["programme_id"].map(programmes), "org_unit": values["org_unit_id"].map(
                catalogue.org_unit_codes), "period": values["period"],
            "indicator": values["indicator_id"].map(catalogue.indicator_codes), "component": values["component"],
            "option": values["combo"].map(catalogue.combo_codes), "number": values["value"]})
        for row in unchanged_rows(coded[coded["period"] == period], coded[coded["period"] != period],
                                  catalogue.specs).to_dict("records"):
            unchanged.append({"programme": row["programme"], "org_unit": catalogue.org_units[row["org_unit"]].name,
                              "indicator": row["indicator"], "option": row["option"],
                              "option_label": catalogue.names.option(row["indicator"], row["option"]),
                              "value": row["number"]})
    emails = dict(session.execute(select(User.id, User.email)).all())
    decisions = []
    if returns:
        for event in session.scalars(select(ReturnEvent).where(
                ReturnEvent.return_id.in_(list(returns)),
                ReturnEvent.to_state.in_(["returned", "approved", "reopened"])).order_by(ReturnEvent.at)):
            decisions.append({"at": event.at, "return": label(returns[event.return_id]), "decision": event.to_state,
                              "by": emails.get(event.user_id, "system"), "reason": event.reason,
                              "reasons": [RETURN_REASONS.get(c, c) for c in event.reason_codes.split(",") if c]})
    return {"unexplained": [f for f in flag_rows if not f["explanation"].strip()],
            "explained": [f for f in flag_rows if f["explanation"].strip()],
            "by_reason": tally(f["explanation_code"] for f in flag_rows),
            "outliers": outliers[:100], "unchanged": unchanged[:200], "decisions": decisions}
