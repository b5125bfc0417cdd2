"""Web forms for signing in, passwords and invitations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from mel.accounts.models import ROLE_LABELS, ROLES

# WTForms has no Kiswahili catalogue of its own: the messages a person may meet are ours, translated
# when shown (lazy), in WTForms' own English wording.


def required() -> DataRequired:
    return DataRequired(message=_l("This field is required."))


def at_most(count: int) -> Length:
    return Length(max=count, message=_l("Field cannot be longer than %(max)d characters."))


def roles() -> list[SelectChoice]:
    return [SelectChoice(role, _l(ROLE_LABELS[role])) for role in ROLES]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[required(), at_most(254)])
    password = PasswordField(_l("Password"), validators=[required(), at_most(128)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[required(), at_most(254)])


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[required(), at_most(128)])
    confirm = PasswordField(_l("New password again"), validators=[
        required(), EqualTo("password", message=_l("The two passwords are not the same."))])


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[required(), at_most(128)])


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[required(), at_most(254)])
    name = StringField(_l("Name"), validators=[required(), at_most(200)])
    role = SelectField(_l("Role"), choices=roles())
    programmes = SelectMultipleField(_l("Programmes"), choices=[])
    org_units = SelectMultipleField(_l("Org units"), choices=[])


class AccessForm(FlaskForm):
    """A person's role, name, agency and scope, changed by the secretariat with a reason."""

    name = StringField(_l("Name"), validators=[required(), at_most(200)])
    role = SelectField(_l("Role"), choices=roles())
    agency = StringField(_l("Agency"), validators=[at_most(200)])
    programmes = SelectMultipleField(_l("Programmes"), choices=[])
    org_units = SelectMultipleField(_l("Org units"), choices=[])
    reason = StringField(_l("Why"), validators=[DataRequired(message=_l("Say why the access changes.")), at_most(500)])
