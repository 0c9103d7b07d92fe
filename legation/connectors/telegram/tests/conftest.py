"""A local Telegram Bot API: pytest-httpserver answers on loopback as api.telegram.org does."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from legation.connectors.http import RetryPolicy
from legation.connectors.telegram.provider import TelegramProvider

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CREDENTIALS = {"bot_token": TOKEN, "webhook_secret": "s3cr3t-token_for-webhooks"}
CHANNEL = "-1001234567890"


def fixture(name: str) -> Any:
    """One documented Bot API answer or Update, parsed."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def method(name: str) -> str:
    """The path of a Bot API method on the local server."""
    return f"/bot{TOKEN}/{name}"


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_provider(
    httpserver: HTTPServer, allow_loopback: None, sleeps: Sleeps
) -> Callable[..., TelegramProvider]:
    def make(credentials: dict[str, str] | None = None, **config: Any) -> TelegramProvider:
        settings = {"api_base_url": httpserver.url_for("/").rstrip("/"), "channel_id": CHANNEL, **config}
        provider = TelegramProvider(settings, credentials or CREDENTIALS)
        provider.retry_policy = RetryPolicy(attempts=3, sleep=sleeps)
        return provider

    return make


@pytest.fixture
def provider(make_provider: Callable[..., TelegramProvider]) -> TelegramProvider:
    return make_provider()
