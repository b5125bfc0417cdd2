"""The permission language: every "may this user…" of the service is a named predicate here.

Views, the API, exports, the CLI and templates (as Jinja globals) ask these predicates; no role
tuple is written anywhere else. Officers are scoped to their programmes and org units (and what
lies under them); reviewers read everything and decide on returns; the secretariat administers;
viewers read approved figures and published reports.
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from indicators.messages import N_, message, text
from mel.accounts.models import User
from mel.catalogue.models import OrgUnit
from mel.returns.models import Return


def org_unit_scope_clause(user: User):
    """SQL condition on OrgUnit covering the officer's org units and their descendants."""
    return or_(*(OrgUnit.path.startswith(unit.path) for unit in user.org_units))


def scoped_returns(user: User) -> Select:
    """Returns the user may read; everyone but officers reads all of them."""
    query = select(Return)
    if user.role == "officer":
        allowed_units = select(OrgUnit.id).where(org_unit_scope_clause(user))
        query = query.where(
            Return.programme_id.in_([p.id for p in user.programmes]),
            Return.org_unit_id.in_(allowed_units),
        )
    elif user.role == "viewer":
        query = query.where(Return.state == "approved")
    return query


# Roles that enter figures and write returns (officers within their scope, the secretariat anywhere).
ENTERING_ROLES = ("officer", "secretariat")
REVIEWING_ROLES = ("reviewer", "secretariat")


def can_review(user: User) -> bool:
    """Review returns: the queue, queries, approve, return; previews of reports and the data-quality page."""
    return user.role in REVIEWING_ROLES


def can_administer(user: User) -> bool:
    """Keep the framework: catalogue and results framework, plans, users, jobs; generate and
    publish reports; reopen approved returns."""
    return user.role == "secretariat"


def is_entering_role(user: User) -> bool:
    """A role that enters figures at all (officers within scope, the secretariat anywhere)."""
    return user.role in ENTERING_ROLES


def same_agency(first: str | None, second: str | None) -> bool:
    """Whether two agency names are the same agency (case and surrounding spaces do not count)."""
    first, second = (first or "").strip().casefold(), (second or "").strip().casefold()
    return bool(first) and first == second


def can_record_progress(user: User, activity=None) -> bool:
    """Record quarterly progress of a joint work-plan activity: the secretariat, or an officer of the
    activity's lead agency (`User.agency`). Without an activity: whether the user may record any."""
    if can_administer(user):
        return True
    if user.role != "officer" or not (user.agency or "").strip():
        return False
    return activity is None or same_agency(user.agency, activity.lead_agency)


def progress_refusal(user: User, activity) -> str:
    """Why `can_record_progress(user, activity)` refuses, in words that say what to do (a message: a
    page says it in its language, the API in English)."""
    if user.role != "officer":
        return text(message(N_("Only the secretariat and officers of the lead agency record work-plan progress.")))
    if not (user.agency or "").strip():
        return text(message(N_("Your account has no agency, so it cannot record work-plan progress; ask the "
                               "secretariat to set your agency (mel users create --agency).")))
    return text(message(N_("%(activity)s is led by %(lead)s; your account belongs to %(agency)s. Only officers of "
                           "the lead agency (or the secretariat) record its progress."),
                        activity=activity.code, lead=activity.lead_agency, agency=user.agency))


def sees_published_reports_only(user: User) -> bool:
    """Viewers and officers read published report runs only; draft runs are the secretariat's and TWG's."""
    return user.role in ("viewer", "officer")


def sees_approved_returns_only(user: User) -> bool:
    """Viewers read approved returns only."""
    return user.role == "viewer"


def can_access(user: User, programme_id: int, org_unit: OrgUnit) -> bool:
    """Whether an officer's scope covers a programme in an org unit (others: always)."""
    if user.role != "officer":
        return True
    return programme_id in {p.id for p in user.programmes} and any(
        org_unit.path.startswith(unit.path) for unit in user.org_units
    )


def can_see_unapproved(user: User, programme_ids: list[int], org_unit: OrgUnit) -> bool:
    """Whether figures not yet approved may be shown to the user for these programmes at this org unit.

    Reviewers and the secretariat: always. Officers: when every programme is theirs and the
    org unit lies within theirs. Viewers (and their API tokens): never.
    """
    if user.role in ("reviewer", "secretariat"):
        return True
    if user.role != "officer":
        return False
    return bool(programme_ids) and all(can_access(user, programme_id, org_unit) for programme_id in programme_ids)


def can_read_queries(user: User, programme_id: int, org_unit: OrgUnit) -> bool:
    """Read a return's query threads: reviewers and the secretariat, and the officers whose scope
    covers the return. Viewers never: the threads discuss figures before approval."""
    if can_review(user):
        return True
    return user.role == "officer" and can_access(user, programme_id, org_unit)


def can_see_completeness(user: User) -> bool:
    """Completeness and timeliness of a quarter: reviewers and the secretariat (all returns) and
    officers (the returns of their own scope only: see `can_access`)."""
    return can_review(user) or user.role == "officer"


def can_follow_import(user: User, uploader_id: int | None) -> bool:
    """Follow a background import (its progress, refusals and result): the person who sent the
    file, and the secretariat."""
    return can_administer(user) or (uploader_id is not None and uploader_id == user.id)


def can_enter(user: User, programme_id: int, org_unit: OrgUnit) -> bool:
    """Whether the user may write a programme's returns in an org unit: figures, narrative, submission."""
    return user.role in ENTERING_ROLES and can_access(user, programme_id, org_unit)


def can_read_action(user: User, scope: str, programme_id: int | None, org_unit: OrgUnit | None) -> bool:
    """Read a report's recommendation or action: everyone signed in reads the sector's; officers read
    a programme's or a county's only within their own programmes and org units."""
    if user.role != "officer" or scope == "sector":
        return True
    if scope == "programme":
        return programme_id in {p.id for p in user.programmes}
    return org_unit is not None and any(org_unit.path.startswith(unit.path) for unit in user.org_units)


def can_keep_evidence(user: User) -> bool:
    """Keep the learning agenda and the evidence register: add, edit and withdraw evidence items (and
    their PDFs) and learning questions. The MERL TWG (reviewers) and the secretariat; officers and
    viewers read the register."""
    return user.role in REVIEWING_ROLES


def can_record_meetings(user: User, action=None) -> bool:
    """Record MERL TWG meetings and their actions: the secretariat and the TWG's reviewers. With an
    action (mel/meetings/models.py `MeetingAction`): whether the user may update it at all — those,
    or the action's owner, who updates its status and progress only. Everyone signed in reads them."""
    if can_review(user):
        return True
    return action is not None and action.owner_id == user.id


def can_download_tools(user: User, programme_id: int | None = None) -> bool:
    """Download the reporting tools pack (one Excel template per org unit of a programme's form, with its
    indicator sheets and instructions; mel/guidelines/tools_pack.py): the secretariat and the MERL TWG
    for every programme (the secretariat's pack of all programmes included), officers for their own
    programmes, with the templates of their own org units only (`can_access`). Viewers never: they enter
    no figures, and read the approved ones on the dashboards. Without a programme: whether the role may
    download packs at all (decided by the role alone, so the navigation can ask it on any page)."""
    if user.role in REVIEWING_ROLES:
        return True
    if user.role != "officer":
        return False
    return programme_id is None or programme_id in {p.id for p in user.programmes}


def can_read_return_notes(user: User | None, programme_id: int, org_unit: OrgUnit, state: str) -> bool:
    """Read the data-quality notes of one return in an indicator's history (its warnings with their
    explanations, its returns and reopenings with their reasons, its figures revised after publication):
    everyone's once the return is approved (the published report's data-quality annex prints them), else
    those who read the return's query threads (`can_read_queries`). `None`, a published product such as
    the handbook's annex, reads the approved returns' notes only."""
    if state == "approved":
        return True
    return user is not None and can_read_queries(user, programme_id, org_unit)
