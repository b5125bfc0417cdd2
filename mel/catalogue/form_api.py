"""Form and programme administration under /api/v1: programmes (create, change), a programme's form
(window, indicators and org units from a quarter on) and its window exceptions (secretariat only; the
same operations, validation and audit as the web pages)."""

from __future__ import annotations

from flask.views import MethodView

from mel.accounts.auth import authenticated_user
from mel.api import api_blueprint
from mel.catalogue import form_admin, form_contents, programme_admin
from mel.catalogue.form_schemas import (
    FormSchema,
    FormWindowArgs,
    ProgrammeChangeArgs,
    ProgrammeCreateArgs,
    RemovalArgs,
    WindowExceptionArgs,
    WindowExceptionSchema,
)
from mel.catalogue.schemas import ProgrammeSchema
from mel.db import db

blp = api_blueprint("form_api", __name__,
                    "Programmes and reporting forms administered by the secretariat: programmes, a form's "
                    "indicators and org units from a quarter on, window, frequency, window exceptions.")


@blp.route("/programmes")
class ProgrammeCreate(MethodView):
    @blp.arguments(ProgrammeCreateArgs)
    @blp.response(201, ProgrammeSchema)
    def post(self, payload):
        """Create a programme and its reporting form (no indicators yet), asking returns of its org units
        from `from_period` on, with a reason (audited)."""
        return programme_admin.create_programme(db.session, authenticated_user(), payload)


@blp.route("/programmes/<code>")
class ProgrammeChange(MethodView):
    @blp.arguments(ProgrammeChangeArgs)
    @blp.response(200, ProgrammeSchema)
    def put(self, payload, code):
        """Change a programme; where it operates (org_units) changes from `from_period` on (audited before and after)."""
        return programme_admin.update_programme(db.session, authenticated_user(), code, payload)


@blp.route("/forms/<code>")
class FormItem(MethodView):
    @blp.response(200, FormSchema)
    def get(self, code):
        """A programme's reporting form (by programme code or UID), with its contents and window days by quarters."""
        form_admin.require_admin(authenticated_user(), "administers reporting forms")
        return form_admin.form_of(db.session, code)

    @blp.arguments(FormWindowArgs)
    @blp.response(200, FormSchema)
    def put(self, payload, code):
        """Change the form's frequency and window days, and/or its indicators (order, required) and org units,
        from `from_period` on (earlier quarters keep their form and window; a window change alone applies from
        the quarter being reported when it is left out), with a reason (audited before and after)."""
        session = db.session
        form_contents.save_form(session, authenticated_user(), code, payload)
        return form_admin.form_of(session, code)


@blp.route("/forms/<code>/window-exceptions")
class WindowExceptions(MethodView):
    @blp.response(200, WindowExceptionSchema(many=True))
    def get(self, code):
        """The form's window exceptions: org units whose return of one quarter closes later."""
        form_admin.require_admin(authenticated_user(), "administers reporting forms")
        return form_admin.form_of(db.session, code).window_exceptions

    @blp.arguments(WindowExceptionArgs)
    @blp.response(201, WindowExceptionSchema)
    def post(self, payload, code):
        """Grant one org unit a later closing date for one quarter's return, with a reason."""
        return form_admin.add_window_exception(db.session, authenticated_user(), code, payload)


@blp.route("/forms/<code>/window-exceptions/<int:exception_id>")
class WindowExceptionItem(MethodView):
    @blp.arguments(RemovalArgs, location="query")
    @blp.response(204)
    def delete(self, args, code, exception_id):
        """Withdraw a window exception (reason in the query string); the form's window applies again."""
        form_admin.remove_window_exception(db.session, authenticated_user(), code, exception_id, args["reason"])
