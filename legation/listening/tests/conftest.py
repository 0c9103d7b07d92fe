from __future__ import annotations

import pytest


@pytest.fixture
def paris_source(tree, alice):
    from legation.listening import services

    return services.create_source(alice, unit=tree.paris, name="Paris keywords", kind="keyword",
                                  platform="mastodon", query="veridia")


@pytest.fixture
def berlin_source(tree, alice):
    from legation.listening import services

    return services.create_source(alice, unit=tree.berlin, name="Berlin keywords", kind="keyword",
                                  platform="mastodon", query="veridia")


def make_posts(texts, platform="mastodon", prefix="p"):
    from legation.listening.ingest import Post

    return [Post(text=t, platform=platform, external_id=f"{prefix}{i}", author="someone", position=i + 1)
            for i, t in enumerate(texts)]
