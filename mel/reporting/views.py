"""Report pages: generate (secretariat), follow progress, preview in the browser, download, publish."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from indicators.messages import message, text
from mel import clock
from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.errors import Forbidden
from mel.i18n import N_
from mel.reporting import commentary, executor, operations, queries
from mel.results.queries import approved_coverage, latest_quarters, well_covered_quarter
from mel.scopes import can_administer, can_review
from mel.unit_of_work import finish

bp = Blueprint("reporting", __name__, url_prefix="/reports")
KIND_LABELS = {"sector": N_("Sector quarterly progress report"), "programme": N_("Programme report"),
               "county": N_("County profile"), "factsheet": N_("Fact sheet (two pages)")}  # translated where shown


def _secretariat():
    user = authenticated_user()
    if not can_administer(user):
        raise Forbidden(text(message(N_("Only the secretariat generates and publishes reports."))))
    return user


def _emails() -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.email)).all())


@bp.route("/")
@login_required
def index():
    user = authenticated_user()
    session = db.session
    runs = queries.visible_runs(session, user)
    catalogue = load_catalogue(session)
    quarters = latest_quarters(session) or [clock.reporting_quarter().shift(-n).id for n in range(8)]
    coverage = approved_coverage(session, catalogue, quarters)
    return render_template("reporting/index.html", runs=[queries.run_body(r, _emails()) for r in runs],
                           kinds=KIND_LABELS, quarters=quarters, default_period=well_covered_quarter(quarters, coverage),
                           coverage=coverage,
                           programmes=sorted(catalogue.programmes.items()),
                           counties=sorted((u for u in catalogue.org_units.values() if u.level == 2),
                                           key=lambda u: u.code),
                           can_generate=can_administer(user), can_preview=can_review(user))


@bp.route("/", methods=["POST"])
@login_required
def generate():
    user = _secretariat()
    form = request.form
    run = operations.request_report(db.session, kind=form.get("kind", ""), period=form.get("period", ""),
                                    programme=form.get("programme"), org_unit=form.get("org_unit"),
                                    accessible=form.get("accessible") == "on", user=user, trigger="web",
                                    language=form.get("language") or "en")
    finish(db.session, current_app.config)  # the worker process reads the run
    executor.start(current_app._get_current_object(), run.id)
    return redirect(url_for("reporting.show", run_id=run.id))


@bp.route("/runs/<int:run_id>")
@login_required
def show(run_id: int):
    user = authenticated_user()
    run = queries.get_visible(db.session, user, run_id)
    writes = can_administer(user) and not queries.is_publishing(run)  # a run being published stays as it is
    return render_template("reporting/run.html", run=queries.run_body(run, _emails()), kinds=KIND_LABELS,
                           can_publish=can_administer(user),
                           commentary=commentary.form_context(run) if writes else None)


@bp.route("/runs/<int:run_id>/status")
@login_required
def status(run_id: int):
    run = queries.get_visible(db.session, authenticated_user(), run_id)
    body = queries.run_body(run, _emails())
    return jsonify({**body, "stage_words": _(body["stage"]) if body["stage"] else ""})  # the page's language


@bp.route("/runs/<int:run_id>/pdf")
@login_required
def pdf(run_id: int):
    run = queries.get_visible(db.session, authenticated_user(), run_id)
    data = queries.pdf_bytes(run)
    name = f"{run.kind}-{run.period}{'' if run.programme == 'ALL' else '-' + run.programme}" \
           f"{'' if run.org_unit == 'KE' else '-' + run.org_unit}{'' if run.is_published else '-draft'}.pdf"
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"',
                             "X-Content-SHA256": run.sha256})


@bp.route("/runs/<int:run_id>/preview")
@login_required
def run_preview(run_id: int):
    """The run's own data as HTML: the same figures as its PDF."""
    from reports.model import build
    from reports.render import render_html

    run = queries.get_visible(db.session, authenticated_user(), run_id)
    if run.snapshot is None:
        flash(_("This report has not gathered its figures yet."), "error")
        return redirect(url_for("reporting.show", run_id=run.id))
    with operations.speaking_of(run):  # in the run's language, as its PDF
        model = build(queries.load_snapshot(run), is_draft=not run.is_published, reference=queries.reference(run))
    return _styled(render_html(model, preview=True))


@bp.route("/preview")
@login_required
def live_preview():
    """Today's figures as an HTML report, without keeping a run (secretariat and reviewers)."""
    from mel.reporting.snapshot import gather
    from reports.model import build
    from reports.render import render_html

    if not can_review(authenticated_user()):
        raise Forbidden(text(message(N_("Live previews are for the secretariat and the MERL TWG; published reports "
                                        "are under Reports."))))
    args = request.args
    session = db.session
    params = operations.check_parameters(session, kind=args.get("kind", "sector"), period=args.get("period", ""),
                                         programme=args.get("programme"), org_unit=args.get("org_unit"),
                                         language=args.get("language"))
    snapshot = gather(session, load_catalogue(session), kind=params["kind"], period=params["period"],
                      programme=params["programme"], org_unit=params["org_unit"],
                      thresholds=operations.thresholds(current_app.config), generated_at=clock.local_now(),
                      language=params["language"])
    from reports.i18n import _ as report_words

    with operations.speaking_in(params["language"]):
        report = build(snapshot, is_draft=True, reference=report_words(N_("Preview (not kept)")))
    return _styled(render_html(report, preview=True))


def _styled(html: str):
    """The preview with a CSP that lets its own inline styles (the report's stylesheet) apply."""
    from flask import make_response

    from mel.security import csp_with_inline_styles

    response = make_response(html)
    response.headers["Content-Security-Policy"] = csp_with_inline_styles(html)
    return response


@bp.route("/runs/<int:run_id>/publish", methods=["POST"])
@login_required
def publish(run_id: int):
    user = _secretariat()
    run = queries.get_visible(db.session, user, run_id)
    if request.form.get("confirm") != "yes" and not run.is_published:
        flash(_("Nothing was published: tick “I have checked this draft” to publish it as final. A published "
                "report cannot change."), "error")
        return redirect(url_for("reporting.show", run_id=run.id))
    operations.request_publish(db.session, run, user)
    finish(db.session, current_app.config)  # the worker reads the request
    executor.start(current_app._get_current_object(), run.id, "publish")
    db.session.refresh(run)
    if run.is_published:
        flash(_("Report %(num)s is published: viewers can read it, and it can no longer change.", num=run.id), "info")
    elif run.publish_state in ("queued", "running"):
        flash(_("Publishing report %(num)s: its final PDF is being made without the DRAFT mark (this page "
                "shows the progress). Viewers can read it once it is published.", num=run.id), "info")
    return redirect(url_for("reporting.show", run_id=run.id))


@bp.route("/runs/<int:run_id>/rerun", methods=["POST"])
@login_required
def rerun(run_id: int):
    user = _secretariat()
    run = queries.get_visible(db.session, user, run_id)
    again = operations.rerun(db.session, run, user)
    finish(db.session, current_app.config)  # the worker process reads the run
    executor.start(current_app._get_current_object(), again.id)
    flash(_("Rendering run %(num)s's figures again as run %(again)s.", num=run.id, again=again.id), "info")
    return redirect(url_for("reporting.show", run_id=again.id))

