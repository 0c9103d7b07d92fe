from __future__ import annotations

import pytest

from legation.network import services as network
from legation.sandbox import services as sandbox


@pytest.fixture
def hq_admin2(tree, alice):
    return network.create_person(alice, unit=tree.ministry, username="hq-admin2", role="admin",
                                 email="admin2@mfa.example")


@pytest.fixture
def paris_accounts(tree, alice, hq_admin2):
    """Two sandbox accounts of the Paris embassy, connected to the sandbox network."""
    accounts = []
    for handle in ("@VeridiaFR", "@VeridiaFRConsular"):
        account = network.register_account(alice, unit=tree.paris, platform="sandbox", handle=handle)
        network.approve_account(hq_admin2, account)
        sandbox.connect_official_account(alice, account)
        account.refresh_from_db()
        accounts.append(account)
    return accounts


@pytest.fixture
def editor(tree, alice):
    return network.create_person(alice, unit=tree.paris, username="eve", role="editor", email="eve@mfa.example")


@pytest.fixture
def paris_approver(tree, alice):
    return network.create_person(alice, unit=tree.paris, username="pam", role="approver")


@pytest.fixture
def hq_approver(tree, alice):
    return network.create_person(alice, unit=tree.ministry, username="hal", role="approver")
