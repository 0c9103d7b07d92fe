"""A local Graph API: pytest-httpserver answers on loopback as graph.facebook.com does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from legation.connectors.facebook.instagram import InstagramProvider
from legation.connectors.facebook.provider import FacebookProvider
from legation.connectors.http import RetryPolicy
from legation.connectors.testing import SleepRecorder, fixtures_dir, json_fixtures

PAGE = "104000000000001"
IG_USER = "17841400000000001"
CREDENTIALS = {
    "page_access_token": "EAAGpage-old",
    "user_access_token": "EAAGuser-old",
    "app_id": "1517776481860111",
    "app_secret": "app-secret-for-signatures",
    "verify_token": "legation-verify-7f3a",
}


# One documented Graph API answer or webhook event, parsed.
fixture = json_fixtures(fixtures_dir(__file__))


def graph(path: str) -> str:
    return f"/v23.0/{path}"


@pytest.fixture
def make_facebook(
    httpserver: HTTPServer, allow_loopback: None, sleeps: SleepRecorder
) -> Callable[..., FacebookProvider]:
    def make(credentials: dict[str, str] | None = None, **config: Any) -> FacebookProvider:
        settings = {"graph_base_url": httpserver.url_for("/").rstrip("/"), "page_id": PAGE, **config}
        provider = FacebookProvider(settings, credentials or CREDENTIALS)
        provider.retry_policy = RetryPolicy(attempts=3, sleep=sleeps)
        return provider

    return make


@pytest.fixture
def facebook(make_facebook: Callable[..., FacebookProvider]) -> FacebookProvider:
    return make_facebook()


@pytest.fixture
def instagram(httpserver: HTTPServer, allow_loopback: None, sleeps: SleepRecorder) -> InstagramProvider:
    settings = {"graph_base_url": httpserver.url_for("/").rstrip("/"), "page_id": PAGE, "ig_user_id": IG_USER}
    provider = InstagramProvider(settings, CREDENTIALS)
    provider.retry_policy = RetryPolicy(attempts=3, sleep=sleeps)
    provider.media_url_for = lambda media: f"https://media.legation.example/{media.filename}.png"
    return provider
