"""Jinja filters: periods as people read them, numbers with thousands separators."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask

from indicators import display
from indicators.compile import STATUS_LABELS, STATUS_ORDER
from indicators.periods import PeriodError, parse_period
from mel.clock import local_time


def period_label(value: str | None, short: bool = False) -> str:
    """`2025Q3` → `FY2025/26 Q1 (Jul–Sep 2025)`; unknown identifiers are shown as they are."""
    if not value:
        return ""
    try:
        period = parse_period(value)
    except PeriodError:
        return str(value)
    from mel.i18n import period_words

    return period_words(period, short=short)  # in the page's language


def number(value: int | float | Decimal | None, decimals: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{decimals}f}"


def plain(value: int | float | Decimal | None) -> str:
    """A figure as it goes back into an input: no separators, no trailing zeros."""
    if value is None or value == "":
        return ""
    text = format(Decimal(value).normalize(), "f") if isinstance(value, Decimal) else str(value)
    return text


def init_app(app: Flask) -> None:
    app.add_template_filter(period_label, "period")
    app.add_template_filter(number, "number")
    app.add_template_filter(plain, "plain")
    app.add_template_filter(local_time, "local_time")
    from mel.i18n import day, said

    app.add_template_filter(day, "day")  # a date in the page's language: "05 August 2025"
    app.add_template_filter(said, "said")  # a message (an error, a target's source) in the page's language
    # Rounding and wording of computed figures: one place (indicators/display.py) for web and reports.
    app.add_template_filter(display.percent, "pct")
    app.add_template_filter(display.achievement, "achievement")
    app.add_template_global(display.change, "change")
    app.add_template_global(display.returns_coverage, "coverage")
    app.add_template_global(STATUS_LABELS, "STATUS_LABELS")
    app.add_template_global(STATUS_ORDER, "STATUS_ORDER")
    # The permission language (mel/scopes.py) for templates: {% if can_review(current_user) %}.
    from mel import scopes

    for name in ("can_review", "can_administer", "can_enter", "can_record_progress", "is_entering_role"):
        app.add_template_global(getattr(scopes, name), name)
    from mel.logs import request_id

    app.add_template_global(request_id, "request_id")

    @app.context_processor
    def _globals():
        from flask_login import current_user

        from mel import __version__

        unread = 0
        if current_user.is_authenticated and getattr(current_user, "id", None):
            from sqlalchemy import func, select

            from mel.db import db
            from mel.review.models import Notification

            unread = db.session.scalar(select(func.count()).select_from(Notification).where(
                Notification.user_id == current_user.id, Notification.read_at.is_(None)))
        return {"app_version": __version__, "unread_notifications": unread}
