"""Disaggregations under /api/v1/disaggregations: categories (DHIS2 categories) with their options
(category options), sets (category combinations) with their generated option combinations. Every
signed-in user reads them; the secretariat changes them through the same operations, checks and
audit as the web pages (mel/catalogue/disaggregation_admin.py)."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask.views import MethodView

from indicators.disaggregation import MAX_CATEGORIES
from mel.accounts.auth import authenticated_user
from mel.api import api_blueprint
from mel.catalogue import disaggregation_admin as admin
from mel.catalogue import disaggregation_combos as combos
from mel.catalogue.form_admin import require_admin
from mel.catalogue.form_schemas import RemovalArgs
from mel.db import db
from mel.errors import ValidationFailed

blp = api_blueprint("disaggregations_api", __name__,
                    "Disaggregations: categories and their options, sets and the option combinations they cross "
                    "into (DHIS2 categories, category options, category combos, category option combos).")

WHAT = "keeps the disaggregations"


def _text(limit: int, description: str, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(max=limit), metadata={"description": description}, **kwargs)




_SW_OUT = {"description": "In Kiswahili; empty while not translated (Kiswahili pages then show the English name)"}


def _sw(description: str = "The name in Kiswahili; empty: not translated") -> ma.fields.String:
    return _text(400, description)


class OptionSchema(ma.Schema):
    code = ma.fields.String()
    uid = ma.fields.String()
    name = ma.fields.String()
    name_sw = ma.fields.String(metadata=_SW_OUT)
    position = ma.fields.Integer(metadata={"description": "1 = first"})
    is_active = ma.fields.Boolean(metadata={"description": "false: retired (keeps its figures, takes no new ones)"})
    retired_at = ma.fields.DateTime(allow_none=True)


class CategorySchema(ma.Schema):
    code = ma.fields.String()
    uid = ma.fields.String()
    name = ma.fields.String()
    name_sw = ma.fields.String(metadata=_SW_OUT)
    options = ma.fields.List(ma.fields.Nested(OptionSchema))
    sets = ma.fields.List(ma.fields.String(), metadata={"description": "Codes of the sets that cross it"})


class ComboSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "Option codes joined by _ in category order, or total"})
    uid = ma.fields.String()
    name = ma.fields.String()
    name_sw = ma.fields.String(metadata={"description": "In Kiswahili, made from its options' (empty while one of "
                                                        "them is not translated)"})
    is_total = ma.fields.Boolean()
    is_active = ma.fields.Boolean(metadata={"description": "false while one of its options is retired"})
    retired_at = ma.fields.DateTime(allow_none=True)


class SetSchema(ma.Schema):
    code = ma.fields.String()
    uid = ma.fields.String()
    name = ma.fields.String()
    name_sw = ma.fields.String(metadata=_SW_OUT)
    categories = ma.fields.List(ma.fields.String(), metadata={"description": "Category codes, in crossing order"})
    combos = ma.fields.List(ma.fields.Nested(ComboSchema))
    indicators = ma.fields.List(ma.fields.String(), metadata={"description": "Indicators disaggregated by it"})


class OptionArgs(ma.Schema):
    code = _text(40, "Option code: 1–20 letters, digits or _, e.g. A70P", required=True)
    name = _text(400, "What people read, e.g. 70 years and above", required=True)
    name_sw = _sw("In Kiswahili, e.g. Miaka 70 na zaidi; left out: unchanged (a new option: not translated)")


class CategoryCreateArgs(ma.Schema):
    code = _text(80, "New and unique: lower-case letters, digits or _, e.g. disability", required=True)
    name = _text(400, "The category's name", required=True)
    name_sw = _sw()
    options = ma.fields.List(ma.fields.Nested(OptionArgs), required=True,
                             validate=ma.validate.Length(max=200),
                             metadata={"description": "The options in the order people read them"})
    reason = _text(1000, "Why the category is added (kept in the audit)", load_default="")


class CategoryChangeArgs(ma.Schema):
    name = _text(400, "The category's name")
    name_sw = _sw()
    options = ma.fields.List(ma.fields.Nested(OptionArgs), validate=ma.validate.Length(max=200), metadata={
        "description": "Every option, in the order wanted: renames and reorders them; new codes are added. "
                       "An option left out is refused (delete or retire it on its own)."})
    reason = _text(1000, "Why (kept in the audit)", required=True)


class OptionAddArgs(OptionArgs):
    position = ma.fields.Integer(validate=ma.validate.Range(1, 1000), metadata={"description": "1 = first; default last"})
    reason = _text(1000, "Why (kept in the audit)", required=True)


class OptionChangeArgs(ma.Schema):
    name = _text(400, "New name")
    name_sw = _sw("New name in Kiswahili")
    position = ma.fields.Integer(validate=ma.validate.Range(1, 1000), metadata={"description": "Move it: 1 = first"})
    is_active = ma.fields.Boolean(metadata={"description": "false retires the option; true reactivates it"})
    reason = _text(1000, "Why (kept in the audit)", required=True)


class SetCreateArgs(ma.Schema):
    code = _text(80, "New and unique: lower-case letters, digits or _, e.g. sex_disability", required=True)
    name = _text(400, "The set's name", required=True)
    name_sw = _sw()
    categories = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=80)), required=True,
                                validate=ma.validate.Length(max=MAX_CATEGORIES * 2),
                                metadata={"description": "Category codes in crossing order"})
    reason = _text(1000, "Why the set is added (kept in the audit)", load_default="")


class SetChangeArgs(ma.Schema):
    name = _text(400, "The set's name")
    name_sw = _sw()
    categories = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=80)),
                                validate=ma.validate.Length(max=MAX_CATEGORIES * 2), metadata={
                                    "description": "Category codes in crossing order; refused while figures use "
                                                   "the set"})
    reason = _text(1000, "Why (kept in the audit)", required=True)


def _category(session, category) -> dict:
    return {"code": category.code, "uid": category.uid, "name": category.name, "name_sw": category.name_sw or "",
            "options": [{"code": o.code, "uid": o.uid, "name": o.name, "name_sw": o.name_sw or "", "position": n,
                         "is_active": bool(o.is_active),
                         "retired_at": combos.aware(o.retired_at)}
                        for n, o in enumerate(combos.options_of(session, category.id), start=1)],
            "sets": [s.code for s in combos.sets_using(session, category.id)]}


def _set(session, dset) -> dict:
    return {"code": dset.code, "uid": dset.uid, "name": dset.name, "name_sw": dset.name_sw or "",
            "categories": [c.code for c in combos.categories_of(session, dset.id)],
            "combos": [{"code": c.code, "uid": c.uid, "name": c.name, "name_sw": c.name_sw or "",
                        "is_total": bool(c.is_total),
                        "is_active": bool(c.is_active), "retired_at": combos.aware(c.retired_at)}
                       for c in combos.combos_of(session, dset.id)],
            "indicators": combos.indicators_using(session, dset.id)}


def _admin():
    user = authenticated_user()
    require_admin(user, WHAT)
    return user


@blp.route("/disaggregations/categories")
class Categories(MethodView):
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """The categories by code, each with its options in order (retired ones too)."""
        session = db.session
        return [_category(session, c) for c in combos.all_categories(session)]

    @blp.arguments(CategoryCreateArgs)
    @blp.response(201, CategorySchema)
    def post(self, args):
        """Add a category with its options (audited); a set crosses it into combinations."""
        session = db.session
        category = admin.create_category(session, _admin(), args, args.get("reason", ""))
        return _category(session, category), 201, {
            "Location": url_for("disaggregations_api.CategoryItem", code=category.code)}


@blp.route("/disaggregations/categories/<code>")
class CategoryItem(MethodView):
    @blp.response(200, CategorySchema)
    def get(self, code):
        """One category with its options."""
        session = db.session
        return _category(session, combos.find_category(session, code))

    @blp.arguments(CategoryChangeArgs)
    @blp.response(200, CategorySchema)
    def put(self, args, code):
        """Rename the category; rename, reorder or add options (`options` lists them all, in order). Every set
        with the category gets its new combinations."""
        session = db.session
        user = _admin()
        if "name" not in args and "name_sw" not in args and "options" not in args:
            raise ValidationFailed("Nothing to change: send name, name_sw or options.")
        admin.change_category(session, user, code, args, args.get("reason"))
        return _category(session, combos.find_category(session, code))

    @blp.arguments(RemovalArgs, location="query")
    @blp.response(204)
    def delete(self, args, code):
        """Delete a category no set uses (reason in the query string)."""
        admin.delete_category(db.session, _admin(), code, args["reason"])


@blp.route("/disaggregations/categories/<code>/options")
class CategoryOptions(MethodView):
    @blp.arguments(OptionAddArgs)
    @blp.response(201, CategorySchema)
    def post(self, args, code):
        """Add one option (at `position`, default last); every set with the category gets its new combinations."""
        session = db.session
        admin.add_option(session, _admin(), code, args, args.get("reason"))
        return _category(session, combos.find_category(session, code)), 201


@blp.route("/disaggregations/categories/<code>/options/<option>")
class CategoryOptionItem(MethodView):
    @blp.arguments(OptionChangeArgs)
    @blp.response(200, CategorySchema)
    def put(self, args, code, option):
        """Rename or move an option, or retire (is_active false) or reactivate it: a retired option keeps its
        figures, which still show in reports, and takes no new ones."""
        session = db.session
        user = _admin()
        active = args.pop("is_active", None)
        reason = args.pop("reason")
        if not args and active is None:
            raise ValidationFailed("Nothing to change: send name, name_sw, position or is_active.")
        if args:
            admin.change_option(session, user, code, option, args, reason)
        if active is not None:
            admin.set_option_active(session, user, code, option, active, reason)
        return _category(session, combos.find_category(session, code))

    @blp.arguments(RemovalArgs, location="query")
    @blp.response(204)
    def delete(self, args, code, option):
        """Delete an option no figure ever used (reason in the query string); else 409: retire it instead."""
        admin.delete_option(db.session, _admin(), code, option, args["reason"])


@blp.route("/disaggregations/sets")
class Sets(MethodView):
    @blp.response(200, SetSchema(many=True))
    def get(self):
        """The sets by code, with their categories, generated combinations and indicators."""
        session = db.session
        return [_set(session, s["set"]) for s in combos.overview(session)["sets"]]

    @blp.arguments(SetCreateArgs)
    @blp.response(201, SetSchema)
    def post(self, args):
        """Add a set crossing categories in order; its combinations are generated at once (audited)."""
        session = db.session
        dset = admin.create_set(session, _admin(), args, args.get("reason", ""))
        return _set(session, dset), 201, {"Location": url_for("disaggregations_api.SetItem", code=dset.code)}


@blp.route("/disaggregations/sets/<code>")
class SetItem(MethodView):
    @blp.response(200, SetSchema)
    def get(self, code):
        """One set with its combinations."""
        session = db.session
        return _set(session, combos.find_set(session, code))

    @blp.arguments(SetChangeArgs)
    @blp.response(200, SetSchema)
    def put(self, args, code):
        """Rename a set or change its categories (refused while figures use it: make a new set)."""
        session = db.session
        user = _admin()
        if "name" not in args and "name_sw" not in args and "categories" not in args:
            raise ValidationFailed("Nothing to change: send name, name_sw or categories.")
        admin.change_set(session, user, code, args, args.get("reason"))
        return _set(session, combos.find_set(session, code))

    @blp.arguments(RemovalArgs, location="query")
    @blp.response(204)
    def delete(self, args, code):
        """Delete a set no indicator uses and no figure points at (reason in the query string)."""
        admin.delete_set(db.session, _admin(), code, args["reason"])
