"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from indicators.messages import message, text
from mel.accounts import audit, operations
from mel.accounts.auth import authenticated_user
from mel.accounts.forms import LoginForm
from mel.db import db
from mel.errors import Forbidden, Unauthorized
from mel.i18n import N_, said
from mel.scopes import can_administer
from mel.unit_of_work import finish

bp = Blueprint("accounts", __name__)
# The labels of audit.ACTIONS, for extraction: the audit page translates them where it shows them.
AUDIT_ACTION_WORDS = (
    N_("Signed in"), N_("Sign-in failed"), N_("Sign-in throttled"), N_("Password accepted (code next)"),
    N_("Signed in with a second factor"), N_("Second-factor code refused"), N_("Signed out"),
    N_("API token created"), N_("API token revoked"), N_("User created"), N_("Password set"),
    N_("Role or scope changed"), N_("User invited"), N_("Invitation e-mailed"), N_("Account deactivated"),
    N_("Account reactivated"), N_("Signed out everywhere"), N_("Two-factor sign-in turned on"),
    N_("Two-factor sign-in turned off"), N_("Two-factor sign-in reset"), N_("Recovery codes renewed"),
    N_("Password reset requested"), N_("Password link refused"), N_("Report published"),
    N_("Report commentary written"), N_("Report action recorded"), N_("Report action updated"),
    N_("Return reopened"), N_("Validation rule created"), N_("Validation rule changed"),
    N_("Validation rule retired"), N_("Validation rule reactivated"), N_("Indicator created"),
    N_("Indicator changed (new version)"), N_("Indicator's Kiswahili text changed (same version)"),
    N_("Indicator retired"), N_("Indicator reactivated"), N_("Reporting form changed"),
    N_("Window exception granted"), N_("Window exception removed"),
    N_("Reporting form indicators or org units changed (from a quarter on)"), N_("Programme created"),
    N_("Programme changed"), N_("Disaggregation category created"), N_("Disaggregation category changed"),
    N_("Disaggregation category deleted"), N_("Category option retired"), N_("Category option reactivated"),
    N_("Category option deleted"), N_("Disaggregation set created"), N_("Disaggregation set changed"),
    N_("Disaggregation set deleted"),
    N_("TWG meeting recorded"), N_("TWG meeting changed"), N_("TWG action added"), N_("TWG action changed"),
    N_("TWG action owner reminded"),
    N_("Evidence added"), N_("Evidence changed"), N_("Evidence withdrawn"), N_("Learning question added"),
    N_("Learning question changed"), N_("Handbook edition asked for"), N_("Handbook edition made"),
    N_("Failed background job tried again"), N_("Failed background job removed"),
)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not target:
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db_session = db.session
        config = current_app.config
        try:
            user = operations.authenticate(
                db_session,
                form.email.data,
                form.password.data,
                remote_addr=request.remote_addr or "",
                policy=operations.SignInPolicy.from_config(config),
                # Each attempt is committed before its password is checked, so parallel attempts count it.
                checkpoint=lambda: finish(db_session, config),
            )
        except Unauthorized as exc:
            finish(db_session, config)  # a refused sign-in (401) keeps its attempt and audit rows
            current_app.logger.info("refused sign-in for %s", form.email.data)
            error = said(exc.message)
        else:
            if user.has_two_factor:
                finish(db_session, config)  # the password step's attempt and audit rows stay
                return start_second_step(user, request.args.get("next"))
            operations.start_login_session(
                db_session,
                user,
                absolute_hours=config["SESSION_ABSOLUTE_HOURS"],
                remote_addr=request.remote_addr or "",
                user_agent=request.user_agent.string,
            )
            session.permanent = True  # the cookie follows PERMANENT_SESSION_LIFETIME (idle limit)
            login_user(user)
            current_app.logger.info("signed in: %s", user.email)
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated and current_user.session_token:
        operations.end_login_session(db.session, current_user.session_token,
                                     actor=current_user._get_current_object())
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


def _audit_filters() -> dict:
    """The audit page's filters from the address: action, actor, object, from and to (dates, the
    reporting calendar's zone). A bad date is ignored with a message, never an error page."""
    from datetime import date, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    action = request.args.get("action", "")
    filters = {"action": action if action in audit.ACTIONS else "",
               "actor": request.args.get("user", "").replace("\x00", "")[:254],
               "object_": request.args.get("object", "").replace("\x00", "")[:200],
               "since": None, "until": None}
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    for key, arg, shift in (("since", "from", 0), ("until", "to", 1)):
        raw = request.args.get(arg, "").strip()
        if not raw:
            continue
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            flash(_("“%(value)s” is not a date (YYYY-MM-DD): the %(filter)s filter is left out.", value=raw[:20],
                    filter=_("from") if arg == "from" else _("to")), "error")
            continue
        filters[key] = datetime.combine(day + timedelta(days=shift), time(), zone)
    return filters


@bp.route("/admin/audit")
@login_required
def audit_log():
    """The audit of sign-ins, tokens and administrative actions (secretariat only)."""
    if not can_administer(authenticated_user()):
        raise Forbidden(text(message(N_("Only the secretariat reads the audit."))))
    filters = _audit_filters()
    page = request.args.get("page", 1, type=int) or 1
    result = audit.events(db.session, **filters, page=min(max(page, 1), 100_000))
    args = {"action": filters["action"] or None, "user": filters["actor"] or None,
            "object": filters["object_"] or None, "from": request.args.get("from") or None,
            "to": request.args.get("to") or None}
    return render_template("admin/audit.html", result=result, actions=audit.ACTIONS, action=filters["action"],
                           actor=filters["actor"], object_=filters["object_"], args=args, changes=audit.changes,
                           since=request.args.get("from", "")[:10], until=request.args.get("to", "")[:10])


@bp.route("/admin/audit.csv")
@login_required
def audit_csv():
    """The filtered audit as CSV (UTF-8 with a BOM, so Excel reads it), oldest first, streamed."""
    import csv
    import io
    import json

    from flask import Response, stream_with_context

    if not can_administer(authenticated_user()):
        raise Forbidden(text(message(N_("Only the secretariat reads the audit."))))
    filters = _audit_filters()
    session = db.session

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["occurred_at_utc", "action", "action_label", "actor", "object", "remote_addr", "reason",
                         "changes", "details_json"])
        yield "\ufeff" + buffer.getvalue()
        for event in audit.all_events(session, **filters):
            buffer.seek(0)
            buffer.truncate()
            details = event.details or {}
            moment = event.occurred_at
            writer.writerow([moment.isoformat() if moment else "", event.action,
                             audit.ACTIONS.get(event.action, event.action), event.actor, event.object,
                             event.remote_addr, details.get("reason", ""),
                             "; ".join(f"{k}: {a} → {b}" for k, a, b in audit.changes(details)),
                             json.dumps(details, sort_keys=True, ensure_ascii=False)])
            yield buffer.getvalue()

    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit.csv"})


# The self-service pages (forgotten passwords, invitations, one's account) add their routes here.
from mel.accounts import self_service_views  # noqa: E402,F401
from mel.accounts.two_factor_views import start_second_step  # noqa: E402
