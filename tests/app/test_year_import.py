"""A year of history for two programmes and all 47 counties, imported as one CSV per programme
with `mel import --submit`, then re-imported: the second import changes nothing, and
`GET /api/v1/results` gives the figures computed here, independently, from the files.

FY2025/26 (2025Q3–2026Q2) follows the demo history, so the figures continue the demo's last
quarter and the history checks compare them with it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pandas as pd
import pytest
import time_machine
from sqlalchemy import func, select

from mel.accounts.operations import create_token
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import Programme
from mel.returns.ingest import Incoming, IngestSettings, ingest
from mel.returns.models import DataValue, Return, ValueChange
from mel.returns.workbook import read_return_file
from mel.review import operations as review
from tests.app.returns_helpers import rows_like, user

PROGRAMMES = ("OPCT", "CTOVC")
QUARTERS = ("2025Q3", "2025Q4", "2026Q1", "2026Q2")
COUNTIES = [f"{n:03d}" for n in range(1, 48)]
NOW = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)  # every window of the year has opened
COLUMNS = ["indicator", "option", "org_unit", "period", "value", "comment", "explanation"]
EXPLANATION = "Checked against the payroll MIS extract for the quarter."


def year_rows(session, programme: str) -> pd.DataFrame:
    """Each quarter continues the demo's 2025Q2 figures, growing 0.5% a quarter."""
    frames = [rows_like(session, programme, COUNTIES, source="2025Q2", period=quarter, factor=1.005 ** (n + 1),
                        annual=quarter == "2026Q2")
              for n, quarter in enumerate(QUARTERS)]
    return pd.concat(frames, ignore_index=True)


def explain_warnings(session, config, programme: str, rows: pd.DataFrame) -> pd.DataFrame:
    """What an honest officer does with the check report: explain each warning in the file."""
    rows = rows.copy()
    data = rows[COLUMNS].to_csv(index=False).encode()
    checked = ingest(session, user(session, "secretariat@demo.test"),
                     Incoming(read_return_file(data, "check.csv"), "csv", "check.csv", data),
                     programme=programme, dry_run=True, now=NOW, settings=IngestSettings.from_config(config))
    assert not checked.errors, [e.message for e in checked.errors[:5]]
    rules = {r.code: r for r in load_catalogue(session).rules}
    for warning in checked.warnings:
        where = warning.location
        code = rows["indicator"].str.split(".").str[0]  # a ratio's warning is explained on its parts
        same = (rows["org_unit"] == where["org_unit"]) & (rows["period"] == where["period"])
        if "rule" in where:
            same &= code.isin(rules[where["rule"]].indicators)
        else:
            same &= code == where["indicator"].split(".")[0]
            if "option" in where:  # the cells of one figure flagged together are one warning, without option
                same &= rows["option"] == where["option"]
        rows.loc[rows.index[same][:1], "explanation"] = EXPLANATION
    return rows


def expected(files: dict[str, pd.DataFrame]) -> dict:
    """The results, computed from the files alone: sums, the last quarter, ratios of sums."""
    totals: dict = defaultdict(float)
    for programme, rows in files.items():
        for row in rows.to_dict("records"):
            totals[(programme, row["indicator"], row["period"])] += float(row["value"])
    year = {"SA14": "sum", "SA01": "last", "SA12.N": "sum", "SA12.D": "sum"}

    def figure(programmes, code, span):
        quarters = QUARTERS if span == "2025July" else (span,)
        if year[code] == "last":
            quarters = quarters[-1:]
        return sum(totals[(p, code, q)] for p in programmes for q in quarters)

    out = {}
    for span in ("2025Q4", "2025July"):
        for programme in PROGRAMMES:
            out[("SA14", programme, span)] = figure([programme], "SA14", span)
            out[("SA01", programme, span)] = figure([programme], "SA01", span)
            out[("SA12", programme, span)] = figure([programme], "SA12.N", span) / figure([programme], "SA12.D", span) * 100
        out[("SA14", "ALL", span)] = figure(PROGRAMMES, "SA14", span)
        out[("SA12", "ALL", span)] = figure(PROGRAMMES, "SA12.N", span) / figure(PROGRAMMES, "SA12.D", span) * 100
    return out


def snapshot(session) -> tuple:
    session.expire_all()
    quarters = list(QUARTERS)
    return (session.execute(select(DataValue.id, DataValue.return_id, DataValue.value, DataValue.updated_at)
                            .where(DataValue.period.in_(quarters)).order_by(DataValue.id)).all(),
            session.execute(select(Return.id, Return.state, Return.version).where(Return.period.in_(quarters))
                            .order_by(Return.id)).all(),
            session.scalar(select(func.count()).select_from(ValueChange)))


@pytest.mark.slow
def test_a_year_of_two_programmes_imports_submits_reimports_unchanged_and_compiles(app, session, runner, client,
                                                                                   tmp_path):
    files = {p: explain_warnings(session, app.config, p, year_rows(session, p)) for p in PROGRAMMES}
    paths = {}
    for programme, rows in files.items():
        paths[programme] = tmp_path / f"{programme.lower()}_fy2025-26.csv"
        rows.sample(frac=1, random_state=7)[COLUMNS].to_csv(paths[programme], index=False)
    expected_returns = 47 * len(QUARTERS)

    with time_machine.travel(NOW, tick=False):
        for programme, path in paths.items():
            first = runner.invoke(args=["import", str(path), "--programme", programme, "--submit"])
            assert first.exit_code == 0, first.output[-3000:]
            assert f"{expected_returns} returns: {len(files[programme])} created, 0 updated" in first.output
            assert first.output.count("  submitted ") == expected_returns
        before = snapshot(session)
        for programme, path in paths.items():
            again = runner.invoke(args=["import", str(path), "--programme", programme, "--submit"])
            assert again.exit_code == 0, again.output[-3000:]
            assert (f"{expected_returns} returns: 0 created, 0 updated, 0 deleted, {len(files[programme])} "
                    "unchanged.") in again.output
        assert snapshot(session) == before

        catalogue = load_catalogue(session)
        reviewer = user(session, "reviewer@demo.test")
        ids = [p.id for p in session.scalars(select(Programme).where(Programme.code.in_(PROGRAMMES)))]
        records = session.scalars(select(Return).where(Return.programme_id.in_(ids), Return.period.in_(QUARTERS)))
        for record in records:
            assert record.state == "submitted"
            review.approve(session, catalogue, reviewer, record, channel="api")
        session.commit()

        token = create_token(session, "viewer@demo.test").token
        want = expected(files)
        for (code, programme, span), figure in want.items():
            response = client.get(f"/api/v1/results?indicator={code}&period={span}&programme={programme}",
                                  headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.get_json()
            rows = [r for r in response.get_json() if r["indicator"] == code and r.get("option") in (None, "total")]
            assert len(rows) == 1, rows
            assert rows[0]["actual"] == pytest.approx(figure, rel=1e-9, abs=0.01), (code, programme, span)
