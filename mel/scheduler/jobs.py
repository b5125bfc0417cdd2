"""The reporting calendar's jobs. Each is idempotent: running it twice does nothing more.

Jobs take (session, config, now) and return a one-line account of what they did. Messages
are notifications with a dedupe key, so a second run finds them already there; e-mail goes
out afterwards for whatever was not sent yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, selectinload

from indicators.periods import PeriodType, parse_period
from mel import clock
from mel.accounts.models import ApiToken, LoginSession, SignInAttempt, User
from mel.catalogue.lookup import load_catalogue
from mel.returns.models import Return
from mel.returns.workflow import window_for
from mel.review.models import Notification, ValueQuery
from mel.review.notify import _store
from mel.review.queries import expected_returns
from mel.unit_of_work import finish


@dataclass(frozen=True)
class Job:
    id: str
    description: str
    function: Callable[[Session, dict, datetime], str]
    trigger: dict  # APScheduler cron fields


def _today(config: dict, now: datetime) -> date:
    return clock.today(now, config)


def _reporting_quarter(today: date) -> str:
    return clock.reporting_quarter(today).id


def _window(catalogue, programme: str, period: str):
    return window_for(catalogue.forms[catalogue.programmes[programme].id], period)


def _officers(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == "officer", User.is_active.is_(True))
                                .options(selectinload(User.programmes), selectinload(User.org_units))))


def _owed(session: Session, period: str, states: tuple[str, ...] = ("", "draft", "returned", "reopened")):
    """Expected returns of a quarter that have not been submitted (each row with its own period: the quarter,
    or a monthly form's month), and of the months of the quarter after it that have ended (monthly forms
    report a month before its quarter ends)."""
    catalogue = load_catalogue(session)
    frame = expected_returns(session, catalogue, period)
    rows = [] if frame.empty else frame[frame["state"].isin(states)].to_dict("records")
    later = expected_returns(session, catalogue, parse_period(period).next().id)
    if not later.empty:
        ended = parse_period(period).next().end
        rows += [r for r in later[later["state"].isin(states)].to_dict("records")
                 if parse_period(r["period"]).type is PeriodType.MONTH and parse_period(r["period"]).end < ended]
    return catalogue, rows


def _by_officer(session: Session, catalogue, rows: list[dict]) -> dict[int, tuple[User, list[dict]]]:
    units = catalogue.org_units
    result: dict[int, tuple[User, list[dict]]] = {}
    for officer in _officers(session):
        mine = [r for r in rows if r["programme"] in {p.code for p in officer.programmes}
                and any(units[r["org_unit"]].path.startswith(u.path) for u in officer.org_units)]
        if mine:
            result[officer.id] = (officer, mine)
    return result


def _lines(config: dict, rows: list[dict], period: str) -> str:
    base = config.get("BASE_URL", "").rstrip("/")
    state = {"": "not started", "draft": "draft, not submitted", "returned": "returned for correction",
             "reopened": "reopened"}
    return "\n".join(f"- {r['programme']} {r['org_unit_name']}: {state.get(r['state'], r['state'])} — "
                     f"{base}/returns/{r['programme']}/{r['org_unit']}/{r['period']}" for r in rows)


def open_windows(session: Session, config: dict, now: datetime) -> str:
    """Tell officers that the window for the quarter just ended is open."""
    today = _today(config, now)
    period = _reporting_quarter(today)
    catalogue, rows = _owed(session, period)
    rows = [r for r in rows if _window(catalogue, r["programme"], r["period"]).opens <= today]
    sent = 0
    label = parse_period(period).label
    for officer, mine in _by_officer(session, catalogue, rows).values():
        due = min(_window(catalogue, r["programme"], r["period"]).due for r in mine)
        sent += len(_store(session, [officer], kind="window_open",
                           subject=f"Reporting for {label} is open: {len(mine)} return(s) due {due:%d %B %Y}",
                           body=f"The window for {label} is open. Your returns:\n{_lines(config, mine, period)}",
                           link="/", dedupe=f"open:{period}:{officer.id}"))
    return f"{period}: {sent} officer(s) told the window is open"


def remind_due(session: Session, config: dict, now: datetime) -> str:
    """Remind officers N days before the due date (and on the due day) of returns not submitted."""
    today = _today(config, now)
    period = _reporting_quarter(today)
    catalogue, rows = _owed(session, period)
    days_wanted = {int(d) for d in config.get("REMINDER_DAYS", [7, 2])} | {0}
    due_rows = []
    for row in rows:
        due = _window(catalogue, row["programme"], row["period"]).due
        if (due - today).days in days_wanted:
            due_rows.append({**row, "due": due, "days": (due - today).days})
    sent = 0
    label = parse_period(period).label
    for officer, mine in _by_officer(session, catalogue, due_rows).values():
        days = mine[0]["days"]
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        sent += len(_store(session, [officer], kind="reminder",
                           subject=f"Reminder: {len(mine)} return(s) for {label} due {when} ({mine[0]['due']:%d %B %Y})",
                           body=f"These returns are not submitted yet:\n{_lines(config, mine, period)}",
                           link="/", dedupe=f"reminder:{period}:{days}:{officer.id}"))
    return f"{period}: {sent} reminder(s)"


def mark_late(session: Session, config: dict, now: datetime) -> str:
    """After the due date, mark unsubmitted returns late and send the secretariat a digest."""
    today = _today(config, now)
    period = _reporting_quarter(today)
    catalogue, rows = _owed(session, period)
    overdue = [r for r in rows
               if _window(catalogue, r["programme"], r["period"]).due < today]
    if not overdue:
        return f"{period}: nothing overdue"
    ids = [r["return_id"] for r in overdue if r["return_id"] == r["return_id"] and r["return_id"]]
    changed = 0
    if ids:
        changed = session.execute(update(Return).where(Return.id.in_([int(i) for i in ids]),
                                                       Return.is_late.is_(False)).values(is_late=True)).rowcount
    by_programme: dict[str, list[str]] = defaultdict(list)
    for row in overdue:
        by_programme[row["programme"]].append(row["org_unit_name"])
    body = "\n".join(f"- {code}: {len(names)} missing ({', '.join(sorted(names)[:12])}{'…' if len(names) > 12 else ''})"
                     for code, names in sorted(by_programme.items()))
    secretariat = list(session.scalars(select(User).where(User.role == "secretariat", User.is_active.is_(True))))
    label = parse_period(period).label
    _store(session, secretariat, kind="late_digest",
           subject=f"{len(overdue)} return(s) for {label} are late",
           body=f"Not submitted by the due date, by programme:\n{body}", link=f"/review/?period={period}",
           dedupe=f"late:{period}")
    return f"{period}: {len(overdue)} overdue, {changed} draft(s) marked late"


def data_quality_scan(session: Session, config: dict, now: datetime) -> str:
    """Nightly: tell reviewers about unexplained warnings and queries waiting for an answer."""
    today = _today(config, now)
    period = _reporting_quarter(today)
    catalogue = load_catalogue(session)
    frame = expected_returns(session, catalogue, period)
    unexplained = int(frame["unexplained"].sum()) if not frame.empty else 0
    stale = session.scalars(select(ValueQuery).where(ValueQuery.status == "open",
                                                     ValueQuery.raised_at < now - timedelta(days=7))).all()
    if not unexplained and not stale:
        return f"{period}: nothing to report"
    reviewers = list(session.scalars(select(User).where(User.role == "reviewer", User.is_active.is_(True))))
    _store(session, reviewers, kind="dq_digest",
           subject=f"Data quality, {parse_period(period).label}: {unexplained} unexplained warning(s), "
                   f"{len(stale)} query(ies) waiting over 7 days",
           body="See the data-quality page for the details.", link=f"/review/data-quality?period={period}",
           dedupe=f"dq:{today.isoformat()}")
    return f"{period}: {unexplained} unexplained warning(s), {len(stale)} stale queries"


def draft_sector_report(session: Session, config: dict, now: datetime) -> str:
    """After the TWG's review deadline, draft the sector quarterly report once and tell the secretariat."""
    from mel.reporting import executor, operations
    from mel.reporting.models import ReportRun

    today = _today(config, now)
    period = _reporting_quarter(today)
    quarter = parse_period(period)
    deadline = quarter.end + timedelta(days=int(config.get("REVIEW_DAYS", 30)))
    if today <= deadline:
        return f"{period}: review open until {deadline:%d %B %Y}; no draft yet"
    existing = session.scalar(select(ReportRun).where(ReportRun.kind == "sector", ReportRun.period == period,
                                                      ReportRun.trigger == "schedule",
                                                      ReportRun.state.in_(["queued", "running", "done"])))
    if existing is not None:
        return f"{period}: draft sector report already made (run {existing.id}, {existing.state})"
    run = operations.request_report(session, kind="sector", period=period, trigger="schedule")
    finish(session, config)  # the worker process reads the run
    executor.run_and_wait(session, config, run.id)
    session.refresh(run)
    if run.state != "done":
        return f"{period}: draft sector report failed (run {run.id}): {run.error.splitlines()[0] if run.error else ''}"
    secretariat = list(session.scalars(select(User).where(User.role == "secretariat", User.is_active.is_(True))))
    base = config.get("BASE_URL", "").rstrip("/")
    _store(session, secretariat, kind="report_draft",
           subject=f"Draft sector report for {quarter.label} is ready ({run.page_count} pages)",
           body=f"The MERL TWG's review deadline passed on {deadline:%d %B %Y}. The draft sector quarterly "
                f"report is ready for checking before you publish it:\n{base}/reports/runs/{run.id}",
           link=f"/reports/runs/{run.id}", dedupe=f"draft:{period}")
    return f"{period}: draft sector report made (run {run.id}, {run.page_count} pages)"


def remind_overdue_actions(session: Session, config: dict, now: datetime) -> str:
    """E-mail the owners of overdue MERL TWG actions, in their language, once a day at most."""
    from mel.meetings.reminders import remind_overdue

    return remind_overdue(session, config, now)


def prune(session: Session, config: dict, now: datetime) -> str:
    """Delete expired or revoked sessions and tokens, notices read long ago and week-old sign-in attempts."""
    sessions = session.execute(delete(LoginSession).where(or_(
        LoginSession.expires_at < now, LoginSession.revoked_at.is_not(None)))).rowcount
    tokens = session.execute(delete(ApiToken).where(or_(
        ApiToken.expires_at < now - timedelta(days=30),
        ApiToken.revoked_at < now - timedelta(days=30)))).rowcount
    notices = session.execute(delete(Notification).where(Notification.read_at < now - timedelta(days=180))).rowcount
    # Throttling reads attempts of the last window only; the audit log keeps who tried what.
    attempts = session.execute(delete(SignInAttempt).where(
        SignInAttempt.attempted_at < now - timedelta(days=7))).rowcount
    from mel.reporting.models import ReportRun

    # A report whose worker died is marked failed, so nobody waits for it; it can be generated again.
    stopped = session.execute(update(ReportRun).where(
        ReportRun.published_at.is_(None), or_(
            (ReportRun.state == "running") & (ReportRun.heartbeat_at < now - timedelta(minutes=15)),
            (ReportRun.state == "queued") & (ReportRun.requested_at < now - timedelta(hours=1))))
        .values(state="failed", stage="failed", error="The report worker stopped before finishing.")
        .execution_options(synchronize_session=False)).rowcount
    return (f"pruned {sessions} session(s), {tokens} token(s), {notices} old notice(s), "
            f"{attempts} sign-in attempt(s) over a week old; "
            f"{stopped} stopped report run(s) marked failed")


def partitions(session: Session, config: dict, now: datetime) -> str:
    """Make the partitions of the figures and their audit for this financial year and the next two (PostgreSQL)."""
    from mel.partitions import ensure_ahead, is_partitioned

    connection = session.connection()
    if not is_partitioned(connection):
        return f"{connection.dialect.name}: the figures are kept in one table (no partitions to make)"
    return ensure_ahead(connection, _today(config, now)).describe()


JOBS: dict[str, Job] = {job.id: job for job in (
    Job("open_windows", "Tell officers the reporting window is open", open_windows, {"hour": 6, "minute": 0}),
    Job("remind_due", "Remind officers of returns due soon (and on the due day)", remind_due, {"hour": 7, "minute": 0}),
    Job("mark_late", "Mark missing returns late; digest to the secretariat", mark_late, {"hour": 8, "minute": 0}),
    Job("draft_sector_report", "Draft the sector quarterly report after the review deadline", draft_sector_report,
        {"hour": 9, "minute": 0}),
    Job("data_quality_scan", "Nightly data-quality digest to reviewers", data_quality_scan, {"hour": 2, "minute": 0}),
    Job("prune", "Remove expired sessions, old tokens and old notices", prune, {"hour": 3, "minute": 0}),
    Job("remind_overdue_actions", "Remind owners of overdue TWG actions (once a day)", remind_overdue_actions,
        {"hour": 7, "minute": 30}),
    Job("partitions", "Make the coming financial years' partitions of the figures and their audit", partitions,
        {"day": 1, "hour": 1, "minute": 30}),
)}
