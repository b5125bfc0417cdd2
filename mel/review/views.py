"""Web pages of the review: the queue, one return under review, data quality, completeness."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import select

from indicators.explanations import label_of, reason
from indicators.periods import parse_period
from mel import clock, periods
from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.catalogue.language import localised
from mel.catalogue.levels import COUNTY
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import Pillar
from mel.converters import is_digits
from mel.db import db
from mel.errors import Forbidden, MelError, NotFound
from mel.i18n import N_, language, period_words, report_catalogues, said
from mel.plans import queries as plan_queries
from mel.returns import operations as return_ops
from mel.returns.ingest import IngestSettings
from mel.returns.models import Return, ReturnEvent
from mel.review import operations, quality, queries
from mel.review.models import RETURN_REASONS, ValueQuery
from mel.scopes import can_enter, can_review
from mel.unit_of_work import finish
from reports.charts import line_chart
from reports.i18n import speaking

bp = Blueprint("review", __name__, url_prefix="/review")


def _period(value: str | None) -> str:
    return (periods.quarter(value) if value else clock.reporting_quarter()).id


def _reviewer():
    user = authenticated_user()
    if not can_review(user):
        raise Forbidden(_("The review is for MERL TWG reviewers and the secretariat."))
    return user


PAGE_SIZE = 50
# English, marked for the catalogue; translated where shown (review/queue.html).
STATE_NAMES = {"submitted": N_("Submitted"), "returned": N_("Returned to the officer"), "reopened": N_("Reopened"),
               "draft": N_("Draft"), "not_started": N_("Not started"), "approved": N_("Approved")}
ORDERS = {"attention": N_("Needing attention first"), "change": N_("Largest change against last quarter first")}


def pillar_words(session) -> dict[str, str]:
    """Pillar code → its Kiswahili name where one is written, on a Kiswahili page; empty otherwise (the
    pages then show the code's own words, "Social assistance")."""
    if language() == "en":
        return {}
    return {p.code: localised(p) for p in session.scalars(select(Pillar)) if (p.name_sw or "").strip()}


def _queue_filters(args) -> dict:
    return {k: (args.get(k) or "").strip()[:20] or None for k in ("programme", "org_unit", "pillar", "state")}


def _change_in_words(catalogue, change: dict | None) -> dict | None:
    """A return's largest change with its indicator named in the page's language ("… (numerator)")."""
    if not change or change["indicator"] not in catalogue.indicators:
        return change
    indicator = catalogue.indicators[change["indicator"]]
    english = indicator.short_name or ""
    if not change["name"].startswith(english):
        return change
    part = change["name"][len(english):]
    numerator, denominator = _("numerator"), _("denominator")  # outside an f-string: pybabel extracts them
    part = {" (numerator)": f" ({numerator})", " (denominator)": f" ({denominator})"}.get(part, part)
    return {**change, "name": localised(indicator, "short_name") + part}


def _queue_rows(session, catalogue, period: str, filters: dict, order: str) -> list[dict]:
    """The queue's rows, filtered, with each return's largest change, in the chosen order."""
    rows = queries.review_queue(session, catalogue, period, **filters)
    changes = queries.largest_changes(session, catalogue, period, [r["return_id"] for r in rows])
    for row in rows:
        row["change"] = _change_in_words(catalogue, changes.get(row["return_id"]))
        programme = catalogue.programmes.get(row["programme"])
        if programme is not None:  # the programme's name in the page's language
            row["programme_name"] = localised(programme)
    if order == "change":
        rows.sort(key=lambda r: -(r["change"]["score"] if r["change"] else -1))
    return rows


@bp.route("/")
@login_required
def queue():
    _reviewer()
    session = db.session
    catalogue = load_catalogue(session)
    period = _period(request.args.get("period"))
    filters = _queue_filters(request.args)
    order = request.args.get("order") if request.args.get("order") in ORDERS else "attention"
    rows = _queue_rows(session, catalogue, period, filters, order)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    summary = queries.completeness_table(session, catalogue, period, "programme")
    periods = [p.id for p in [parse_period(period).shift(n) for n in range(2, -9, -1)]]
    waiting = sum(1 for r in rows if r["state"] == "submitted")
    here = {"period": period, "order": order if order != "attention" else None,
            **{k: v for k, v in filters.items() if v}}
    pillar_names = {p.code: localised(p) for p in session.scalars(select(Pillar))}
    return render_template(
        "review/queue.html", rows=rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], total=len(rows), page=page,
        pages=pages, waiting=waiting, period=period, filters=filters, summary=summary, order=order, orders=ORDERS,
        programmes=sorted(catalogue.programmes.values(), key=lambda p: p.name), here=here,
        pillars=sorted(((c, pillar_names.get(c, c)) for c in set(catalogue.pillar_codes.values())), key=lambda p: p[1]),
        counties=sorted((u for u in catalogue.org_units.values() if u.level <= COUNTY), key=lambda u: u.name),
        periods=periods, states=STATE_NAMES, reasons=RETURN_REASONS)


def _ticked(session, period: str) -> list[Return]:
    ids = [int(i) for i in request.form.getlist("return_id") if is_digits(i) and len(i) < 10]
    return list(session.scalars(select(Return).where(Return.id.in_(ids), Return.period == period)))


def _back_to_queue(period: str):
    target = request.form.get("back", "")
    return redirect(target if target.startswith("/review/") and not target.startswith("//")
                    else url_for("review.queue", period=period))


@bp.route("/bulk-approve", methods=["POST"])
@login_required
def bulk_approve():
    user = _reviewer()
    session = db.session
    catalogue = load_catalogue(session)
    period = _period(request.form.get("period"))
    approved, skipped = operations.bulk_approve(session, catalogue, user, _ticked(session, period))
    message = ngettext("Approved %(num)s clean return.", "Approved %(num)s clean returns.", len(approved))
    if skipped:
        message += " " + _("Left %(num)s: %(why)s", num=len(skipped), why="; ".join(said(why) for _r, why in skipped[:10]))
    flash(message, "info")
    return _back_to_queue(period)


@bp.route("/bulk-return", methods=["POST"])
@login_required
def bulk_return():
    """Send the ticked submitted returns back to their officers with the same reasons."""
    user = _reviewer()
    session = db.session
    catalogue = load_catalogue(session)
    period = _period(request.form.get("period"))
    records = [r for r in _ticked(session, period) if r.state == "submitted"]
    if not records:
        flash(_("Tick at least one submitted return to send back."), "error")
        return _back_to_queue(period)
    try:
        for record in records:
            operations.return_to_officer(session, catalogue, user, record, request.form.getlist("reasons"),
                                         request.form.get("text", "")[:2000])
    except MelError as exc:
        session.rollback()
        flash(_("Nothing was sent back: %(problem)s", problem=said(exc.message)), "error")
        return _back_to_queue(period)
    finish(session, current_app.config)
    flash(ngettext("Returned %(num)s return to the officers with your reasons.",
                   "Returned %(num)s returns to the officers with your reasons.", len(records)), "info")
    return _back_to_queue(period)


def next_needing_attention(session, catalogue, period: str, current_id: int, args) -> dict | None:
    """The next submitted return after this one in the queue the reviewer came from (its filters and
    order), wrapping round; None when no other return waits for a decision."""
    order = args.get("order") if args.get("order") in ORDERS else "attention"
    rows = [r for r in _queue_rows(session, catalogue, period, _queue_filters(args), order)
            if r["return_id"] is not None]
    position = next((n for n, r in enumerate(rows) if r["return_id"] == current_id), -1)
    for row in rows[position + 1:] + rows[:max(position, 0)]:
        if row["state"] == "submitted" and row["return_id"] != current_id:
            return row
    return None


@bp.route("/<programme>/<org_unit>/<return_period:period>", methods=["GET", "POST"])
@login_required
def review_return(programme: str, org_unit: str, period: str):
    user = _reviewer()
    session = db.session
    catalogue = load_catalogue(session)
    prog, unit, period_id, record = return_ops.find_return(session, catalogue, programme, org_unit, period)
    if record is None:
        raise NotFound(_("%(programme)s has not started the %(unit)s return for %(period)s.", programme=prog.code,
                         unit=unit.name, period=period_words(parse_period(period_id))))
    if request.method == "POST":
        form = request.form
        try:
            action = form.get("action")
            if action == "approve":
                operations.approve(session, catalogue, user, record)
                message = _("Approved: the return is locked.")
            elif action == "return":
                operations.return_to_officer(session, catalogue, user, record, form.getlist("reasons"), form.get("text", ""))
                message = _("Returned to the officer with your reasons.")
            elif action == "reopen":
                operations.reopen(session, catalogue, user, record, form.get("text", ""))
                message = _("Reopened.")
            elif action == "query":
                operations.raise_query(session, catalogue, user, record, form.get("figure", ""),
                                       form.get("option", "default"), form.get("text", ""))
                message = _("Query sent to the officer.")
            elif action == "close":
                query_id = form.get("query_id", "")
                query = session.get(ValueQuery, int(query_id)) if is_digits(query_id) and len(query_id) < 10 else None
                if query is None or query.return_id != record.id:
                    raise NotFound(_("Query %(id)s is not on this return.", id=repr(query_id)))
                operations.close_query(session, user, query, form.get("text", ""))
                message = _("Query closed.")
            else:
                raise NotFound(_("Unknown action %(action)s.", action=repr(action)))
            finish(session, current_app.config)
            flash(message, "info")
        except MelError as exc:
            session.rollback()
            flash(said(exc.message), "error")
        else:
            if form.get("then") == "next" and action in ("approve", "return"):
                following = next_needing_attention(session, catalogue, period_id, record.id, _queue_args(form))
                if following is not None:
                    return redirect(_return_link(following, period_id, form.get("queue", "")))
                flash(_("No other return of the quarter waits for a decision."), "info")
                return redirect(url_for("review.queue", **_queue_args(form)))
        return redirect(url_for("review.review_return", programme=prog.code, org_unit=unit.code, period=period_id,
                                queue=form.get("queue") or None))
    quarter = parse_period(period_id)
    history_periods = [quarter.shift(-n).id for n in range(8, -1, -1)]
    year_ago = quarter.same_period_last_year().id
    mine = queries.compiled_figures(session, catalogue, prog.id, [unit.id], history_periods + [year_ago])
    national = queries.compiled_figures(session, catalogue, prog.id, None, [period_id]) if unit.level == 2 else {}
    targets = {(t["indicator"], t["period"]): float(t["value"]) for t in plan_queries.targets(
        session, indicator=None, scope=prog.code, org_unit=unit.code, period=None)}
    flags = operations.flags_of(session, record)
    flag_by_indicator = defaultdict(list)
    for flag in flags:
        flag_by_indicator[flag.indicator_id].append(flag)
    rows = []
    for item in catalogue.forms[prog.id].items_in(period_id):
        indicator = catalogue.indicators[item.indicator.code]
        series = [mine.get((indicator.code, p)) for p in history_periods]
        current = series[-1]
        share = None
        if unit.level == 2 and indicator.measure != "ratio" and current is not None:
            total = national.get((indicator.code, period_id))
            share = current / total * 100 if total else None
        elif unit.level == 2 and indicator.measure == "ratio":
            share = national.get((indicator.code, period_id))
        target = targets.get((indicator.code, period_id))
        labels = [period_words(parse_period(p), short=True) for p in history_periods]
        with speaking(language(), report_catalogues()):  # the chart's own words in the page's language
            chart = line_chart(labels, series, title=f"{indicator.code} {localised(indicator, 'short_name')}",
                               target=target)
        rows.append({
            "indicator": indicator, "current": current, "previous": series[-2],
            "year_ago": mine.get((indicator.code, year_ago)), "target": target, "share": share,
            "flags": flag_by_indicator.get(indicator.id, []),
            "options": catalogue.specs[indicator.code].options, "components": catalogue.specs[indicator.code].components,
            "chart": Markup(chart),
        })
    for row in rows:
        current, previous = row["current"], row["previous"]
        row["change"] = ((current - previous) / abs(previous) * 100 if current is not None and previous
                         else None)
    order = "form" if request.args.get("order") == "form" else "change"
    if order == "change":  # the figures that moved most against last quarter first
        rows.sort(key=lambda r: -abs(r["change"]) if r["change"] is not None else 0)
    queue_text = request.args.get("queue", "")[:500]
    following = next_needing_attention(session, catalogue, period_id, record.id, _queue_args({"queue": queue_text}))
    # A rule's warning names several indicators and sits on none of the rows: shown on its own.
    shown = {catalogue.indicators[item.indicator.code].id for item in catalogue.forms[prog.id].items_in(period_id)}
    rule_flags = [flag for flag in flags if flag.indicator_id not in shown]
    threads = queries.return_threads(session, catalogue, record.id)
    events = session.execute(select(ReturnEvent, User.email).join(User, User.id == ReturnEvent.user_id, isouter=True)
                             .where(ReturnEvent.return_id == record.id).order_by(ReturnEvent.at.desc())).all()
    return render_template("review/return.html", programme=prog, unit=unit, period=period_id, record=record,
                           rows=rows, threads=threads, events=events, reasons=RETURN_REASONS, user=user,
                           year_ago=year_ago, flags=flags, rule_flags=rule_flags, explained=reason,
                           reason_label=label_of, order=order, queue=queue_text,
                           next_link=_return_link(following, period_id, queue_text) if following else None,
                           next_row=following, queue_link=url_for("review.queue", **_queue_args({"queue": queue_text})))


def _queue_args(form) -> dict:
    """The queue's filters and order as the reviewer left them (carried as one `queue` parameter)."""
    from urllib.parse import parse_qsl

    carried = dict(parse_qsl(str(form.get("queue", ""))[:500]))
    wanted = ("period", "programme", "org_unit", "pillar", "state", "order")
    return {k: v[:20] for k, v in carried.items() if k in wanted and v}


def _return_link(row: dict, period: str, queue: str) -> str:
    return url_for("review.review_return", programme=row["programme"], org_unit=row["org_unit"], period=period,
                   queue=queue or None)


@bp.route("/data-quality")
@login_required
def data_quality():
    _reviewer()
    session = db.session
    catalogue = load_catalogue(session)
    period = _period(request.args.get("period"))
    report = quality.report(session, catalogue, period)
    for row in report["unexplained"] + report["explained"]:  # the flags' and outliers' words in the page's language
        row["message"] = said(row["message"])
    for row in report["outliers"]:
        row["figure"] = said(row["figure"])
    by_county = queries.completeness_table(session, catalogue, period, "org_unit")
    by_pillar = queries.completeness_table(session, catalogue, period, "pillar")
    return render_template("review/quality.html", period=period, report=report, by_county=by_county,
                           by_pillar=by_pillar, pillar_names=pillar_words(session),
                           names={u.code: u.name for u in catalogue.org_units.values()})


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    """The signed-in person's notices; opening the page marks them read."""
    from mel.db import utcnow
    from mel.review.models import Notification

    user = authenticated_user()
    session = db.session
    notes = list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                 .order_by(Notification.created_at.desc()).limit(100)))
    unread = [n.id for n in notes if n.read_at is None]
    if unread:
        for note in notes:
            if note.read_at is None:
                note.read_at = utcnow()
    return render_template("review/notifications.html", notes=notes, unread=set(unread))


@bp.route("/queries/<int:query_id>/answer", methods=["POST"])
@login_required
def answer(query_id: int):
    """The officer answers a query from the return page, optionally correcting the figure."""
    user = authenticated_user()
    session = db.session
    catalogue = load_catalogue(session)
    query = session.get(ValueQuery, query_id)
    if query is None:
        raise NotFound(_("Query %(id)s does not exist.", id=query_id))
    record = session.get(Return, query.return_id)
    programme = catalogue.programme_by_id[record.programme_id]
    unit = catalogue.org_unit_by_id[record.org_unit_id]
    if not can_enter(user, programme.id, unit):
        raise Forbidden(_("Only the officer responsible for this return (or the secretariat) answers its queries."))
    try:
        operations.answer_query(session, catalogue, user, query, request.form.get("text", ""),
                                corrected_value=request.form.get("corrected_value") or None,
                                settings=IngestSettings.from_config(current_app.config))
        finish(session, current_app.config)
        flash(_("Answer sent to the reviewers."), "info")
    except MelError as exc:
        session.rollback()
        flash(said(exc.message), "error")
    return redirect(url_for("returns.return_page", programme=programme.code, org_unit=unit.code, period=record.period))
