"""One answer to "may this person do this action on this unit?", used by every service and view."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from legation.network.models import ROLE_RANK, Person, RoleName, Unit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class Action(enum.StrEnum):
    """Everything a person can do on a unit; each needs a minimum role there or above."""

    UNIT_VIEW = "unit.view"
    UNIT_CREATE = "unit.create"  # create a unit below this one
    UNIT_UPDATE = "unit.update"
    UNIT_SECURITY = "unit.security"  # require two-factor authentication
    PEOPLE_VIEW = "people.view"
    PEOPLE_MANAGE = "people.manage"  # add people, grant and revoke roles
    ACCOUNT_VIEW = "account.view"
    ACCOUNT_REGISTER = "account.register"
    ACCOUNT_APPROVE = "account.approve"
    ACCOUNT_MANAGE = "account.manage"  # edit, credentials, hand-over, suspend, reactivate
    ACCOUNT_LOCK = "account.lock"
    LEDGER_VIEW = "ledger.view"
    POST_DRAFT = "post.draft"
    POST_PUBLISH = "post.publish"
    POST_CLEAR = "post.clear"
    GUIDANCE_MANAGE = "guidance.manage"
    LISTENING_VIEW = "listening.view"
    LISTENING_MANAGE = "listening.manage"  # sources, thresholds, acknowledging alerts


MIN_ROLE: dict[Action, RoleName] = {
    Action.UNIT_VIEW: RoleName.VIEWER,
    Action.UNIT_CREATE: RoleName.ADMIN,
    Action.UNIT_UPDATE: RoleName.ADMIN,
    Action.UNIT_SECURITY: RoleName.ADMIN,
    Action.PEOPLE_VIEW: RoleName.VIEWER,
    Action.PEOPLE_MANAGE: RoleName.ADMIN,
    Action.ACCOUNT_VIEW: RoleName.VIEWER,
    Action.ACCOUNT_REGISTER: RoleName.ADMIN,
    Action.ACCOUNT_APPROVE: RoleName.ADMIN,
    Action.ACCOUNT_MANAGE: RoleName.ADMIN,
    Action.ACCOUNT_LOCK: RoleName.ADMIN,
    Action.LEDGER_VIEW: RoleName.VIEWER,
    Action.POST_DRAFT: RoleName.EDITOR,
    Action.POST_PUBLISH: RoleName.PUBLISHER,
    Action.POST_CLEAR: RoleName.APPROVER,
    Action.GUIDANCE_MANAGE: RoleName.ADMIN,
    Action.LISTENING_VIEW: RoleName.VIEWER,
    Action.LISTENING_MANAGE: RoleName.EDITOR,
}


def _role_paths(person: Person) -> list[tuple[str, int]]:
    """(unit path, rank) for each role the person holds, cached on the person object for the request."""
    cached: list[tuple[str, int]] | None = getattr(person, "_legation_role_paths", None)
    if cached is None:
        cached = [(path, ROLE_RANK[role]) for path, role in person.roles.values_list("unit__path", "role")]
        person._legation_role_paths = cached  # type: ignore[attr-defined]
    return cached


def forget_roles(person: Person) -> None:
    """Drop the cached roles after a grant or revoke."""
    if hasattr(person, "_legation_role_paths"):
        del person._legation_role_paths


def rank_on(person: Person | AnonymousUser, unit: Unit) -> int:
    """The highest role rank the person holds on this unit or any unit above it (0 for none)."""
    if not person.is_authenticated or not person.is_active:
        return 0
    if person.is_superuser:
        return max(ROLE_RANK.values())
    assert isinstance(person, Person)
    return max((rank for path, rank in _role_paths(person) if unit.path.startswith(path)), default=0)


def role_on(person: Person | AnonymousUser, unit: Unit) -> RoleName | None:
    rank = rank_on(person, unit)
    return next((RoleName(name) for name, r in ROLE_RANK.items() if r == rank), None)


def may(person: Person | AnonymousUser, action: Action | str, unit: Unit) -> bool:
    """May this person do this action on this unit? Roles apply to the unit and everything below it."""
    return rank_on(person, unit) >= ROLE_RANK[MIN_ROLE[Action(action)]]


def require(person: Person | AnonymousUser, action: Action | str, unit: Unit) -> None:
    """Raise PermissionDenied unless ``may`` says yes."""
    if not may(person, action, unit):
        raise PermissionDenied(_("This needs the %(role)s role or above on %(unit)s.")
                               % {"role": RoleName(MIN_ROLE[Action(action)]).label, "unit": unit.name})


def units_where(person: Person | AnonymousUser, action: Action | str) -> QuerySet[Unit]:
    """Every unit on which the person may do this action."""
    if not person.is_authenticated or not person.is_active:
        return Unit.objects.none()
    if person.is_superuser:
        return Unit.objects.all()
    assert isinstance(person, Person)
    needed = ROLE_RANK[MIN_ROLE[Action(action)]]
    paths = [path for path, rank in _role_paths(person) if rank >= needed]
    if not paths:
        return Unit.objects.none()
    query = Q()
    for path in paths:
        query |= Q(path__startswith=path)
    return Unit.objects.filter(query)


def paths_where(person: Person | AnonymousUser, action: Action | str) -> list[str] | None:
    """The unit paths at and below which the person may do the action (None: everywhere)."""
    if person.is_authenticated and person.is_active and person.is_superuser:
        return None
    if not person.is_authenticated or not person.is_active:
        return []
    assert isinstance(person, Person)
    needed = ROLE_RANK[MIN_ROLE[Action(action)]]
    return [path for path, rank in _role_paths(person) if rank >= needed]


def path_filter(person: Person | AnonymousUser, action: Action | str, field: str) -> Q | None:
    """A Q matching rows whose ``field`` (a unit path) lies where the person may do the action; None = all."""
    paths = paths_where(person, action)
    if paths is None:
        return None
    query = Q(pk__in=[])
    for path in paths:
        query |= Q(**{f"{field}__startswith": path})
    return query
