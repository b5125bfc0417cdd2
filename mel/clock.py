"""The reporting calendar's clock: which day it is, and what time people see, in MEL_TIMEZONE.

Instants are stored in UTC. Every calendar decision (is the window open, is a return late,
which quarter is being reported now) and every time shown to a person (pages, e-mails, report
stamps) goes through here, so they all follow the Kenyan day (Africa/Nairobi, UTC+3) rather
than UTC or the server's own zone: at 23:30 UTC on 15 January it is already 16 January.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from config import Config
from indicators.periods import Period, quarter_of


def zone_name(config=None) -> str:
    """The calendar's time zone name: the TIMEZONE setting (MEL_TIMEZONE) of the app or of `config`."""
    if config is None:
        from flask import current_app, has_app_context

        config = current_app.config if has_app_context() else {}
    return config.get("TIMEZONE") or Config.TIMEZONE


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(config=None) -> ZoneInfo:
    return _zone(zone_name(config))


def local(moment: datetime, config=None) -> datetime:
    """An instant as the calendar's local time; a naive one is UTC, as the database keeps it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(config))


def local_now(config=None) -> datetime:
    """Now, as local time of the reporting calendar (timezone-aware)."""
    return local(datetime.now(UTC), config)


def today(now: datetime | None = None, config=None) -> date:
    """The calendar date in the reporting calendar's zone at `now` (default: this instant)."""
    return local(now or datetime.now(UTC), config).date()


def reporting_quarter(on: date | None = None, config=None) -> Period:
    """The quarter being reported on: the last one that has ended by `on` (default: today in Nairobi)."""
    return quarter_of(on or today(config=config)).previous()


def local_time(value: datetime | date | str | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """Jinja filter: a stored instant (datetime or ISO text) shown in the calendar's local time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        value = local(value)
    from mel.i18n import localised_months

    return value.strftime(localised_months(fmt, value))
