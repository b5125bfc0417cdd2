"""The DHIS2 Web API's aggregate-data dialect (as DHIS2 2.41 speaks it) under /api/ and /api/41/.

A programme's reporting form is a data set, the programme its attribute option combo, each
reported figure a data element (a ratio indicator X gives X.N and X.D), disaggregation options
category option combos, computed indicators DHIS2 indicators; org units and periods keep their
DHIS2 ids. Every figure that arrives here goes through the one ingest service (mel/returns/ingest.py).
"""

from __future__ import annotations

from flask import Blueprint, Flask

API_VERSION = "41"


def init_app(app: Flask) -> None:
    """Register the DHIS2 routes at /api and again at the versioned /api/41 prefix."""
    from mel.dhis2 import analytics, datavalues, metadata, system

    bp = Blueprint("dhis2", __name__)
    for module in (system, metadata, datavalues, analytics):
        module.register(bp)
    app.register_blueprint(bp, url_prefix="/api")
    app.register_blueprint(bp, url_prefix=f"/api/{API_VERSION}", name=f"dhis2_{API_VERSION}")
