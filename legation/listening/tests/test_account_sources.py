"""An "account" source listens to another account's posts (a ministry, a journalist), not to our own."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from legation.listening import services
from legation.listening.models import ListenedItem
from legation.listening.pull import pull_source
from legation.network import services as network
from legation.sandbox import services as sandbox


@pytest.fixture
def embassy(tree, alice):
    second = network.create_person(alice, unit=tree.ministry, username="dora", role="admin",
                                   email="dora@mfa.example")
    account = network.register_account(alice, unit=tree.paris, platform="sandbox", handle="@VeridiaFR")
    network.approve_account(second, account)
    sandbox.connect_official_account(alice, account)
    account.refresh_from_db()
    return account


def test_an_account_source_reads_that_accounts_posts_and_resumes(tree, bob, embassy):
    ministry = sandbox.join("@NorlandMFA")
    other = sandbox.join("@someone")
    sandbox.post(ministry, "Statement on the border talks with Veridia")
    sandbox.post(other, "@NorlandMFA what about the border?")  # mentions it, but is not its post
    from legation.sandbox.models import Member
    sandbox.post(Member.objects.get(handle="@VeridiaFR"), "Our own post")
    source = services.create_source(bob, unit=tree.paris, name="Norland MFA", kind="account", platform="sandbox",
                                    query="@NorlandMFA", account=embassy)

    assert pull_source(source).stored == 1
    assert list(ListenedItem.objects.values_list("text", "author")) == [
        ("Statement on the border talks with Veridia", "@NorlandMFA")]
    sandbox.post(ministry, "Second statement")
    source.refresh_from_db()
    assert pull_source(source).stored == 1
    source.refresh_from_db()
    assert pull_source(source).stored == 0
    assert ListenedItem.objects.count() == 2


def test_an_unknown_account_pauses_the_source_with_the_reason(tree, bob, embassy):
    source = services.create_source(bob, unit=tree.paris, name="Ghost", kind="account", platform="sandbox",
                                    query="@nobody_here", account=embassy)
    pull_source(source)
    source.refresh_from_db()
    assert source.last_error == "sandbox: no member @nobody_here" and not source.active


def test_a_platform_that_cannot_read_other_accounts_is_refused_at_set_up(tree, bob):
    with pytest.raises(ValidationError) as refused:
        services.create_source(bob, unit=tree.paris, name="Feed", kind="account", platform="rss",
                               query="@someone")
    assert refused.value.message_dict["kind"] == [
        "RSS / Atom feed cannot read another account's posts through Legation: listen to its mentions with a "
        "keyword query instead, or choose another platform"]
