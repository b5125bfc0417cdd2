"""Pages for getting in on one's own: forgot password, reset and invitation links, one's account,
and the secretariat's list of people with invitations. Routes join the "accounts" blueprint."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields import SelectChoice

from indicators.messages import message, text
from mel.accounts import links, mail, self_service
from mel.accounts.auth import authenticated_user
from mel.accounts.forms import (
    AccessForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    InviteForm,
    SetPasswordForm,
)
from mel.accounts.views import _safe_next, bp
from mel.catalogue.models import OrgUnit, Programme
from mel.db import db
from mel.errors import Conflict, Forbidden, MelError, ValidationFailed
from mel.i18n import N_, said
from mel.scopes import can_administer
from mel.unit_of_work import finish

LINK_ENDPOINTS = {"reset": "accounts.reset_password", "invitation": "accounts.accept_invitation"}
REFUSED = {  # translated where shown
    "invalid": N_("This link is not valid. Check that the whole address from the e-mail was opened."),
    "expired": N_("This link has expired."),
    "used": N_("This link has already been used: it works once."),
}


def _link_for(purpose: str):
    """Links in e-mails start with BASE_URL, never with the Host header a request sent."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return lambda token: base + url_for(LINK_ENDPOINTS[purpose], token=token)


def _secretariat():
    user = authenticated_user()
    if not can_administer(user):
        raise Forbidden(text(message(N_("Only the secretariat invites people."))))
    return user


# --------------------------------------------------------------------------- forgotten passwords


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        self_service.request_password_reset(db.session, current_app.config, form.email.data,
                                            link_for=_link_for("reset"))
        hours = links.valid_hours(current_app.config, "reset")
        return render_template("auth/forgot_sent.html", hours=hours)
    return render_template("auth/forgot.html", form=form), 422 if form.errors else 200


def _set_password_page(purpose: str, token: str):
    config = current_app.config
    db_session = db.session
    try:
        user = self_service.user_for_link(db_session, config, purpose, token)
    except links.LinkRefused as refused:
        finish(db_session, config)  # the refusal stays in the audit
        return render_template("auth/link_refused.html", purpose=purpose, reason=refused.reason,
                               message=_(REFUSED[refused.reason])), 404 if refused.reason == "invalid" else 410
    form = SetPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            self_service.set_password_from_link(db_session, config, purpose, token, form.password.data)
        except MelError as exc:
            error = said(exc.message)
        else:
            flash(_("Your password is set. Sign in with it.") if purpose == "invitation"
                  else _("Your password is changed. Sign in with the new one."), "info")
            return redirect(url_for("accounts.login"))
    status = 422 if error or form.errors else 200
    return render_template("auth/set_password.html", form=form, user=user, purpose=purpose, error=error,
                           min_length=config["PASSWORD_MIN_LENGTH"]), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _set_password_page("reset", token)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _set_password_page("invitation", token)


# --------------------------------------------------------------------------- one's own account


def _account_page(password_form: ChangePasswordForm, error: str | None = None, status: int = 200):
    user = authenticated_user()
    tokens = self_service.own_tokens(db.session, user)
    return render_template("auth/account.html", user=user, tokens=tokens, form=password_form, error=error,
                           min_length=current_app.config["PASSWORD_MIN_LENGTH"]), status


@bp.route("/account")
@login_required
def account():
    return _account_page(ChangePasswordForm(formdata=None))


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    user = authenticated_user()
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _account_page(form, status=422)
    try:
        self_service.change_own_password(db.session, current_app.config, user, form.current.data,
                                         form.password.data, keep_token=user.session_token)
    except MelError as exc:
        return _account_page(form, error=said(exc.message), status=422)
    flash(_("Your password is changed. Your other signed-in sessions have ended."), "info")
    return redirect(url_for("accounts.account"))


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_own_token(token_id: int):
    record = self_service.revoke_own_token(db.session, authenticated_user(), token_id)
    flash(_("The API token “%(name)s” (%(prefix)s…) is revoked.", name=record.name, prefix=record.prefix), "info")
    return redirect(url_for("accounts.account"))


# --------------------------------------------------------------------------- people (secretariat)


@bp.route("/admin/users")
@login_required
def users():
    _secretariat()
    people = self_service.people(db.session)
    return render_template("admin/users.html", people=people, state=self_service.account_state)


def _invite_choices(form: InviteForm | AccessForm) -> None:
    session = db.session
    form.programmes.choices = [SelectChoice(p.code, f"{p.code} – {p.name}") for p in
                               session.scalars(select(Programme).order_by(Programme.code))]
    form.org_units.choices = [SelectChoice(u.code, f"{u.name} ({u.code})") for u in
                              session.scalars(select(OrgUnit).where(OrgUnit.level <= 2)
                                              .order_by(OrgUnit.level, OrgUnit.name))]


@bp.route("/admin/users/invite", methods=["GET", "POST"])
@login_required
def invite():
    actor = _secretariat()
    form = InviteForm()
    _invite_choices(form)
    error = None
    if form.validate_on_submit():
        config = current_app.config
        db_session = db.session
        try:
            user = self_service.invite_user(
                db_session, config, email=form.email.data, name=form.name.data, role=form.role.data,
                programme_codes=form.programmes.data or [], org_unit_codes=form.org_units.data or [],
                actor=actor, link_for=_link_for("invitation"))
        except MelError as exc:
            error = said(exc.message)
        else:
            email = user.email
            finish(db_session, config)  # committed, then e-mailed: say whether the e-mail went
            _say_whether_sent(db_session, email, _("%(email)s is invited", email=email))
            return redirect(url_for("accounts.users"))
    status = 422 if error or form.errors else 200
    return render_template("admin/invite.html", form=form, error=error,
                           hours=links.valid_hours(current_app.config, "invitation")), status


@bp.route("/admin/users/<int:user_id>/access", methods=["GET", "POST"])
@login_required
def change_access(user_id: int):
    """A person's role, name, agency and scope (programmes × org units), changed with a reason."""
    actor = _secretariat()
    person = next((p for p in self_service.people(db.session) if p.id == user_id), None)
    if person is None:
        raise self_service.no_user(user_id)
    form = AccessForm() if request.method == "POST" else AccessForm(
        formdata=None, name=person.name, role=person.role, agency=person.agency,
        programmes=[p.code for p in person.programmes], org_units=[u.code for u in person.org_units])
    _invite_choices(form)
    error = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            self_service.change_access(
                db.session, user_id, actor=actor, reason=form.reason.data, role=form.role.data,
                name=form.name.data, agency=form.agency.data or "", programme_codes=form.programmes.data or [],
                org_unit_codes=form.org_units.data or [])
        except MelError as exc:
            db.session.rollback()
            error = said(exc.message)
        else:
            flash(_("The access of %(email)s is changed.", email=person.email), "info")
            return redirect(url_for("accounts.users"))
    status = 422 if error or form.errors else 200
    return render_template("admin/access.html", form=form, person=person, error=error), status


@bp.route("/admin/users/<int:user_id>/invitation", methods=["POST"])
@login_required
def resend_invitation(user_id: int):
    actor = _secretariat()
    config = current_app.config
    db_session = db.session
    user = self_service.resend_invitation(db_session, config, user_id, actor=actor,
                                          link_for=_link_for("invitation"))
    email = user.email
    finish(db_session, config)
    _say_whether_sent(db_session, email, _("A new invitation went to %(email)s", email=email))
    return redirect(url_for("accounts.users"))


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["POST"])
@login_required
def deactivate(user_id: int):
    return _set_active(user_id, active=False)


@bp.route("/admin/users/<int:user_id>/reactivate", methods=["POST"])
@login_required
def reactivate(user_id: int):
    return _set_active(user_id, active=True)


def _set_active(user_id: int, *, active: bool):
    actor = _secretariat()
    try:
        user = self_service.set_account_active(db.session, user_id, active=active,
                                               reason=request.form.get("reason", ""), actor=actor)
    except (Conflict, ValidationFailed) as exc:
        flash(said(exc.message), "error")
    else:
        flash(_("%(email)s is active again: their password and API tokens work.", email=user.email) if active else
              _("%(email)s is deactivated: signed out everywhere, their password and API tokens no longer work.",
                email=user.email), "info")
    return redirect(url_for("accounts.users"))


@bp.route("/admin/users/<int:user_id>/sign-out", methods=["POST"])
@login_required
def sign_out_user(user_id: int):
    actor = _secretariat()
    user, ended = self_service.sign_out_everywhere(db.session, user_id, actor=actor)
    flash(ngettext("%(email)s is signed out of %(num)s session.", "%(email)s is signed out of %(num)s sessions.",
                   ended, email=user.email), "info")
    return redirect(url_for("accounts.users"))


def _say_whether_sent(db_session, email: str, done: str) -> None:
    failed = db_session.info.pop(mail.FAILED_KEY, [])
    if email in failed:
        hint = (_("no SMTP server is set (MEL_SMTP_HOST)") if not current_app.config.get("SMTP_HOST")
                else _("the mail server could not be reached"))
        flash(_("%(email)s is recorded, but the invitation e-mail was not sent: %(hint)s. Re-send it from this list "
                "once e-mail works.", email=email, hint=hint), "error")
    else:
        hours = links.valid_hours(current_app.config, "invitation")
        flash(_("%(done)s: the e-mailed link to set a password is valid for %(hours)s hours.", done=done, hours=hours),
              "info")


# --------------------------------------------------------------------------- the language switch


@bp.route("/language", methods=["POST"])
def choose_language():
    """The switch in the header: the choice is kept on the account when signed in (and so follows the
    person to every device and into e-mails), and in the session for a visitor."""
    from flask import session

    from mel.i18n import LANGUAGES, SESSION_KEY, known

    chosen = known(request.form.get("lang"))
    if chosen is None:
        raise ValidationFailed(text(message(
            N_("Unknown language %(language)s: the service speaks %(languages)s."),
            language=repr(request.form.get("lang", "")[:20]),
            languages=", ".join(f"{name} ({code})" for code, name in LANGUAGES.items()))))
    session[SESSION_KEY] = chosen
    if current_user.is_authenticated:
        authenticated_user().locale = chosen
    return redirect(_safe_next(request.form.get("next")))
