"""Web pages of the catalogue: indicators and their reference sheets, programmes, counties."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import ngettext, pgettext
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from indicators.history import thresholds_in_words
from indicators.messages import N_, message, text
from mel import clock
from mel.catalogue import queries
from mel.catalogue.levels import COUNTY, SUBCOUNTY, WARD, level_names
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import OrgUnit, Programme
from mel.catalogue.versioning import lineage
from mel.db import db
from mel.errors import NotFound
from mel.learning.views import evidence_context

bp = Blueprint("catalogue", __name__)


@bp.app_context_processor
def _catalogue_language() -> dict:
    """localised, falls_back and the counts of missing Kiswahili text, for every template."""
    from mel.catalogue.language import template_helpers

    return template_helpers()


@bp.route("/indicators")
@login_required
def indicator_list():
    session = db.session
    pillar = request.args.get("pillar") or None
    search = request.args.get("q") or None
    indicators = queries.indicators(session, pillar=pillar, search=search)
    pillars = queries.pillars(session)
    by_pillar = defaultdict(list)
    for indicator in indicators:
        by_pillar[indicator.pillar.code].append(indicator)
    return render_template(
        "catalogue/indicators.html", pillars=pillars, by_pillar=by_pillar, pillar=pillar, indicators=indicators,
        search=search or "", total=len(indicators),
    )


@bp.route("/indicators/<code>")
@login_required
def indicator_sheet(code: str):
    session = db.session
    indicator = queries.indicator(session, code)
    programmes = queries.programmes_reporting(session, indicator.id)
    catalogue = load_catalogue(session)
    spec = catalogue.specs.get(indicator.code)
    checks = thresholds_in_words(spec) if spec else ""
    return render_template("catalogue/indicator.html", indicator=indicator, programmes=programmes, checks=checks,
                           lineage=lineage(catalogue.indicators.values(), indicator.code),
                           **evidence_context(session, indicator))


@bp.route("/results-framework")
@login_required
def results_framework():
    session = db.session
    nodes = queries.results_nodes(session)
    indicators = queries.indicators(session)
    children = defaultdict(list)
    for node in sorted(nodes, key=lambda n: (n.sort_order, n.code)):
        children[node.parent_id].append(node)
    attached = defaultdict(list)
    for indicator in indicators:
        attached[indicator.results_node_id].append(indicator)
    return render_template("catalogue/results_framework.html", children=children, attached=attached, nodes=nodes)


@bp.route("/programmes")
@login_required
def programme_list():
    return render_template("catalogue/programmes.html", programmes=queries.programmes(db.session))


@bp.route("/programmes/<code>")
@login_required
def programme_detail(code: str):
    session = db.session
    programme = queries.programme(session, code)
    forms = queries.forms(session, programme.code)
    quarter = clock.reporting_quarter()  # the form as the quarter being reported asks it
    return render_template("catalogue/programme.html", programme=programme, forms=forms, quarter=quarter)


@bp.route("/counties")
@login_required
def county_list():
    session = db.session
    counties = queries.org_units(session, level=2)
    programmes = queries.programmes(session)
    coverage = defaultdict(list)
    for programme in programmes:
        for unit in programme.org_units:
            coverage[unit.id].append(programme)
    return render_template("catalogue/counties.html", counties=counties, coverage=coverage)


@bp.route("/counties/<code>")
@login_required
def county_detail(code: str):
    session = db.session
    county = queries.resolve_org_unit(session, code)
    if county.level != COUNTY:
        raise NotFound(text(message(N_("%(code)s is not a county."), code=repr(code))))
    programmes = list(session.scalars(
        select(Programme).where(Programme.org_units.any(OrgUnit.id == county.id))
        .options(selectinload(Programme.pillar)).order_by(Programme.code)
    ))
    quarter = clock.reporting_quarter().id
    forms = [form for form in queries.forms(session) if county in form.org_units_in(quarter)]
    below = list(session.scalars(queries.descendants_query(county, include_self=False)))
    wards = defaultdict(list)
    for unit in below:
        if unit.level == WARD:
            wards[unit.parent_id].append(unit)
    return render_template("catalogue/county.html", county=county, programmes=programmes, forms=forms,
                           subcounties=[u for u in below if u.level == SUBCOUNTY], wards=wards,
                           levels=level_names(pgettext))


@bp.route("/results-framework/edit", methods=["GET", "POST"])
@login_required
def results_framework_edit():
    from mel.accounts.auth import authenticated_user
    from mel.catalogue.form_admin import require_admin
    from mel.catalogue.operations import save_results_framework
    from mel.errors import MelError

    require_admin(authenticated_user(), "edits the results framework")
    session = db.session
    nodes = sorted(queries.results_nodes(session), key=lambda n: n.sort_order)
    indicators = queries.indicators(session)
    error = None
    codes = {n.id: n.code for n in nodes}
    if request.method == "POST":
        form = request.form
        rows = [{"code": n.code, "name": form.get(f"name.{n.code}", n.name), "kind": form.get(f"kind.{n.code}", n.kind),
                 "parent": form.get(f"parent.{n.code}", codes.get(n.parent_id, "")),
                 "sort_order": form.get(f"order.{n.code}", n.sort_order),
                 "name_sw": form.get(f"name_sw.{n.code}", n.name_sw),
                 "description_sw": form.get(f"description_sw.{n.code}", n.description_sw)}
                for n in nodes]
        new = {"code": form.get("new.code", ""), "name": form.get("new.name", ""), "kind": form.get("new.kind", ""),
               "parent": form.get("new.parent", ""), "sort_order": form.get("new.order", "") or len(nodes),
               "name_sw": form.get("new.name_sw", ""), "description_sw": form.get("new.description_sw", "")}
        links = {i.code: form.get(f"node.{i.code}", codes.get(i.results_node_id, "")) for i in indicators}
        try:
            changed = save_results_framework(session, rows, new, links)
            flash(ngettext("Results framework saved (%(num)s change).", "Results framework saved (%(num)s changes).",
                           changed), "info")
            return redirect(url_for("catalogue.results_framework"))
        except MelError as exc:
            session.rollback()
            error = exc
    return render_template("catalogue/results_framework_edit.html", nodes=nodes, codes=codes,
                           indicators=indicators, error=error), (422 if error else 200)
