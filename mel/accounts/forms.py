"""Web forms for signing in, passwords and invitations."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from mel.accounts.models import ROLE_LABELS, ROLES


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("password", message="The two passwords are not the same.")])


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=128)])


class InviteForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])
    programmes = SelectMultipleField("Programmes", choices=[])
    org_units = SelectMultipleField("Org units", choices=[])


class AccessForm(FlaskForm):
    """A person's role, name, agency and scope, changed by the secretariat with a reason."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])
    agency = StringField("Agency", validators=[Length(max=200)])
    programmes = SelectMultipleField("Programmes", choices=[])
    org_units = SelectMultipleField("Org units", choices=[])
    reason = StringField("Why", validators=[DataRequired(message="Say why the access changes."), Length(max=500)])
