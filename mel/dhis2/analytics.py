"""DHIS2 Web API: GET /api/analytics (.json, .csv), aggregate figures in DHIS2's grid.

Figures come from the compilation engine behind /api/v1/results and are the approved ones, as
everyone signed in reads them there (`includeUnapproved=true` adds the others for whom
include=submitted allows); see mel/dhis2/analytics_query.py for what a query may name.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from mel.catalogue.lookup import load_catalogue
from mel.clock import today
from mel.db import db
from mel.dhis2.analytics_figures import compute
from mel.dhis2.analytics_grid import build_grid, grid_csv
from mel.dhis2.analytics_query import parse_request, resolve
from mel.dhis2.auth import dhis2_user
from mel.dhis2.ids import load_ids


def _grid() -> dict:
    user = dhis2_user()
    raw, options = parse_request(request.args)
    session = db.session
    catalogue = load_catalogue(session)
    ids = load_ids(session)
    plan = resolve(raw, options, ids, catalogue, user, today())
    return build_grid(plan, compute(session, catalogue, plan, ids), ids)


def analytics() -> Response:
    """The analytics grid as JSON."""
    return Response(json.dumps(_grid()), mimetype="application/json")


def analytics_csv() -> Response:
    """The analytics grid as CSV (DHIS2 sends it as the attachment data.csv)."""
    return Response(grid_csv(_grid()), mimetype="application/csv",
                    headers={"Content-Disposition": 'attachment; filename="data.csv"'})


def register(bp: Blueprint) -> None:
    """Add this module's routes to the DHIS2 blueprint."""
    bp.add_url_rule("/analytics", "analytics", analytics, methods=["GET"])
    bp.add_url_rule("/analytics.json", "analytics_json", analytics, methods=["GET"])
    bp.add_url_rule("/analytics.csv", "analytics_csv", analytics_csv, methods=["GET"])
