"""What the SMS providers (Twilio, Kannel) share: counting in segments, phone numbers, delivery reports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from legation.connectors.base import ConnectorError, TextCount, TextLimits
from legation.connectors.limits import count_sms

# Carriers reassemble up to 10 parts reliably; longer texts arrive broken or cost a fortune in a crisis.
DEFAULT_MAX_SEGMENTS = 10
SMS_LIMITS = TextLimits(max_length=DEFAULT_MAX_SEGMENTS, unit="segments", max_media=0)

_E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_number(number: str) -> str:
    """``+44 20 7946-0000`` -> ``+442079460000``; refuses anything that is not an E.164 number."""
    cleaned = re.sub(r"[\s\-().]", "", number or "")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not _E164_RE.match(cleaned):
        raise ConnectorError(
            f"'{number}' is not a phone number in international format (+ country code, then the number)",
            permanent=True,
        )
    return cleaned


def config_number(number: str) -> str:
    """:func:`normalise_number` for a config validator: pydantic reports a ValueError against the field."""
    try:
        return normalise_number(number)
    except ConnectorError as exc:
        raise ValueError(exc.message) from exc


def check_sms_text(text: str, max_segments: int) -> TextCount:
    """Count ``text`` in SMS parts and refuse it, permanently, when it needs more than ``max_segments``."""
    if not text.strip():
        raise ConnectorError("an SMS needs some text", permanent=True)
    count = count_sms(text, max_segments)
    if count.over:
        raise ConnectorError(
            f"the text needs {count.used} SMS parts, more than the {max_segments} allowed ({count.detail})",
            permanent=True,
        )
    return count


@dataclass(frozen=True)
class DeliveryReport:
    """What the network says became of a message we sent (a status callback or a DLR)."""

    external_id: str
    status: str  # "queued", "sent", "delivered", "undelivered", "failed", ...
    error_code: str | None = None
    error_message: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.status in ("delivered", "undelivered", "failed", "read", "canceled")
