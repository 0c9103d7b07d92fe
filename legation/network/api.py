"""API endpoints for units, people and roles, and official accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from legation.network import services
from legation.network.models import OfficialAccount, Person, Role, Unit
from legation.network.permissions import Action, path_filter, require, units_where

router = Router(tags=["network"])


class UnitOut(Schema):
    id: int
    name: str
    kind: str
    parent_id: int | None
    path: str
    country: str
    languages: list[str]
    time_zone: str
    require_2fa: bool


class UnitIn(Schema):
    parent_id: int
    name: str = Field(min_length=1, max_length=200)
    kind: str
    country: str = Field("", max_length=2)
    languages: list[str] = []
    time_zone: str = "UTC"


class UnitPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: str | None = None
    country: str | None = Field(None, max_length=2)
    languages: list[str] | None = None
    time_zone: str | None = None
    require_2fa: bool | None = None


class RoleOut(Schema):
    id: int
    person_id: int
    username: str
    unit_id: int
    unit: str
    role: str

    @staticmethod
    def resolve_username(obj: Role) -> str:
        return obj.person.username

    @staticmethod
    def resolve_unit(obj: Role) -> str:
        return obj.unit.name


class RoleIn(Schema):
    person_id: int
    unit_id: int
    role: str


class PersonOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    roles: list[RoleOut]

    @staticmethod
    def resolve_roles(obj: Person) -> list[Role]:
        return list(obj.roles.select_related("unit", "person"))


class PersonIn(Schema):
    unit_id: int
    username: str = Field(min_length=1, max_length=150)
    role: str
    email: str = ""
    display_name: str = ""
    password: str | None = None


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[RoleOut]


class AccountOut(Schema):
    id: int
    platform: str
    handle: str
    display_name: str
    unit_id: int
    position: str
    holder_id: int | None
    status: str
    last_error: str
    created_by_id: int | None
    approved_by_id: int | None
    approved_at: datetime | None
    credentials: list[dict[str, Any]]

    @staticmethod
    def resolve_credentials(obj: OfficialAccount) -> list[dict[str, Any]]:
        # Names and hints only: secrets are never shown back.
        return [{"name": c.name, "hint": c.hint, "updated_at": c.updated_at} for c in obj.credentials.all()]


class AccountIn(Schema):
    unit_id: int
    platform: str
    handle: str = Field(min_length=1, max_length=200)
    display_name: str = ""
    position: str = ""
    config: dict[str, Any] = {}


class CredentialsIn(Schema):
    secrets: dict[str, str]


class HandoverIn(Schema):
    to_holder_id: int | None = None
    note: str = ""


class LockIn(Schema):
    reason: str = Field(min_length=1)


class StatusIn(Schema):
    status: str
    note: str = ""


def _unit(request: HttpRequest, unit_id: int, action: Action = Action.UNIT_VIEW) -> Unit:
    unit = get_object_or_404(Unit, pk=unit_id)
    require(request.user, action, unit)
    return unit


def _account(request: HttpRequest, account_id: int) -> OfficialAccount:
    account = get_object_or_404(OfficialAccount.objects.select_related("unit"), pk=account_id)
    require(request.user, Action.ACCOUNT_VIEW, account.unit)
    return account


def _person(person_id: int | None) -> Person | None:
    return get_object_or_404(Person, pk=person_id) if person_id else None


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> Any:
    person_id: int = request.user.pk  # type: ignore[assignment]
    return {"id": request.user.pk, "username": request.user.get_username(),
            "display_name": getattr(request.user, "display_name", ""),
            "roles": list(Role.objects.filter(person_id=person_id).select_related("unit", "person"))}


@router.get("/units", response=list[UnitOut])
def list_units(request: HttpRequest) -> QuerySet[Unit]:
    return units_where(request.user, Action.UNIT_VIEW).order_by("path")


@router.get("/units/{unit_id}", response=UnitOut)
def get_unit(request: HttpRequest, unit_id: int) -> Unit:
    return _unit(request, unit_id)


@router.post("/units", response={201: UnitOut})
def create_unit(request: HttpRequest, payload: UnitIn) -> Status:
    parent = _unit(request, payload.parent_id)
    data = payload.dict(exclude={"parent_id"})
    return Status(201, services.create_unit(request.user, parent=parent, **data))  # type: ignore[arg-type]


@router.patch("/units/{unit_id}", response=UnitOut)
def update_unit(request: HttpRequest, unit_id: int, payload: UnitPatch) -> Unit:
    unit = _unit(request, unit_id)
    changes = payload.dict(exclude_unset=True)
    require_2fa = changes.pop("require_2fa", None)
    if changes:
        unit = services.update_unit(request.user, unit, **changes)  # type: ignore[arg-type]
    if require_2fa is not None:
        unit = services.set_unit_2fa(request.user, unit, require_2fa)  # type: ignore[arg-type]
    return unit


@router.get("/units/{unit_id}/roles", response=list[RoleOut])
def unit_roles(request: HttpRequest, unit_id: int) -> QuerySet[Role]:
    unit = _unit(request, unit_id, Action.PEOPLE_VIEW)
    return Role.objects.filter(unit__path__startswith=unit.path).select_related("person", "unit")


@router.get("/people", response=list[PersonOut])
def list_people(request: HttpRequest) -> QuerySet[Person]:
    query = path_filter(request.user, Action.PEOPLE_VIEW, "roles__unit__path")
    people = Person.objects.filter(is_active=True)
    return (people.filter(query) if query is not None else people).distinct().order_by("username")


@router.post("/people", response={201: PersonOut})
def create_person(request: HttpRequest, payload: PersonIn) -> Status:
    unit = _unit(request, payload.unit_id)
    data = payload.dict(exclude={"unit_id"})
    return Status(201, services.create_person(request.user, unit=unit, **data))  # type: ignore[arg-type]


@router.post("/roles", response={201: RoleOut})
def grant_role(request: HttpRequest, payload: RoleIn) -> Status:
    unit = _unit(request, payload.unit_id)
    person = get_object_or_404(Person, pk=payload.person_id)
    return Status(201, services.grant_role(request.user, person=person, unit=unit, role=payload.role))  # type: ignore[arg-type]


@router.delete("/roles/{role_id}", response={204: None})
def revoke_role(request: HttpRequest, role_id: int) -> Status:
    role = get_object_or_404(Role.objects.select_related("unit", "person"), pk=role_id)
    require(request.user, Action.PEOPLE_VIEW, role.unit)
    services.revoke_role(request.user, role)  # type: ignore[arg-type]
    return Status(204, None)


@router.get("/accounts", response=list[AccountOut])
def list_accounts(request: HttpRequest, unit_id: int | None = None, platform: str | None = None,
                  status: str | None = None, q: str | None = None) -> QuerySet[OfficialAccount]:
    query = path_filter(request.user, Action.ACCOUNT_VIEW, "unit__path")
    accounts = OfficialAccount.objects.prefetch_related("credentials")
    if query is not None:
        accounts = accounts.filter(query)
    if unit_id is not None:
        accounts = accounts.filter(unit__path__startswith=_unit(request, unit_id).path)
    if platform:
        accounts = accounts.filter(platform=platform)
    if status:
        accounts = accounts.filter(status=status)
    if q:
        accounts = accounts.filter(Q(handle__icontains=q) | Q(display_name__icontains=q))
    return accounts


@router.get("/accounts/{account_id}", response=AccountOut)
def get_account(request: HttpRequest, account_id: int) -> OfficialAccount:
    return _account(request, account_id)


@router.post("/accounts", response={201: AccountOut})
def register_account(request: HttpRequest, payload: AccountIn) -> Status:
    unit = _unit(request, payload.unit_id)
    data = payload.dict(exclude={"unit_id"})
    return Status(201, services.register_account(request.user, unit=unit, **data))  # type: ignore[arg-type]


@router.post("/accounts/{account_id}/approve", response=AccountOut)
def approve_account(request: HttpRequest, account_id: int) -> OfficialAccount:
    return services.approve_account(request.user, _account(request, account_id))  # type: ignore[arg-type]


@router.put("/accounts/{account_id}/credentials", response=AccountOut)
def set_credentials(request: HttpRequest, account_id: int, payload: CredentialsIn) -> OfficialAccount:
    account = _account(request, account_id)
    services.set_credentials(request.user, account, payload.secrets)  # type: ignore[arg-type]
    return account


@router.post("/accounts/{account_id}/handover", response=AccountOut)
def handover_account(request: HttpRequest, account_id: int, payload: HandoverIn) -> OfficialAccount:
    account = _account(request, account_id)
    services.handover_account(request.user, account, to_holder=_person(payload.to_holder_id),  # type: ignore[arg-type]
                              note=payload.note)
    return account


@router.post("/accounts/{account_id}/lock", response=AccountOut)
def lock_account(request: HttpRequest, account_id: int, payload: LockIn) -> OfficialAccount:
    return services.lock_account(request.user, _account(request, account_id), reason=payload.reason)  # type: ignore[arg-type]


@router.post("/accounts/{account_id}/status", response=AccountOut)
def set_status(request: HttpRequest, account_id: int, payload: StatusIn) -> OfficialAccount:
    return services.set_account_status(request.user, _account(request, account_id),  # type: ignore[arg-type]
                                       payload.status, note=payload.note)


