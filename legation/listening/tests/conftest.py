from __future__ import annotations

import pytest


@pytest.fixture
def europe_mastodon(tree, alice):
    """The region's Mastodon account, which its missions listen through (a platform's search needs a token)."""
    from legation.network import services

    account = services.register_account(alice, unit=tree.europe, platform="mastodon", handle="@veridia_eu@local",
                                        config={"api_base_url": "https://mastodon.example"})
    services.set_credentials(alice, account, {"access_token": "mastodon-token"})
    return account


@pytest.fixture
def paris_source(tree, alice, europe_mastodon):
    from legation.listening import services

    return services.create_source(alice, unit=tree.paris, name="Paris keywords", kind="keyword",
                                  platform="mastodon", query="veridia", account=europe_mastodon)


@pytest.fixture
def berlin_source(tree, alice, europe_mastodon):
    from legation.listening import services

    return services.create_source(alice, unit=tree.berlin, name="Berlin keywords", kind="keyword",
                                  platform="mastodon", query="veridia", account=europe_mastodon)


def make_posts(texts, platform="mastodon", prefix="p"):
    from legation.listening.ingest import Post

    return [Post(text=t, platform=platform, external_id=f"{prefix}{i}", author="someone", position=i + 1)
            for i, t in enumerate(texts)]
