"""DHIS2 Web API: `/api/system/info` and `/api/me`, in DHIS2 2.41's field names.

Also registers, for the whole DHIS2 blueprint, the WebMessage answers to errors (mel/dhis2/messages.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from importlib import metadata as package_metadata

from flask import Blueprint, current_app, jsonify, request

from mel import clock
from mel.accounts.models import User
from mel.db import db
from mel.dhis2 import messages, query
from mel.dhis2.auth import dhis2_user
from mel.dhis2.ids import load_ids
from mel.dhis2.messages import Dhis2Error
from mel.dhis2.metadata import Tables, api_base
from mel.dhis2.query import Ref
from mel.scopes import can_administer, can_review, is_entering_role, sees_approved_returns_only
from mel.uid import stable_uid

DHIS2_VERSION = "2.41.4"  # the DHIS2 release whose Web API this dialect follows
SYSTEM_NAME = "Kenya Social Protection MEL"
_STARTED = datetime.now(UTC)


def _dhis2_date(moment: datetime) -> str:
    """DHIS2's (Jackson's) date-time text: 2025-10-01T09:30:00.000, in the server's zone."""
    local = clock.local(moment)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def _revision() -> str:
    try:
        return "kenya-sp-mel-" + package_metadata.version("kenya-sp-mel")
    except package_metadata.PackageNotFoundError:
        return "kenya-sp-mel"


def _fields(default: str = "*") -> query.Fields:
    try:
        return query.parse_fields(request.args.getlist("fields"), default=default)
    except query.QueryError as exc:
        raise Dhis2Error(409, str(exc)) from None


def system_info():
    """`GET /api/system/info`: the version, calendar, date format, server time and zone of this service."""
    dhis2_user()
    config = current_app.config
    now = datetime.now(UTC)
    zone = clock.zone(config)
    base = request.url_root.rstrip("/")
    instance = str(config.get("BASE_URL") or base).rstrip("/")
    info = {
        "contextPath": base,
        "userAgent": request.headers.get("User-Agent"),
        "calendar": "iso8601",
        "dateFormat": "yyyy-mm-dd",
        "serverDate": _dhis2_date(now),
        "serverTimeZoneId": zone.key,
        "serverTimeZoneDisplayName": now.astimezone(zone).tzname(),
        # Analytics are compiled from the stored figures on every request: always current.
        "lastAnalyticsTableSuccess": _dhis2_date(now),
        "intervalSinceLastAnalyticsTableSuccess": "0 s",
        "lastAnalyticsTableRuntime": "0 s",
        "version": DHIS2_VERSION,
        "revision": _revision(),
        "buildTime": _dhis2_date(_STARTED),
        "encryption": False,
        "emailConfigured": bool(config.get("SMTP_HOST")),
        "redisEnabled": False,
        "systemId": str(uuid.uuid5(uuid.NAMESPACE_URL, instance)),
        "systemName": SYSTEM_NAME,
        "instanceBaseUrl": instance,
        "isMetadataVersionEnabled": False,
        "isMetadataSyncEnabled": False,
    }
    return jsonify(query.select(info, _fields(), lambda ref: None))


def authorities(user: User) -> list[str]:
    """The DHIS2 authorities that say what the user's role may do (from the predicates of mel/scopes.py)."""
    found = ["ALL"] if can_administer(user) else []
    if is_entering_role(user):
        found += ["F_DATAVALUE_ADD", "F_DATAVALUE_DELETE", "M_dhis-web-aggregate-data-entry"]
    if can_review(user):
        found += ["F_APPROVE_DATA"]
    if not sees_approved_returns_only(user):
        found += ["F_VIEW_UNAPPROVED_DATA"]
    return found + ["M_dhis-web-dashboard"]


def _me(user: User) -> dict:
    ids = load_ids(db.session)
    if user.role == "officer":
        units = [ids.org_unit_for(unit.code).uid for unit in user.org_units]
        programmes = {p.code for p in user.programmes}
        data_sets = [ds.uid for ds in ids.data_sets.values() if ds.programme in programmes]
    else:
        units = [u.uid for u in ids.org_units.values() if u.level == 1]
        data_sets = list(ids.data_sets)
    first, _, last = (user.name or "").strip().partition(" ")
    role = {"id": stable_uid("userRole", user.role), "code": user.role, "name": user.role_label,
            "displayName": user.role_label}
    unit_refs = [Ref("organisationUnits", uid) for uid in units]
    return {
        "id": stable_uid("user", str(user.id)), "username": user.email, "firstName": first or user.email,
        "surname": last or None, "employer": user.agency or None, "name": user.display_name,
        "displayName": user.display_name, "email": user.email,
        "created": _dhis2_date(user.created_at) if user.created_at else None,
        "lastLogin": _dhis2_date(user.last_login_at) if user.last_login_at else None,
        "organisationUnits": unit_refs, "dataViewOrganisationUnits": unit_refs, "teiSearchOrganisationUnits": [],
        "userRoles": [role], "userGroups": [], "authorities": authorities(user), "dataSets": data_sets,
        "programs": [], "settings": {"keyUiLocale": "en", "keyDbLocale": "en"},
        "userCredentials": {"username": user.email, "userRoles": [role]},
    }


def me():
    """`GET /api/me`: the signed-in user as DHIS2 describes one (fields= filters it)."""
    user = dhis2_user()
    tables = Tables(load_ids(db.session), api_base())
    return jsonify(query.select(_me(user), _fields(), tables.resolve))


def me_authorization():
    """`GET /api/me/authorization`: the user's authorities."""
    return jsonify(authorities(dhis2_user()))


def register(bp: Blueprint) -> None:
    """Add this module's routes to the DHIS2 blueprint, and its WebMessage error answers."""
    messages.install(bp)
    for path in ("/system/info", "/system/info.json"):
        bp.add_url_rule(path, endpoint="system_info", view_func=system_info)
    for path in ("/me", "/me.json"):
        bp.add_url_rule(path, endpoint="me", view_func=me)
    bp.add_url_rule("/me/authorization", endpoint="me_authorization", view_func=me_authorization)
