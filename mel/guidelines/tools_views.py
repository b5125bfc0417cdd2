"""Web pages of the reporting tools pack: the Reporting tools page (choose a programme and a quarter) and
the pack's download. Who may download what is `mel.scopes.can_download_tools`; the pack itself is
mel/guidelines/tools_pack.py. The API (/api/v1/tools-pack) answers through `pack_response` too.
"""

from __future__ import annotations

from contextlib import nullcontext

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import force_locale, gettext
from flask_login import login_required

from indicators.messages import message, text
from indicators.periods import PeriodError, parse_period
from mel import clock
from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue, load_catalogue
from mel.db import db, utcnow
from mel.errors import Forbidden
from mel.guidelines.content import catalogue_content, catalogue_version
from mel.guidelines.tools_pack import ALL, NOT_YOURS, QUARTERS_AHEAD, plan_pack, stream_pack
from mel.i18n import language
from mel.returns.grid_page import secretariat_contact
from mel.returns.template_guide import request_links
from mel.returns.workflow import window_for
from mel.scopes import can_access, can_download_tools

bp = Blueprint("tools", __name__, url_prefix="/tools")
QUARTERS_BACK = 4  # the page offers these quarters before the one being reported, and the next one


@bp.app_template_global("can_download_tools")
def _can_download_tools(user) -> bool:
    """For the navigation: whether to offer the Reporting tools page."""
    return bool(getattr(user, "is_authenticated", False)) and can_download_tools(user)


def pack_response(programme: str, period: str, *, english: bool) -> Response:
    """The pack as a streamed download: planned now (refusals are answered before any byte is sent), written
    while it is sent. `english`: the API's words; else the page's language."""
    session = db.session
    user = authenticated_user()
    catalogue = load_catalogue(session)
    with force_locale("en") if english else nullcontext():
        pack = plan_pack(session, catalogue, user, programme=programme, period=period,
                         contact=secretariat_contact(session, current_app.config), links=request_links,
                         catalogue_version=catalogue_version(catalogue_content(session)), generated_at=utcnow(),
                         gettext=None if english else gettext, language="en" if english else language())
    return Response(stream_pack(pack), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{pack.filename}"',
                             "X-Catalogue-Version": pack.catalogue_version, "Cache-Control": "no-store"})


def _offer(catalogue: Catalogue, user: User, period: str) -> list[dict]:
    """The programmes the user may download for a quarter, each with its window and how many templates."""
    offered = []
    for code, programme in sorted(catalogue.programmes.items()):
        form = catalogue.forms.get(programme.id)
        if form is None or not can_download_tools(user, programme.id):
            continue
        units = [u for u in form.org_units_in(period) if can_access(user, programme.id, u)]
        offered.append({"code": code, "programme": programme, "templates": len(units),
                        "indicators": len(form.items_in(period)), "window": window_for(form, period)})
    return offered


@bp.route("/")
@login_required
def index():
    """Reporting tools: choose a programme and a quarter, download the pack."""
    user = authenticated_user()
    if not can_download_tools(user):
        raise Forbidden(text(message(NOT_YOURS)))
    session = db.session
    catalogue = load_catalogue(session)
    current = clock.reporting_quarter()
    quarters = [current.shift(n).id for n in range(QUARTERS_AHEAD, -QUARTERS_BACK - 1, -1)]
    try:
        period = parse_period(request.args.get("period") or current.id)
    except PeriodError:
        period = current
    period_id = period.id if period.id in quarters else current.id
    offered = _offer(catalogue, user, period_id)
    chosen = (request.args.get("programme") or "").upper()
    codes = [o["code"] for o in offered]
    if chosen not in codes:
        chosen = ALL if len(codes) > 1 else (codes[0] if codes else ALL)
    version = catalogue_version(catalogue_content(session))
    return render_template("guidelines/tools.html", offered=offered, quarters=quarters, period=period_id,
                           chosen=chosen, all_choice=len(codes) > 1, version=version,
                           templates=sum(o["templates"] for o in offered if chosen in (ALL, o["code"])))


@bp.route("/pack.zip")
@login_required
def download():
    """The pack of one programme (or ALL: every programme the user may download, a folder each) for a quarter."""
    return pack_response(request.args.get("programme") or ALL,
                         request.args.get("period") or clock.reporting_quarter().id, english=False)
