"""An indicator's whole history: every financial year's quarters and year figure, the targets of each
year with their revisions, the data-quality notes behind the figures, and the evidence linked to it.

The figures are the results pages' own (`mel.results.queries.results`, approved returns only, one
TargetBook): this module adds no formula. Used by the history page and its API (history_views.py), the
CSV and Excel exports (history_export.py) and the reporting guidelines handbook's annex.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from indicators.compile import Thresholds
from indicators.explanations import label_of, reason
from indicators.figures import figure_code, option_label
from indicators.messages import N_, Message, message, period_label, text
from indicators.periods import Period, parse_period
from indicators.targets import Span
from mel import clock
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.catalogue.models import OrgUnit
from mel.errors import NotFound
from mel.learning.models import EvidenceItem, evidence_indicator
from mel.plans.models import Pmp, PmpLine, PmpVersion, Target
from mel.reporting.models import ReportRun
from mel.results.queries import (
    DEFAULT_THRESHOLDS,
    Query,
    TargetBook,
    cell_scope,
    resolve_query,
    results,
)
from mel.returns.models import DataValue, Return, ReturnEvent, ValueChange, ValueFlag
from mel.review.models import QUERY_STATE_WORDS, RETURN_REASONS, ValueQuery
from mel.scopes import can_read_queries, can_read_return_notes

# What each figure row keeps of a results row (mel/results/api.py COLUMNS, less the trends and the span).
FIGURE_KEYS = ("actual", "numerator", "denominator", "target", "target_source", "target_note", "baseline",
               "baseline_period", "achievement", "achievement_method", "status", "returns_received",
               "returns_expected", "completeness", "pmp", "pmp_version", "note")
NOTE_KINDS = ("warning", "query", "returned", "reopened", "revised")  # the page names them (indicator_history.html)


def indicator_history(session: Session, catalogue: Catalogue, code: str, *, org_unit: str = "KE",
                      programme: str = "ALL", reader: User | None = None,
                      thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict:
    """The history of one indicator at an org unit (KE: national; a county) for a programme (or ALL).

    Returns plain data (no ORM objects; texts that are messages are `Text`: English, said again in a
    page's language by `mel.i18n.said`):

    - `indicator`: code, name, short_name, unit, measure, factor, direction, time_aggregation, frequency;
      `org_unit`, `org_unit_name`, `programme`.
    - `years`: oldest first, from the first financial year with an approved figure or a plan line to the
      last; each {fiscal_year, label, complete (its last quarter is over; else the year is to date),
      year: figure, quarters: [figure × 4], plans: [plan]}.
      A figure is the results row of its span (`mel.results.queries.results`): period, label, actual,
      numerator, denominator, target, target_source, target_note, baseline, baseline_period, achievement,
      achievement_method, status, returns_received, returns_expected, completeness, pmp, pmp_version,
      note, and `notes`: how many notes concern it. A quarter nobody reported has actual None, status
      not_reported and the target the same rule chooses.
    - a plan is a PMP of that year with a line for the indicator (the programme's; with ALL the sector's
      and every programme's; below KE only those with targets for the org unit): scope, fiscal_year,
      title, current_version and `versions` oldest first: {number, reason, created_at, created_by,
      is_current, baseline and baseline_period (at KE only), year_target, quarter_targets {quarter:
      value}, changed (its targets differ from the previous version's)}.
    - `notes`: oldest first, each {period, period_label, kind (warning, query, returned, reopened, revised),
      programme, org_unit, org_unit_name, indicator_figure, option, text, explanation, reasons, by, at}:
      warnings with their explanations, review queries with their replies and status, returns and
      reopenings with their reasons, and figures changed after the quarter's first published report. A
      return's notes are read per `mel.scopes.can_read_return_notes` (reader None: approved returns only,
      as a published annex); its query threads only by their readers (`mel.scopes.can_read_queries`),
      approved or not, never in a published annex.
    - `evidence`: the evidence items linked to the indicator and not withdrawn, newest first: id, kind,
      title, authors, agency, published_on, link, key_findings, key_findings_sw.
    """
    code = (code or "").strip().upper()
    if code not in catalogue.indicators:
        raise NotFound(text(message(N_("Indicator %(code)s is not in the catalogue."), code=repr(code))))
    indicator = catalogue.indicators[code]
    # The org unit and programmes as every results query resolves them (its period is not used here).
    scope_query = resolve_query(catalogue, indicators=[code], period=clock.reporting_quarter().id, org_unit=org_unit,
                                programme=programme)
    years = _financial_years(session, catalogue, code, scope_query)
    book = TargetBook(session, catalogue)
    notes = _notes(session, catalogue, code, scope_query, [q.id for y in years for q in y.quarters()], reader)
    counted: dict[str, int] = defaultdict(int)
    for note in notes:
        counted[note["period"]] += 1
        counted[parse_period(note["period"]).financial_year().id] += 1
    built = []
    for year in years:
        quarters = [q.id for q in year.quarters()]
        by_quarter = _figures(session, catalogue, code, scope_query, year.id, ["period"], thresholds, book)
        rows = [_figure(by_quarter.get(q) or _unreported(book, code, scope_query, q), q, counted) for q in quarters]
        whole = _figures(session, catalogue, code, scope_query, year.id, [], thresholds, book).get(year.id)
        built.append({"fiscal_year": year.id, "label": _label(year), "complete": _complete(year),
                      "year": _figure(whole or _unreported(book, code, scope_query, year.id), year.id, counted),
                      "quarters": rows, "plans": _plans(session, catalogue, code, scope_query, year.id)})
    return {
        "indicator": {"code": code, "name": indicator.name, "short_name": indicator.short_name,
                      "name_sw": indicator.name_sw, "short_name_sw": indicator.short_name_sw,
                      "unit": indicator.unit, "measure": indicator.measure, "factor": indicator.factor,
                      "direction": indicator.direction, "time_aggregation": indicator.time_aggregation,
                      "frequency": indicator.frequency},
        "org_unit": scope_query.org_unit.code, "org_unit_name": scope_query.org_unit.name,
        "programme": "ALL" if scope_query.scope == "SECTOR" else ",".join(scope_query.programmes),
        "years": built, "notes": notes, "evidence": linked_evidence(session, indicator.id),
    }


def _financial_years(session: Session, catalogue: Catalogue, code: str, query: Query) -> list[Period]:
    """The financial years from the first with an approved figure or a plan line to the last with either."""
    indicator_id = catalogue.indicators[code].id
    first, last = session.execute(
        select(func.min(DataValue.period), func.max(DataValue.period)).join(Return, Return.id == DataValue.return_id)
        .where(DataValue.indicator_id == indicator_id, Return.state == "approved",
               DataValue.programme_id.in_([catalogue.programmes[p].id for p in query.programmes]))).one()
    planned = session.scalars(select(Pmp.fiscal_year).join(PmpVersion, PmpVersion.pmp_id == Pmp.id)
                              .join(PmpLine, PmpLine.version_id == PmpVersion.id)
                              .where(PmpLine.indicator_id == indicator_id).distinct()).all()
    found = [parse_period(p).financial_year() for p in (first, last) if p] + [parse_period(p) for p in planned]
    if not found:
        return []
    start, end = min(found), max(found)
    years, year = [], start
    while year <= end:
        years.append(year)
        year = parse_period(f"{year.year + 1}July")
    return years


def _figures(session: Session, catalogue: Catalogue, code: str, scope: Query, year: str, by: list[str],
             thresholds: Thresholds, book: TargetBook) -> dict[str, dict]:
    """The results rows of a financial year (by quarter, or the year itself), keyed by period."""
    query = resolve_query(catalogue, indicators=[code], period=year, org_unit=scope.org_unit.code,
                          programme=",".join(scope.programmes) if scope.scope != "SECTOR" else "ALL", by=by)
    return {row["period"]: row for row in results(session, catalogue, query, thresholds, book=book)}


def _unreported(book: TargetBook, code: str, scope: Query, period: str) -> dict:
    """A span with no approved figure: nothing reported, against the target the one rule chooses."""
    parsed = parse_period(period)
    span = Span(tuple(q.id for q in parsed.quarters()), period) if parsed.type.name == "FINANCIAL_YEAR" \
        else Span((period,))
    choice = book.choose(code, cell_scope(scope), scope.org_unit.code, span)
    return {"target": choice.value, "target_source": choice.source, "target_note": choice.note,
            "baseline": choice.baseline, "baseline_period": choice.baseline_period or None,
            "pmp": choice.plan or None, "pmp_version": choice.version, "status": "not_reported"}


def _figure(row: dict, period: str, counted: dict[str, int]) -> dict:
    figure = {key: row.get(key) for key in FIGURE_KEYS}
    figure["note"] = figure["note"] or ""
    return {"period": period, "label": _label(parse_period(period)), **figure, "notes": counted.get(period, 0)}


def _complete(year: Period) -> bool:
    """Whether the financial year's last quarter has been reported on (else its figure is a year to date)."""
    return year.quarters()[-1] <= clock.reporting_quarter()


def _plans(session: Session, catalogue: Catalogue, code: str, scope: Query, year: str) -> list[dict]:
    """The PMPs of the year with a line for the indicator, each version with its targets at the org unit."""
    indicator_id = catalogue.indicators[code].id
    scopes = ["SECTOR", *scope.programmes] if scope.scope == "SECTOR" else list(scope.programmes)
    rows = session.execute(
        select(Pmp.scope, Pmp.title, Pmp.current_version, PmpVersion.number, PmpVersion.reason, PmpVersion.created_at,
               PmpVersion.created_by_id, PmpLine.id, PmpLine.baseline_value, PmpLine.baseline_period)
        .join(PmpVersion, PmpVersion.pmp_id == Pmp.id).join(PmpLine, PmpLine.version_id == PmpVersion.id)
        .where(Pmp.fiscal_year == year, Pmp.scope.in_(scopes), PmpLine.indicator_id == indicator_id)
        .order_by(Pmp.scope, PmpVersion.number)).all()
    if not rows:
        return []
    targets: dict[int, dict[str, float]] = defaultdict(dict)
    for line_id, period, value in session.execute(
            select(Target.line_id, Target.period, Target.value)
            .where(Target.line_id.in_([r.id for r in rows]), Target.org_unit_id == scope.org_unit.id)):
        targets[line_id][period] = float(value)
    emails = dict(session.execute(select(User.id, User.email)).all())
    national = scope.org_unit.code == "KE"
    plans: dict[str, dict] = {}
    for row in rows:
        plan = plans.setdefault(row.scope, {"scope": row.scope, "fiscal_year": year, "title": row.title,
                                            "current_version": row.current_version, "versions": []})
        values = targets.get(row.id, {})
        before = plan["versions"][-1] if plan["versions"] else None
        year_target = values.get(year)
        quarter_targets = {p: v for p, v in sorted(values.items()) if p != year}
        plan["versions"].append({
            "number": row.number, "reason": row.reason, "created_at": row.created_at.isoformat(),
            "created_by": emails.get(row.created_by_id, "system"), "is_current": row.number == row.current_version,
            # A plan line's baseline is the national one (indicators/targets.py applies it at KE only).
            "baseline": None if row.baseline_value is None or not national else float(row.baseline_value),
            "baseline_period": (row.baseline_period or None) if national else None, "year_target": year_target,
            "quarter_targets": quarter_targets,
            "changed": before is not None and (before["year_target"], before["quarter_targets"]) != (
                year_target, quarter_targets)})
    order = {s: n for n, s in enumerate(scopes)}
    # Below the nation a plan speaks to the org unit only through targets set for it.
    kept = [p for p in plans.values() if national or any(v["year_target"] is not None or v["quarter_targets"]
                                                         for v in p["versions"])]
    return sorted(kept, key=lambda p: order.get(p["scope"], len(order)))


def _notes(session: Session, catalogue: Catalogue, code: str, scope: Query, quarters: list[str],
           reader: User | None) -> list[dict]:
    """The data-quality notes of the returns behind the figures (those holding the indicator in scope)."""
    if not quarters:
        return []
    indicator_id = catalogue.indicators[code].id
    statement = (select(Return).where(
        Return.period.in_(quarters), Return.programme_id.in_([catalogue.programmes[p].id for p in scope.programmes]),
        Return.id.in_(select(DataValue.return_id).where(DataValue.indicator_id == indicator_id)
                      .union(select(ValueFlag.return_id).where(ValueFlag.indicator_id == indicator_id)))))
    if scope.org_unit.level > 1:
        statement = statement.where(Return.org_unit_id.in_(
            select(OrgUnit.id).where(OrgUnit.path.startswith(scope.org_unit.path))))
    returns = {r.id: r for r in session.scalars(statement)
               if can_read_return_notes(reader, r.programme_id, catalogue.org_unit_by_id[r.org_unit_id], r.state)}
    if not returns:
        return []
    emails = dict(session.execute(select(User.id, User.email)).all())
    threads = {i: r for i, r in returns.items()  # query threads: their readers' only, approved or not
               if reader is not None and can_read_queries(reader, r.programme_id, catalogue.org_unit_by_id[r.org_unit_id])}
    notes = _warnings(session, catalogue, code, returns) + _queries(session, catalogue, code, threads, emails)
    notes += _decisions(session, catalogue, returns, emails)
    notes += _revisions(session, catalogue, code, returns, emails)
    notes.sort(key=lambda n: (n["period"], n["at"] or "", NOTE_KINDS.index(n["kind"])))
    return notes


def _place(catalogue: Catalogue, record: Return) -> dict:
    unit = catalogue.org_unit_by_id[record.org_unit_id]
    return {"period": record.period, "period_label": _label(parse_period(record.period)),
            "programme": catalogue.programme_codes[record.programme_id], "org_unit": unit.code,
            "org_unit_name": unit.name}


def _warnings(session: Session, catalogue: Catalogue, code: str, returns: dict[int, Return]) -> list[dict]:
    """Warnings on the indicator's figures (and of rules that name it), with the officer's explanation."""
    rules = {rule.code for rule in catalogue.rules if code in rule.indicators}
    indicator_id = catalogue.indicators[code].id
    found = []
    for flag in session.scalars(select(ValueFlag).where(ValueFlag.return_id.in_(list(returns))).order_by(ValueFlag.id)):
        if flag.indicator_id != indicator_id and not (flag.rule_code and flag.rule_code in rules):
            continue
        reason_code, _words = reason(flag.explanation_code, flag.explanation)
        found.append({**_place(catalogue, returns[flag.return_id]), "kind": "warning",
                      "indicator_figure": figure_code(catalogue.indicator_codes.get(flag.indicator_id, code),
                                                      flag.component) if flag.indicator_id else flag.rule_code,
                      "option": catalogue.combo_codes.get(flag.option_combo_id, "") if flag.option_combo_id else "",
                      "text": flag.what, "explanation": flag.explanation,
                      "reasons": [text(Message(label_of(reason_code)))] if label_of(reason_code) else [],
                      "by": "", "at": flag.created_at.isoformat() if flag.created_at else None})
    return found


def _queries(session: Session, catalogue: Catalogue, code: str, returns: dict[int, Return],
             emails: dict) -> list[dict]:
    """The review's queries on the indicator's figures: the question, then the answers, corrections and the
    closing note in order (each "who: words"), and where the thread stands."""
    found: list[dict] = []
    if not returns:
        return found
    for query in session.scalars(select(ValueQuery).where(ValueQuery.return_id.in_(list(returns)),
                                                          ValueQuery.indicator_id == catalogue.indicators[code].id)
                                 .options(selectinload(ValueQuery.messages))
                                 .order_by(ValueQuery.raised_at, ValueQuery.id)):
        question = next((m.body for m in query.messages if m.kind == "question"), "")
        replies = [f"{emails.get(m.author_id, 'system')}: {m.body}" for m in query.messages if m.kind != "question"]
        found.append({**_place(catalogue, returns[query.return_id]), "kind": "query",
                      "indicator_figure": figure_code(code, query.component),
                      "option": catalogue.combo_codes.get(query.option_combo_id, ""), "text": question,
                      "explanation": " / ".join(replies), "reasons": [text(Message(QUERY_STATE_WORDS[query.status]))],
                      "by": emails.get(query.raised_by_id, "system"), "at": query.raised_at.isoformat()})
    return found


def _decisions(session: Session, catalogue: Catalogue, returns: dict[int, Return], emails: dict) -> list[dict]:
    """Returns sent back to the officer and approved returns reopened, with their reasons."""
    found = []
    for event in session.scalars(select(ReturnEvent).where(ReturnEvent.return_id.in_(list(returns)),
                                                           ReturnEvent.to_state.in_(["returned", "reopened"]))
                                 .order_by(ReturnEvent.at, ReturnEvent.id)):
        reasons = [text(Message(RETURN_REASONS[c])) if c in RETURN_REASONS else c
                   for c in event.reason_codes.split(",") if c]
        found.append({**_place(catalogue, returns[event.return_id]), "kind": event.to_state, "indicator_figure": "",
                      "option": "", "text": event.reason, "explanation": "", "reasons": reasons,
                      "by": emails.get(event.user_id, "system"), "at": event.at.isoformat()})
    return found


def _revisions(session: Session, catalogue: Catalogue, code: str, returns: dict[int, Return],
               emails: dict) -> list[dict]:
    """The indicator's figures changed after their quarter's first published report."""
    periods = {r.period for r in returns.values()}
    published = dict(session.execute(
        select(ReportRun.period, func.min(ReportRun.published_at))
        .where(ReportRun.published_at.is_not(None), ReportRun.period.in_(periods)).group_by(ReportRun.period)).all())
    if not published:
        return []
    found = []
    indicator_id = catalogue.indicators[code].id
    for change in session.scalars(select(ValueChange).where(
            ValueChange.return_id.in_([i for i, r in returns.items() if r.period in published]),
            ValueChange.indicator_id == indicator_id).order_by(ValueChange.changed_at, ValueChange.id)):
        record = returns[change.return_id]
        since = published[record.period]
        if _naive(change.changed_at) <= _naive(since):
            continue
        option = catalogue.combo_codes.get(change.option_combo_id, "")
        figure = figure_code(code, change.component)
        found.append({**_place(catalogue, record), "kind": "revised", "indicator_figure": figure, "option": option,
                      "text": text(message(N_("%(figure)s %(option)s changed from %(old)s to %(new)s after the "
                                              "quarter's first report was published (%(date)s)."),
                                           figure=figure, option=option_label(option) or option,
                                           old=_plain(change.old_value), new=_plain(change.new_value),
                                           date=_naive(since).date().isoformat())),
                      "explanation": change.explanation or change.reason, "reasons": [],
                      "by": emails.get(change.changed_by_id, "system"), "at": change.changed_at.isoformat()})
    return found


def _naive(value: datetime) -> datetime:
    """An instant in UTC without its zone (SQLite gives stored instants back naive, in UTC)."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def _label(period: Period) -> str:
    """A period's label: English text that a page says again in its language."""
    words = period_label(period)
    return words if isinstance(words, str) else text(words)


def _plain(value) -> str:
    if value is None:
        return "–"
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"


def linked_evidence(session: Session, indicator_id: int) -> list[dict]:
    """The evidence items linked to an indicator (the register's `evidence_indicator`), not withdrawn."""
    items = session.scalars(select(EvidenceItem).join(evidence_indicator,
                                                      evidence_indicator.c.evidence_id == EvidenceItem.id)
                            .where(evidence_indicator.c.indicator_id == indicator_id, EvidenceItem.withdrawn_at.is_(None))
                            .order_by(EvidenceItem.published_on.desc(), EvidenceItem.id.desc()))
    return [{"id": item.id, "kind": item.kind, "title": item.title, "authors": item.authors, "agency": item.agency,
             "published_on": item.published_on.isoformat() if item.published_on else None, "link": item.link,
             "key_findings": item.key_findings, "key_findings_sw": item.key_findings_sw} for item in items]
