"""Machine translation is off by default, and through a LibreTranslate-shaped server when configured."""

from __future__ import annotations

import json

import pytest

from legation.connectors.http import allow_private_hosts
from legation.publishing import translation


def test_off_by_default(monkeypatch):
    monkeypatch.delenv("LEGATION_TRANSLATE_URL", raising=False)
    assert not translation.enabled()
    with pytest.raises(translation.TranslationUnavailable, match="off"):
        translation.translate("Bonjour", "fr", "en")


def test_translates_through_the_configured_server(httpserver, monkeypatch):
    def answer(request):
        from werkzeug import Response

        body = json.loads(request.data)
        assert body == {"q": "Bonjour à tous", "source": "fr", "target": "en", "format": "text", "api_key": "k"}
        return Response(json.dumps({"translatedText": "Hello everyone"}), content_type="application/json")

    httpserver.expect_request("/translate", method="POST").respond_with_handler(answer)
    monkeypatch.setenv("LEGATION_TRANSLATE_URL", httpserver.url_for("/"))
    monkeypatch.setenv("LEGATION_TRANSLATE_API_KEY", "k")
    with allow_private_hosts("127.0.0.1", "localhost"):
        assert translation.translate("Bonjour à tous", "fr", "en") == "Hello everyone"


def test_a_failing_server_is_a_clear_error(httpserver, monkeypatch):
    httpserver.expect_request("/translate", method="POST").respond_with_data("boom", status=400)
    monkeypatch.setenv("LEGATION_TRANSLATE_URL", httpserver.url_for("/"))
    with allow_private_hosts("127.0.0.1", "localhost"), pytest.raises(translation.TranslationUnavailable):
        translation.translate("Bonjour", "fr", "en")


def test_loopback_is_refused_without_the_explicit_setting(httpserver, monkeypatch):
    monkeypatch.setenv("LEGATION_TRANSLATE_URL", httpserver.url_for("/"))
    monkeypatch.setenv("LEGATION_ALLOW_PRIVATE_HOSTS", "")
    with pytest.raises(translation.TranslationUnavailable, match="private|loopback|refus"):
        translation.translate("Bonjour", "fr", "en")
