"""The permission matrix: every role × every service action × own unit, a unit below, a sibling and a unit above."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from legation.network import services
from legation.network.models import ROLE_RANK, OfficialAccount, Role, RoleName, UnitKind
from legation.network.permissions import MIN_ROLE, Action, may
from legation.records.models import Record
from legation.records.queries import visible_records

ROLES = list(RoleName.values)
PLACES = ["own", "below", "sibling", "above"]


def _targets(tree: Any) -> dict[str, Any]:
    # The persona holds their role on Europe: Paris is below, Asia a sibling, the ministry above.
    return {"own": tree.europe, "below": tree.paris, "sibling": tree.asia, "above": tree.ministry}


_counter = itertools.count()


def _pending_account(alice: Any, unit: Any) -> OfficialAccount:
    return services.register_account(alice, unit=unit, platform="sandbox", handle=f"@acct{next(_counter)}")


def _active_account(alice: Any, approver: Any, unit: Any) -> OfficialAccount:
    account = _pending_account(alice, unit)
    return services.approve_account(approver, account)


# Each service action, called as a user would, on the target unit.
def _calls(alice: Any, approver: Any) -> dict[Action, Callable[[Any, Any], Any]]:
    def n() -> int:
        return next(_counter)

    return {
        Action.UNIT_CREATE: lambda actor, unit: services.create_unit(
            actor, parent=unit, name=f"Unit {n()}", kind=UnitKind.CONSULATE),
        Action.UNIT_UPDATE: lambda actor, unit: services.update_unit(actor, unit, name=f"{unit.name} {n()}"),
        Action.UNIT_SECURITY: lambda actor, unit: services.set_unit_2fa(actor, unit, True),
        Action.PEOPLE_MANAGE: lambda actor, unit: services.create_person(
            actor, unit=unit, username=f"person{n()}", role="viewer"),
        Action.ACCOUNT_REGISTER: lambda actor, unit: services.register_account(
            actor, unit=unit, platform="sandbox", handle=f"@new{n()}"),
        Action.ACCOUNT_APPROVE: lambda actor, unit: services.approve_account(actor, _pending_account(alice, unit)),
        Action.ACCOUNT_MANAGE: lambda actor, unit: services.handover_account(
            actor, _active_account(alice, approver, unit), to_holder=None, note="rotation"),
        Action.ACCOUNT_LOCK: lambda actor, unit: services.lock_account(
            actor, _active_account(alice, approver, unit), reason="compromised"),
    }


@pytest.fixture
def approver(tree, alice):
    return services.create_person(alice, unit=tree.ministry, username="second-admin", role="admin")


@pytest.mark.parametrize("role", ROLES)
def test_every_service_action_is_allowed_exactly_where_the_role_reaches(tree, alice, approver, role):
    persona = services.create_person(alice, unit=tree.europe, username=f"persona-{role}", role=role)
    calls = _calls(alice, approver)
    targets = _targets(tree)
    outcomes = []
    for (action, call), place in itertools.product(calls.items(), PLACES):
        unit = targets[place]
        expected = place in ("own", "below") and ROLE_RANK[role] >= ROLE_RANK[MIN_ROLE[action]]
        assert may(persona, action, unit) == expected, (action, place)
        before = Record.objects.filter(actor_id=persona.pk).count()
        try:
            with transaction.atomic():
                call(persona, unit)
            allowed = True
        except PermissionDenied:
            allowed = False
        after = Record.objects.filter(actor_id=persona.pk).count()
        outcomes.append((action.value, place, allowed, expected))
        # A refused action leaves nothing behind; an allowed one is on the ledger.
        assert (after > before) == allowed, (action, place)
    wrong = [(a, p, got) for a, p, got, want in outcomes if got != want]
    assert wrong == [], f"{role}: unexpected outcomes {wrong}"


@pytest.mark.parametrize("role", ROLES)
def test_reading_follows_the_tree(tree, alice, role):
    persona = services.create_person(alice, unit=tree.europe, username=f"reader-{role}", role=role)
    for place, unit in _targets(tree).items():
        expected = place in ("own", "below")
        for action in (Action.UNIT_VIEW, Action.ACCOUNT_VIEW, Action.LEDGER_VIEW, Action.PEOPLE_VIEW):
            assert may(persona, action, unit) == expected, (action, place)
        seen = visible_records(persona).filter(unit_id=unit.pk).exists()
        assert seen == expected, place


@pytest.mark.parametrize("role", ROLES)
def test_publishing_actions_need_the_right_rank(tree, alice, role):
    persona = services.create_person(alice, unit=tree.paris, username=f"pub-{role}", role=role)
    rank = ROLE_RANK[role]
    assert may(persona, Action.POST_DRAFT, tree.paris) == (rank >= ROLE_RANK["editor"])
    assert may(persona, Action.POST_PUBLISH, tree.paris) == (rank >= ROLE_RANK["publisher"])
    assert may(persona, Action.POST_CLEAR, tree.paris) == (rank >= ROLE_RANK["approver"])
    assert not may(persona, Action.POST_DRAFT, tree.berlin)


def test_a_role_higher_up_outranks_a_lower_one_below(tree, alice):
    person = services.create_person(alice, unit=tree.paris, username="dual", role="viewer")
    services.grant_role(alice, person=person, unit=tree.europe, role="publisher")
    assert may(person, Action.POST_PUBLISH, tree.paris)
    assert Role.objects.filter(person=person).count() == 2


def test_the_registrant_cannot_approve_their_own_account(tree, alice):
    account = _pending_account(alice, tree.paris)
    with pytest.raises(PermissionDenied):
        services.approve_account(alice, account)
    account.refresh_from_db()
    assert account.status == "pending"


def test_an_inactive_person_may_do_nothing(tree, alice, bob):
    bob.is_active = False
    bob.save()
    assert not may(bob, Action.UNIT_VIEW, tree.paris)
