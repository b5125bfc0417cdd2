"""JSON API of people (secretariat): list, invite, read, change role and scope, deactivate and reactivate.

The same operations as the People pages (mel/accounts/self_service.py), with the same checks and
the same audit rows.
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, url_for
from flask.views import MethodView

from mel.accounts import self_service
from mel.accounts.auth import authenticated_user
from mel.accounts.models import ROLES, User
from mel.accounts.operations import _aware
from mel.api import api_blueprint
from mel.db import db
from mel.errors import Forbidden, NotFound, ValidationFailed
from mel.scopes import can_administer
from mel.unit_of_work import finish

blp = api_blueprint("users_api", __name__, "People: roles, scopes and accounts (secretariat).")


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String(metadata={"description": ", ".join(ROLES)})
    agency = ma.fields.String()
    programmes = ma.fields.List(ma.fields.String(), metadata={"description": "Programme codes (officers)"})
    org_units = ma.fields.List(ma.fields.String(), metadata={"description": "Org unit codes (officers)"})
    state = ma.fields.String(metadata={"description": "invited (no password yet), active or deactivated"})
    two_factor = ma.fields.Boolean()
    last_login_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class InviteSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    programmes = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=20)), load_default=list,
                                validate=ma.validate.Length(max=100))
    org_units = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=60)), load_default=list,
                               validate=ma.validate.Length(max=500))


class ChangeSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500),
                              metadata={"description": "Why (kept in the audit log)"})
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    agency = ma.fields.String(validate=ma.validate.Length(max=200))
    programmes = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=20)),
                                validate=ma.validate.Length(max=100))
    org_units = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=60)),
                               validate=ma.validate.Length(max=500))
    active = ma.fields.Boolean(metadata={"description": "false deactivates (sessions end, tokens stop); true reactivates"})


def _secretariat():
    user = authenticated_user()
    if not can_administer(user):
        raise Forbidden("Only the secretariat manages people.")
    return user


def _body(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "agency": user.agency,
            "programmes": [p.code for p in user.programmes], "org_units": [u.code for u in user.org_units],
            "state": self_service.account_state(user), "two_factor": user.has_two_factor,
            "last_login_at": _aware(user.last_login_at), "created_at": _aware(user.created_at)}


def _one(user_id: int) -> User:
    found = next((p for p in self_service.people(db.session) if p.id == user_id), None)
    if found is None:
        raise NotFound(f"No user with id {user_id}.")
    return found


@blp.route("/users")
class Users(MethodView):
    @blp.response(200, UserSchema(many=True))
    def get(self):
        """Everyone who can sign in, by role and e-mail."""
        _secretariat()
        return [_body(u) for u in self_service.people(db.session)]

    @blp.arguments(InviteSchema)
    @blp.response(201, UserSchema)
    def post(self, args):
        """Invite a person: an account without a password and an e-mailed one-time link to set one."""
        actor = _secretariat()
        base = current_app.config["BASE_URL"].rstrip("/")
        user = self_service.invite_user(
            db.session, current_app.config, email=args["email"], name=args["name"], role=args["role"],
            programme_codes=args["programmes"], org_unit_codes=args["org_units"], actor=actor,
            link_for=lambda token: base + url_for("accounts.accept_invitation", token=token))
        user_id = user.id
        finish(db.session, current_app.config)
        return _body(_one(user_id)), 201, {"Location": url_for("users_api.UserOne", user_id=user_id)}


@blp.route("/users/<int:user_id>")
class UserOne(MethodView):
    @blp.response(200, UserSchema)
    def get(self, user_id: int):
        """One person."""
        _secretariat()
        return _body(_one(user_id))

    @blp.arguments(ChangeSchema)
    @blp.response(200, UserSchema)
    def patch(self, args, user_id: int):
        """Change role, name, agency or scope, or deactivate / reactivate, with a reason."""
        actor = _secretariat()
        reason = args.pop("reason")
        active = args.pop("active", None)
        if not args and active is None:
            raise ValidationFailed("Nothing to change: send role, name, agency, programmes, org_units or active.")
        if args:
            self_service.change_access(
                db.session, user_id, actor=actor, reason=reason, role=args.get("role"), name=args.get("name"),
                agency=args.get("agency"), programme_codes=args.get("programmes"), org_unit_codes=args.get("org_units"))
        if active is not None:
            self_service.set_account_active(db.session, user_id, active=active, reason=reason, actor=actor)
        finish(db.session, current_app.config)
        return _body(_one(user_id))
