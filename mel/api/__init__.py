"""The JSON API under /api/v1: flask-smorest blueprints, token auth, OpenAPI document."""

from __future__ import annotations

import marshmallow as ma
from flask import Flask
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint

from mel.accounts.auth import authenticated_user


class ErrorSchema(ma.Schema):
    """The error body every /api endpoint returns."""

    status = ma.fields.Integer(metadata={"description": "HTTP status"})
    error = ma.fields.String(metadata={"description": "Machine-readable error code"})
    message = ma.fields.String(metadata={"description": "What went wrong and what to do"})
    details = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "Located problems: message plus location (file, row, column, indicator, period)"},
    )
    request_id = ma.fields.String(metadata={"description": "On a server error: the reference for the help desk "
                                                           "(also in the X-Request-ID header)"})


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """Errors are mapped once for the whole app in mel.errors_views."""



def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """A blueprint under /api/v1 whose every endpoint needs a signed-in user or a token."""
    blueprint = Blueprint(name, import_name, url_prefix="/api/v1", description=description)

    @blueprint.before_request
    def _require_auth() -> None:
        authenticated_user()

    return blueprint


def init_api(app: Flask) -> Api:
    api = Api()
    api.init_app(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "Sector MEL service of Kenya's social protection sector. Authenticate with "
                    "`Authorization: Bearer <token>` (`mel tokens create EMAIL`). Periods use DHIS2 "
                    "identifiers: 2025Q3 (calendar quarter, shown as FY2025/26 Q1), 2025July "
                    "(financial year July–June), 202509 (month), 2025 (year). Errors share one "
                    "shape: {status, error, message, details[]}."
                ),
            },
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "API token"}
    )
    api.spec.options["security"] = [{"bearerAuth": []}]
    from mel.converters import document

    document(api)
    from mel.accounts.api import blp as users_blp
    from mel.catalogue.api import blp as catalogue_blp
    from mel.catalogue.disaggregation_api import blp as disaggregations_blp
    from mel.catalogue.form_api import blp as form_blp
    from mel.catalogue.indicator_api import blp as indicator_blp
    from mel.catalogue.rule_api import blp as rules_blp
    from mel.guidelines.api import blp as handbook_blp
    from mel.guidelines.tools_api import blp as tools_blp
    from mel.learning.api import blp as learning_blp
    from mel.meetings.api import blp as meetings_blp
    from mel.plans.api import blp as plans_blp
    from mel.reporting.api import blp as reports_blp
    from mel.reporting.story_api import blp as story_blp
    from mel.results.api import blp as results_blp
    from mel.results.history_views import blp as history_blp
    from mel.returns.api import blp as returns_blp
    from mel.review.api import blp as review_blp

    api.register_blueprint(catalogue_blp)
    api.register_blueprint(form_blp)
    api.register_blueprint(indicator_blp)
    api.register_blueprint(returns_blp)
    api.register_blueprint(plans_blp)
    api.register_blueprint(review_blp)
    api.register_blueprint(results_blp)
    api.register_blueprint(history_blp)
    api.register_blueprint(tools_blp)
    api.register_blueprint(handbook_blp)
    api.register_blueprint(reports_blp)
    api.register_blueprint(story_blp)
    api.register_blueprint(users_blp)
    api.register_blueprint(rules_blp)
    api.register_blueprint(disaggregations_blp)
    api.register_blueprint(learning_blp)
    api.register_blueprint(meetings_blp)
    return api
