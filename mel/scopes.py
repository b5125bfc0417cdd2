"""The permission language: every "may this user…" of the service is a named predicate here.

Views, the API, exports, the CLI and templates (as Jinja globals) ask these predicates; no role
tuple is written anywhere else. Officers are scoped to their programmes and org units (and what
lies under them); reviewers read everything and decide on returns; the secretariat administers;
viewers read approved figures and published reports.
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select

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


def can_record_progress(user: User) -> bool:
    """Record quarterly progress of joint work-plan activities."""
    return user.role in ENTERING_ROLES


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


def can_enter(user: User, programme_id: int, org_unit: OrgUnit) -> bool:
    """Whether the user may write a programme's returns in an org unit: figures, narrative, submission."""
    return user.role in ENTERING_ROLES and can_access(user, programme_id, org_unit)
