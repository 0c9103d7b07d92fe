"""Machine translation of a post's source text into a variant: pluggable, off by default.

The one provider today is an HTTP API shaped like LibreTranslate's ``POST /translate`` (self-hostable, so texts
stay on the ministry's servers). Set ``LEGATION_TRANSLATE_URL`` (and ``LEGATION_TRANSLATE_API_KEY`` if the server
wants one) to switch it on. A machine translation is marked as such on the variant.
"""

from __future__ import annotations

import os

from django.utils.translation import gettext as _

from legation.connectors import http
from legation.connectors.base import ConnectorError


class TranslationUnavailable(Exception):
    pass


def enabled() -> bool:
    return bool(os.environ.get("LEGATION_TRANSLATE_URL"))


def translate(text: str, source: str, target: str) -> str:
    """Translate ``text`` from ``source`` to ``target`` language (ISO 639-1)."""
    base = os.environ.get("LEGATION_TRANSLATE_URL", "").rstrip("/")
    if not base:
        raise TranslationUnavailable(_("machine translation is off (set LEGATION_TRANSLATE_URL)"))
    payload = {"q": text, "source": source, "target": target, "format": "text"}
    key = os.environ.get("LEGATION_TRANSLATE_API_KEY")
    if key:
        payload["api_key"] = key
    try:
        answer = http.post_json(f"{base}/translate", payload, what="translation")
    except ConnectorError as exc:
        raise TranslationUnavailable(_("the translation service failed: %(error)s") % {"error": exc.message}) from exc
    translated = answer.get("translatedText") if isinstance(answer, dict) else None
    if not isinstance(translated, str) or not translated.strip():
        raise TranslationUnavailable(_("the translation service answered without a translation"))
    return translated
