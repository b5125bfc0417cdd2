"""What a user may see: officers only their programmes and org units (and what lies under them)."""

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
