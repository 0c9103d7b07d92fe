"""A local Telegram Bot API: pytest-httpserver answers on loopback as api.telegram.org does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from legation.connectors.http import RetryPolicy
from legation.connectors.telegram.provider import TelegramProvider
from legation.connectors.testing import SleepRecorder, fixtures_dir, json_fixtures

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CREDENTIALS = {"bot_token": TOKEN, "webhook_secret": "s3cr3t-token_for-webhooks"}
CHANNEL = "-1001234567890"


# One documented Bot API answer or Update, parsed.
fixture = json_fixtures(fixtures_dir(__file__))


def method(name: str) -> str:
    """The path of a Bot API method on the local server."""
    return f"/bot{TOKEN}/{name}"


@pytest.fixture
def make_provider(
    httpserver: HTTPServer, allow_loopback: None, sleeps: SleepRecorder
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
