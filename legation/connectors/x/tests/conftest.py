"""A local X API: pytest-httpserver answers on loopback as api.x.com does, from the JSON fixtures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from legation.connectors.http import RetryPolicy
from legation.connectors.x.provider import XProvider

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ME = "1450000000000000001"
CREDENTIALS = {
    "access_token": "old-access-token",
    "refresh_token": "old-refresh-token",
    "client_id": "client-id",
    "client_secret": "client-secret",
    "consumer_secret": "consumer-secret",
}


def fixture(name: str) -> Any:
    """One documented X response or event, parsed."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


class Sleeps:
    """Stands in for time.sleep in the retry policy: instant, and records each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_provider(httpserver: HTTPServer, allow_loopback: None, sleeps: Sleeps) -> Iterator[Any]:
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
