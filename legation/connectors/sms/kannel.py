"""SMS through a Kannel gateway (a mission's own gateway on a local operator's SMSC or a GSM modem).

Out: Kannel's HTTP ``sendsms`` interface, through :mod:`legation.connectors.http`. In: Kannel's
``sms-service`` calls our webhook with ``get-url``; Kannel cannot sign requests, so the URL carries a shared
secret that is compared in constant time. Delivery reports come back to a ``dlr-url`` in the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import requests
from pydantic import Field, field_validator

from legation.connectors import http
from legation.connectors.base import (
    Capability,
    ConnectorError,
    Delivered,
    InboundItem,
    Provider,
    ProviderConfig,
    TextCount,
    TextLimits,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from legation.connectors.limits import count_sms, sms_segments
from legation.connectors.sms.common import (
    DEFAULT_MAX_SEGMENTS,
    SMS_LIMITS,
    DeliveryReport,
    check_sms_text,
    config_number,
    normalise_number,
)

PLATFORM = "kannel"
# Kannel's DLR types (the dlr-mask bits): what each %d value in a delivery report means.
DLR_STATUS = {1: "delivered", 2: "undelivered", 4: "queued", 8: "sent", 16: "failed"}
DLR_MASK = 1 | 2 | 4 | 8 | 16
# The get-url to configure in Kannel's sms-service; %-codes are Kannel's escapes.
GET_URL_QUERY = "from=%p&to=%P&text=%b&coding=%c&charset=%C&id=%I&ts=%T&smsc=%i"
# Kannel's sendsms answers are short status lines; anything bigger is not Kannel.
MAX_ANSWER_BYTES = 64 * 1024


class KannelConfig(ProviderConfig):
    """Where the gateway's sendsms interface is and how to address messages."""

    sendsms_url: str = Field(description="e.g. http://kannel.mission.lan:13013/cgi-bin/sendsms")
    from_number: str | None = None
    smsc_id: str | None = None
    # Legation's delivery-report URL for this account; empty for no delivery reports.
    dlr_url: str | None = None
    max_segments: int = Field(default=DEFAULT_MAX_SEGMENTS, ge=1, le=10)
    timeout: float = Field(default=15.0, gt=0, le=120)

    @field_validator("sendsms_url", "dlr_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("from_number")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        # Kannel also takes alphanumeric senders ("EMBASSY"), so only clean up what looks like a number.
        if value and value.lstrip("+").replace(" ", "").isdecimal():
            return config_number(value)
        return value


def _query_bytes(request: WebhookRequest) -> dict[str, bytes]:
    """The request's query parameters as raw bytes (Kannel may send UCS-2 text url-encoded)."""
    query = urlsplit(request.url).query
    if query:
        return {
            k: v.encode("latin-1") for k, v in parse_qsl(query, keep_blank_values=True, encoding="latin-1")
        }
    return {k: v.encode("utf-8") for k, v in request.query.items()}


def _decode_text(data: bytes, coding: str, charset: str) -> str:
    """The SMS text from Kannel's ``%b``: UTF-16BE for UCS-2 (coding 2), else the charset Kannel names."""
    if coding == "1":  # 8-bit binary data: not text a person wrote
        return data.hex()
    name = charset or ("UTF-16BE" if coding == "2" else "UTF-8")
    try:
        return data.decode(name, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


class KannelProvider(Provider):
    """Send SMS through Kannel's sendsms interface and receive them from its sms-service."""

    key: ClassVar[str] = "kannel"
    name: ClassVar[str] = "SMS (Kannel gateway)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SEND_MESSAGE, Capability.WEBHOOK})
    config_model: ClassVar[type[ProviderConfig]] = KannelConfig
    credential_fields: ClassVar[tuple[str, ...]] = ("username", "password", "webhook_secret")
    limits: ClassVar[TextLimits] = SMS_LIMITS

    config: KannelConfig

    def __init__(self, config: Mapping[str, Any] | ProviderConfig | None, credentials: Mapping[str, str]):
        super().__init__(config, credentials)
        # No automatic resend: a sendsms that timed out may have been queued, and a resend texts twice.
        self._session = http.guarded_session(
            timeout=(http.CONNECT_TIMEOUT, self.config.timeout),
            retry=http.NO_RETRY,
            max_bytes=MAX_ANSWER_BYTES,
        )

    @classmethod
    def count_text(cls, text: str) -> TextCount:
        return count_sms(text, DEFAULT_MAX_SEGMENTS)

    def _redact(self, text: str) -> str:
        """Error text without the sendsms password (it travels in the URL, so errors may quote it)."""
        password = self.credentials.get("password", "")
        if password:
            for form in {
                password,
                quote(password, safe=""),
                quote(password),
                quote(password).replace("%20", "+"),
            }:
                text = text.replace(form, "***")
        return text

    # -- sending -------------------------------------------------------------------------------------------

    def send_message(self, recipient_id: str, text: str, *, idempotency_key: str | None = None) -> Delivered:
        """Hand one SMS to Kannel; the external id is ours (Kannel's sendsms does not return one)."""
        to = normalise_number(recipient_id)
        check_sms_text(text, self.config.max_segments)
        gsm = sms_segments(text).encoding == "GSM-7"
        message_id = (
            hashlib.sha256(idempotency_key.encode()).hexdigest()[:32] if idempotency_key else uuid.uuid4().hex
        )
        params: dict[str, str] = {
            "username": self.credential("username"),
            "password": self.credential("password"),
            "to": to,
            "text": text,
            "charset": "UTF-8",
            # 0 = GSM 7-bit, 2 = UCS-2; Kannel converts from UTF-8 to the coding given.
            "coding": "0" if gsm else "2",
        }
        if self.config.from_number:
            params["from"] = self.config.from_number
        if self.config.smsc_id:
            params["smsc"] = self.config.smsc_id
        if self.config.dlr_url:
            params["dlr-mask"] = str(DLR_MASK)
            params["dlr-url"] = self._dlr_url(message_id)
        try:
            response = http.request(
                "GET",
                self.config.sendsms_url,
                session=self._session,
                params=params,
                max_bytes=MAX_ANSWER_BYTES,
                ok_statuses=frozenset(range(400, 600)),
                what="Kannel sendsms",
            )
        except ConnectorError as exc:
            exc.message = self._redact(exc.message)
            exc.args = (exc.message,)
            raise
        except requests.RequestException as exc:  # pragma: no cover - http.request maps these already
            raise ConnectorError(self._redact(f"Kannel sendsms failed: {exc}")) from exc
        answer = response.content.decode("utf-8", errors="replace").strip()
        status = response.status_code
        if status in (200, 202):
            count = count_sms(text, self.config.max_segments)
            return Delivered(
                external_id=message_id,
                raw={"answer": answer, "segments": count.used, "detail": count.detail},
            )
        message = f"Kannel refused the SMS (HTTP {status}): {answer[:200]}"
        if status in (401, 403):
            raise ConnectorError(
                message + " - check the sendsms-user name and password", permanent=True, status=status
            )
        if status >= 500:
            # "Sending failed" and friends: the gateway or its SMSC is down; the message was not queued.
            raise ConnectorError(message, status=status)
        raise ConnectorError(message, permanent=True, status=status)

    def _dlr_url(self, message_id: str) -> str:
        base = self.config.dlr_url or ""
        secret = self.credential("webhook_secret")
        # Kannel fills %d (the DLR type), %A (the SMSC's answer) and %T (time); the rest is ours.
        ours = urlencode({"secret": secret, "id": message_id})
        return f"{base}{'&' if '?' in base else '?'}{ours}&status=%d&answer=%A&ts=%T"

    # -- receiving -----------------------------------------------------------------------------------------

    def get_url(self, webhook_url: str) -> str:
        """The ``get-url`` to put in Kannel's sms-service group for this account's webhook URL."""
        secret = quote(self.credential("webhook_secret"), safe="")
        return f"{webhook_url}{'&' if '?' in webhook_url else '?'}secret={secret}&{GET_URL_QUERY}"

    def _verify(self, request: WebhookRequest) -> dict[str, bytes]:
        if request.method.upper() not in ("GET", "POST"):
            raise WebhookRejected("Kannel calls with GET (get-url) or POST (post-url)", status=405)
        params = _query_bytes(request)
        given = params.get("secret", b"")
        expected = self.credential("webhook_secret").encode()
        if not given:
            raise WebhookRejected("the request carries no secret")
        if not hmac.compare_digest(given, expected):
            raise WebhookRejected("the request's secret does not match this account")
        return params

    def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """An SMS Kannel received (the sms-service get-url), after checking the shared secret."""
        params = self._verify(request)
        sender = params.get("from", b"").decode("utf-8", errors="replace").strip()
        if not sender:
            raise WebhookRejected("the request carries no sender ('from')", status=400)
        coding = params.get("coding", b"0").decode("ascii", errors="replace")
        charset = params.get("charset", b"").decode("ascii", errors="replace")
        text = _decode_text(params.get("text", b""), coding, charset)
        receiver = params.get("to", b"").decode("utf-8", errors="replace")
        created_at: datetime | None = None
        stamp = params.get("ts", b"").decode("ascii", errors="replace")
        if stamp.isdecimal():
            try:
                created_at = datetime.fromtimestamp(int(stamp), UTC)
            except (ValueError, OverflowError, OSError):  # a time no calendar holds: received now, not refused
                created_at = None
        kannel_id = params.get("id", b"").decode("ascii", errors="replace").strip()
        # Without Kannel's message UUID the content is the identity, so a repeated call is still stored once.
        external_id = (
            kannel_id
            or hashlib.sha256(
                b"\0".join([sender.encode(), receiver.encode(), stamp.encode(), text.encode()])
            ).hexdigest()[:32]
        )
        item = InboundItem(
            platform=PLATFORM,
            external_id=external_id,
            kind="sms",
            text=text,
            author_id=sender,
            created_at=created_at,
            conversation_id=sender,
            raw={
                "to": receiver,
                "coding": coding,
                "charset": charset,
                "smsc": params.get("smsc", b"").decode("utf-8", errors="replace"),
            },
        )
        # An empty answer: with max-messages = 0 Kannel sends nothing back to the citizen.
        return WebhookResult(items=[item], response_body="", delivery_id=external_id)

    def parse_delivery_report(self, request: WebhookRequest) -> DeliveryReport:
        """A delivery report Kannel sent to the ``dlr-url`` of a message we sent."""
        params = self._verify(request)
        message_id = params.get("id", b"").decode("ascii", errors="replace")
        raw_status = params.get("status", b"").decode("ascii", errors="replace")
        if not message_id or not raw_status.isdecimal():
            raise WebhookRejected("a delivery report needs 'id' and a numeric 'status'", status=400)
        status = DLR_STATUS.get(int(raw_status), f"unknown ({raw_status})")
        answer = params.get("answer", b"").decode("utf-8", errors="replace")
        failed = status in ("undelivered", "failed")
        return DeliveryReport(
            external_id=message_id,
            status=status,
            error_message=answer if failed and answer else None,
            raw={"answer": answer, "dlr_type": int(raw_status)},
        )
