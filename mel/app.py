"""The application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import Config, as_mapping, load_config
from mel.db import db

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: str | Config | None = None, **overrides: object) -> Flask:
    """Build the Flask application for an environment name or a settings object."""
    settings = config if isinstance(config, Config) else load_config(config, overrides)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
        instance_path=str(Path(settings.INSTANCE_DIR).resolve()),
    )
    app.config.from_mapping(as_mapping(settings))
    _configure_logging(app)
    proxies = int(app.config.get("TRUSTED_PROXIES", 0))
    if proxies:  # behind nginx: the scheme, host and client address are the ones the proxy saw
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    from mel.results import summary

    summary.listen()  # a session that changed returns settles their figures before it commits
    from mel import jobs

    jobs.init_app(app)  # development without Redis: say so once, work without the queue

    from mel import converters, i18n, security, unit_of_work
    from mel.accounts import auth
    from mel.api import init_api
    from mel.errors_views import register_error_handlers
    from mel.web import filters

    unit_of_work.init_app(app)  # a request commits once when it succeeds, then sends its notices
    converters.init_app(app)  # before any blueprint adds a rule that uses them
    security.init_app(app)
    i18n.init_app(app)  # Kiswahili and English: the page's language, the compiled catalogues
    auth.init_app(app)
    filters.init_app(app)
    register_error_handlers(app)

    from mel.accounts.views import bp as accounts_bp
    from mel.catalogue.disaggregation_views import bp as disaggregations_bp
    from mel.catalogue.form_views import bp as form_admin_bp
    from mel.catalogue.indicator_views import bp as indicator_admin_bp
    from mel.catalogue.rule_views import bp as rules_bp
    from mel.catalogue.views import bp as catalogue_bp
    from mel.guidelines.tools_views import bp as tools_bp
    from mel.guidelines.views import bp as guidelines_bp
    from mel.learning.views import bp as learning_bp
    from mel.meetings.views import bp as meetings_bp
    from mel.plans.views import bp as plans_bp
    from mel.public.views import bp as public_bp
    from mel.reporting.story_views import bp as report_story_bp
    from mel.reporting.views import bp as reporting_bp
    from mel.results.history_views import bp as history_bp
    from mel.results.views import bp as results_bp
    from mel.returns.views import bp as returns_bp
    from mel.review.views import bp as review_bp
    from mel.scheduler.views import bp as scheduler_bp
    from mel.web.views import bp as web_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(form_admin_bp)
    app.register_blueprint(rules_bp)
    app.register_blueprint(disaggregations_bp)
    app.register_blueprint(indicator_admin_bp)
    app.register_blueprint(returns_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(history_bp)  # /dashboard/indicators/<code>/history: an indicator across years
    app.register_blueprint(tools_bp)  # /tools: the reporting tools pack
    app.register_blueprint(guidelines_bp)  # /guidelines: the reporting guidelines handbook and its editions
    app.register_blueprint(reporting_bp)
    app.register_blueprint(report_story_bp)
    app.register_blueprint(learning_bp)  # /learning: the evidence register and the learning agenda
    app.register_blueprint(meetings_bp)  # /meetings: the MERL TWG's meetings and their actions
    app.register_blueprint(public_bp)  # /public: published results, no sign-in
    app.register_blueprint(scheduler_bp)
    from mel.health import bp as health_bp

    app.register_blueprint(health_bp)
    init_api(app)
    from mel import dhis2

    dhis2.init_app(app)
    from mel import limits

    limits.init_app(app)  # after every route exists: it wraps the limited ones

    from mel.cli import register_commands

    register_commands(app)
    return app


def _configure_logging(app: Flask) -> None:
    from mel import logs

    logs.configure(app)
