"""Publishing's permission matrix: every role × draft, publish, clear × own unit, below, sibling and above."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from legation.network import services as network
from legation.network.models import ROLE_RANK, RoleName
from legation.publishing import services
from legation.publishing.services import VariantInput
from legation.sandbox import services as sandbox


@pytest.fixture
def accounts(tree, alice, hq_admin2):
    """One active sandbox account on each unit of the matrix."""
    made = {}
    for place, unit in (("own", tree.europe), ("below", tree.paris), ("sibling", tree.asia),
                        ("above", tree.ministry)):
        account = network.register_account(alice, unit=unit, platform="sandbox", handle=f"@matrix_{place}")
        network.approve_account(hq_admin2, account)
        sandbox.connect_official_account(alice, account)
        made[place] = (unit, account)
    return made


@pytest.mark.parametrize("role", RoleName.values)
def test_publishing_actions_follow_role_and_tree(tree, alice, accounts, role):
    persona = network.create_person(alice, unit=tree.europe, username=f"p-{role}", role=role)
    rank = ROLE_RANK[role]
    for place, (unit, account) in accounts.items():
        inside = place in ("own", "below")
        # draft
        try:
            post = services.create_post(persona, unit=unit, source_language="en",
                                        variants=[VariantInput("en", f"Matrix {role} {place}")],
                                        targets=[(account, "en")])
            drafted = True
        except PermissionDenied:
            drafted = False
        assert drafted == (inside and rank >= ROLE_RANK["editor"]), (role, place, "draft")
        # publish: a publisher's own post is released without anyone else; an editor's waits for a publisher
        if drafted:
            post = services.submit(persona, post)
            released = post.status == "publishing"
            assert released == (rank >= ROLE_RANK["publisher"]), (role, place, "publish")
        # clear someone else's post
        author_post = services.submit(alice, services.create_post(
            alice, unit=unit, source_language="en", variants=[VariantInput("en", f"By alice {role} {place}")],
            targets=[(account, "en")]))
        assert author_post.status == "publishing"  # alice is an admin: nothing to clear
        editor = network.create_person(alice, unit=unit, username=f"ed-{role}-{place}", role="editor")
        waiting = services.submit(editor, services.create_post(
            editor, unit=unit, source_language="en", variants=[VariantInput("en", f"By editor {role} {place}")],
            targets=[(account, "en")]))
        (clearance,) = services.pending_clearances(waiting)
        try:
            services.clear(persona, clearance)
            cleared = True
        except PermissionDenied:
            cleared = False
        assert cleared == (inside and rank >= ROLE_RANK["publisher"]), (role, place, "clear")
