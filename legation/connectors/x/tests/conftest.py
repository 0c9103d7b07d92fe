"""A local X API: pytest-httpserver answers on loopback as api.x.com does, from the JSON fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from legation.connectors.http import RetryPolicy
from legation.connectors.testing import SleepRecorder, fixtures_dir, json_fixtures
from legation.connectors.x.provider import XProvider

ME = "1450000000000000001"
CREDENTIALS = {
    "access_token": "old-access-token",
    "refresh_token": "old-refresh-token",
    "client_id": "client-id",
    "client_secret": "client-secret",
    "consumer_secret": "consumer-secret",
}


# One documented X response or event, parsed.
fixture = json_fixtures(fixtures_dir(__file__))


@pytest.fixture
def make_provider(httpserver: HTTPServer, allow_loopback: None, sleeps: SleepRecorder) -> Iterator[Any]:
    def make(credentials: dict[str, str] | None = None, **config: Any) -> XProvider:
        settings = {
            "api_base_url": httpserver.url_for("/").rstrip("/"),
            "user_id": ME,
            "username": "ExampliaLisbon",
            **config,
        }
        provider = XProvider(settings, credentials or CREDENTIALS)
        provider.retry_policy = RetryPolicy(attempts=3, sleep=sleeps)
        return provider

    yield make


@pytest.fixture
def provider(make_provider: Any) -> XProvider:
    return make_provider()
