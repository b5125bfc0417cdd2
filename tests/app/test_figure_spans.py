"""Approved figures settled ahead of time (figure_span): results of Kenya and of a county read them, they
agree with the data values (FIGURES_CHECK compares every such read in the suite), and they are never
stale: a return reopened or approved is listed stale by the database in the same transaction, results
read the data values until the session commits, and the commit settles the spans again; a change made
outside the application stays listed until `mel figures refresh`."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update

from mel.catalogue.lookup import read_catalogue
from mel.catalogue.models import OrgUnit, Programme
from mel.results import summary
from mel.results.queries import resolve_query, results
from mel.returns.models import FigureSpan, FigureStale, Return
from mel.returns.workflow import move
from tests.app.returns_helpers import user

YEAR, QUARTER = "2024July", "2024Q4"


@pytest.fixture
def reads(monkeypatch):
    """How many times results read the settled spans."""
    calls = []
    original = summary.read

    def counted(*args, **kwargs):
        calls.append(kwargs["span"])
        return original(*args, **kwargs)

    monkeypatch.setattr(summary, "read", counted)
    return calls


def _figures(session, catalogue, **query) -> dict:
    rows = results(session, catalogue, resolve_query(catalogue, indicators=None, programme="ALL", **query))
    return {(r["indicator"], r.get("org_unit")): (r["actual"], r["numerator"], r["denominator"]) for r in rows}


def same(left: dict, right: dict) -> bool:
    """The same figures: on SQLite the data values' SUM adds floats, the spans whole hundredths."""
    return left.keys() == right.keys() and all(
        (a is None) == (b is None) and (a is None or a == pytest.approx(b, rel=1e-12))
        for key in left for a, b in zip(left[key], right[key], strict=True))


def _direct(session, catalogue, monkeypatch, **query) -> dict:
    with monkeypatch.context() as patch:
        patch.setattr(summary, "readable", lambda *args: False)
        return _figures(session, catalogue, **query)


def _county_return(session) -> Return:
    """An approved demo return of a county in the quarter (the first in code order)."""
    return session.scalars(select(Return).join(OrgUnit, OrgUnit.id == Return.org_unit_id).join(Programme)
                           .where(Return.period == QUARTER, Return.state == "approved", OrgUnit.level == 2)
                           .order_by(Programme.code, OrgUnit.code)).first()


def test_the_demo_history_is_settled_and_results_read_it(session, reads, monkeypatch):
    catalogue = read_catalogue(session)
    assert session.scalar(select(func.count()).select_from(FigureStale)) == 0
    assert session.scalar(select(func.count()).select_from(FigureSpan)) > 0
    for query in (dict(period=YEAR, org_unit="KE"), dict(period=QUARTER, org_unit="KE", by=["org_unit"]),
                  dict(period=QUARTER, org_unit="042"), dict(period="2025Q1", org_unit="KE", ytd=True)):
        reads.clear()
        settled = _figures(session, catalogue, **query)
        assert reads, query  # the spans were read
        assert same(settled, _direct(session, catalogue, monkeypatch, **query)), query
        assert any(actual is not None for actual, _, _ in settled.values())


def test_a_county_by_sub_county_and_unapproved_figures_read_the_data_values(session, reads):
    catalogue = read_catalogue(session)
    _figures(session, catalogue, period=QUARTER, org_unit="042", by=["org_unit"])
    assert reads == []
    secretariat = user(session, "secretariat@demo.test")
    results(session, catalogue, resolve_query(catalogue, indicators=None, period=QUARTER, org_unit="KE",
                                              programme="ALL", include_submitted=True, user=secretariat))
    assert reads == []


def test_a_reopened_return_leaves_the_figures_when_the_session_commits(session, reads, monkeypatch):
    catalogue = read_catalogue(session)
    before = _figures(session, catalogue, period=YEAR, org_unit="KE")
    record = _county_return(session)
    move(session, record, "reopened", user(session, "secretariat@demo.test"), reason="A figure to correct.")
    # Within the transaction the database lists it stale: results read the data values, without it.
    assert session.scalar(select(func.count()).select_from(FigureStale)) == 1
    reads.clear()
    during = _figures(session, catalogue, period=YEAR, org_unit="KE")
    assert reads == [] and during != before
    session.commit()  # the commit settles the return's county and year again
    assert session.scalar(select(func.count()).select_from(FigureStale)) == 0
    after = _figures(session, catalogue, period=YEAR, org_unit="KE")
    assert reads and same(after, during) and same(after, _direct(session, catalogue, monkeypatch, period=YEAR,
                                                                 org_unit="KE"))
    session.execute(update(Return).where(Return.id == record.id).values(state="submitted"))
    session.execute(update(Return).where(Return.id == record.id).values(state="approved"))
    session.commit()
    assert _figures(session, catalogue, period=YEAR, org_unit="KE") == before


def test_a_change_outside_the_application_is_read_from_the_values_until_refreshed(session, runner, reads,
                                                                                    monkeypatch):
    catalogue = read_catalogue(session)
    record = _county_return(session)
    session.execute(text("UPDATE data_return SET state = 'reopened' WHERE id = :id"), {"id": record.id})
    session.commit()  # plain SQL: the trigger listed it, nothing settled it
    assert session.scalar(select(func.count()).select_from(FigureStale)) == 1
    reads.clear()
    stale = _figures(session, catalogue, period=QUARTER, org_unit="KE")
    assert reads == []
    outcome = runner.invoke(args=["figures", "refresh"])
    assert outcome.exit_code == 0, outcome.output
    assert "Settled the approved figures of 1 programme-county-year(s)" in outcome.output
    assert session.scalar(select(func.count()).select_from(FigureStale)) == 0
    assert same(_figures(session, catalogue, period=QUARTER, org_unit="KE"), stale)
    assert reads


def test_only_consecutive_quarters_of_one_year_are_kept():
    assert summary.span_of(["2024Q3", "2024Q4"]) == ("2024Q3", "2024Q4")
    assert summary.span_of(["2024Q4", "2025Q2"]) is None  # not consecutive
    assert summary.span_of(["2025Q2", "2025Q3"]) is None  # two financial years
    assert summary.span_of(["202409"]) is None
    assert summary.span_of([]) is None
    assert summary.span_of(["1900Q1"]) is None  # its financial year (1899/1900) is outside what periods allow


def test_the_earliest_quarters_read_from_the_data_values_without_error(client, as_user):
    as_user("secretariat@demo.test")
    assert client.get("/api/v1/results?period=1901Q1").status_code == 200  # a year ago: 1900Q1, no year of its own


def test_two_commits_in_one_county_settle_one_after_the_other(tmp_path_factory, monkeypatch):
    """PostgreSQL: two sessions reopen returns of the same programme, county and year at once. The second
    commit waits for the first one's settling (an advisory lock), then settles from what the first committed:
    the spans end as the data values say, neither change lost."""
    import threading
    from datetime import date

    from mel.db import db
    from mel.demo import load_demo
    from tests.helpers import PG_URL, seeded_app

    if not PG_URL:
        pytest.skip("settling one at a time is PostgreSQL's advisory lock; SQLite has one writer anyway")
    app = seeded_app(tmp_path_factory, "spans")
    with app.app_context():
        load_demo(db.session, as_of=date(2025, 10, 5), live=False)
        db.session.commit()
        first = _county_return(db.session)
        second = db.session.scalar(select(Return).where(
            Return.programme_id == first.programme_id, Return.org_unit_id == first.org_unit_id,
            Return.period == "2025Q1", Return.state == "approved"))
        ids = [first.id, second.id]
    inside, release = threading.Event(), threading.Event()
    original = summary.span_figures

    def held(*args, **kwargs):  # the first commit stops inside its settling, holding the lock
        if threading.current_thread().name == "first":
            inside.set()
            assert release.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(summary, "span_figures", held)
    errors = []

    def reopen(return_id: int) -> None:
        try:
            with app.app_context():
                session = db.session
                record = session.get(Return, return_id)
                move(session, record, "reopened", user(session, "secretariat@demo.test"), reason="Correct it.")
                session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reopen, args=(i,), name=n) for i, n in zip(ids, ("first", "second"),
                                                                                 strict=True)]
    threads[0].start()
    assert inside.wait(30)
    threads[1].start()
    with app.app_context():  # the second commit waits for the lock the first one holds
        waiting = None
        for _ in range(100):
            waiting = db.session.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                              "AND NOT granted")).scalar()
            if waiting:
                break
            threading.Event().wait(0.1)
    release.set()
    for thread in threads:
        thread.join(60)
    assert waiting == 1 and not errors, errors
    with app.app_context():
        session = db.session
        catalogue = read_catalogue(session)
        assert session.scalar(select(func.count()).select_from(FigureStale)) == 0
        assert set(session.scalars(select(Return.state).where(Return.id.in_(ids)))) == {"reopened"}
        settled = _figures(session, catalogue, period=YEAR, org_unit="KE")
        assert same(settled, _direct(session, catalogue, monkeypatch, period=YEAR, org_unit="KE"))
        db.engine.dispose()
