"""SMS through Twilio, with the official ``twilio`` SDK.

The SDK's HTTP goes through :mod:`legation.connectors.http` (timeouts, retries on 429/503 honouring
``Retry-After``, the private-address guard, a size limit) by handing it our own ``HttpClient``; the same
client can point the SDK at another base URL (a test server or an egress proxy). Inbound SMS arrive by
webhook, verified with Twilio's ``RequestValidator`` (``X-Twilio-Signature``), or by pulling the Messages
list with a cursor. The MessageSid is the external id, so a webhook delivered twice is stored once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from pydantic import Field, field_validator, model_validator
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.rest import Client

from legation.connectors import http
from legation.connectors.base import (
    AccountInfo,
    Capability,
    ConnectorError,
    Delivered,
    InboundItem,
    Page,
    Provider,
    ProviderConfig,
    TextCount,
    TextLimits,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from legation.connectors.sms.common import (
    DEFAULT_MAX_SEGMENTS,
    SMS_LIMITS,
    DeliveryReport,
    check_sms_text,
    config_number,
    normalise_number,
)

log = logging.getLogger(__name__)

PLATFORM = "twilio"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Messages that reach Twilio late can carry a DateSent a little before the newest one we read; re-read a
# window this wide behind the cursor and drop the SIDs already seen.
CURSOR_OVERLAP = timedelta(minutes=10)
MAX_SEEN = 500
PAGE_SIZE = 100


class TwilioConfig(ProviderConfig):
    """One Twilio sender: a phone number, or a Messaging Service (which picks the number)."""

    from_number: str | None = None
    messaging_service_sid: str | None = None
    # Where Twilio posts delivery reports for what we send; empty for none.
    status_callback_url: str | None = None
    # The exact public URL Twilio calls for inbound SMS, when the web server sees another (behind a proxy).
    webhook_url: str | None = None
    max_segments: int = Field(default=DEFAULT_MAX_SEGMENTS, ge=1, le=10)
    # How far back the first pull looks when no cursor is stored yet.
    initial_lookback_hours: int = Field(default=24, ge=1, le=24 * 400)
    # Another base URL for the REST API (a test server, an egress proxy); empty means Twilio's own hosts.
    api_base_url: str | None = None
    timeout: float = Field(default=30.0, gt=0, le=120)

    @field_validator("from_number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return config_number(value)

    @model_validator(mode="after")
    def _sender(self) -> TwilioConfig:
        if not self.from_number and not self.messaging_service_sid:
            raise ValueError("set 'from_number' or 'messaging_service_sid'")
        return self


class _LegationHttpClient(TwilioHttpClient):
    """The SDK's HTTP client on a guarded session, optionally re-targeted at another base URL."""

    def __init__(self, base_url: str | None, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.session = http.guarded_session(timeout=(http.CONNECT_TIMEOUT, timeout))
        self.base_url = base_url.rstrip("/") if base_url else None
        self.last_headers: Mapping[str, str] = {}

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        if self.base_url:
            parts = urlsplit(url)
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        response = super().request(method, url, params, data, headers, auth, timeout, allow_redirects)
        self.last_headers = dict(response.headers or {})
        return response


def _parse_cursor(cursor: str | None) -> tuple[datetime | None, dict[str, float]]:
    if not cursor:
        return None, {}
    try:
        data = json.loads(cursor)
        since = datetime.fromtimestamp(float(data["since"]), UTC)
        seen = {str(k): float(v) for k, v in dict(data.get("seen", {})).items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise ConnectorError(f"twilio: the stored cursor is malformed: {cursor!r}", permanent=True) from exc
    return since, seen


class TwilioProvider(Provider):
    """Send and receive SMS through a Twilio number or Messaging Service."""

    key: ClassVar[str] = "twilio"
    name: ClassVar[str] = "SMS (Twilio)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.SEND_MESSAGE, Capability.PULL_MESSAGES, Capability.WEBHOOK}
    )
    config_model: ClassVar[type[ProviderConfig]] = TwilioConfig
    credential_fields: ClassVar[tuple[str, ...]] = ("account_sid", "auth_token")
    limits: ClassVar[TextLimits] = SMS_LIMITS

    config: TwilioConfig

    def __init__(self, config: Mapping[str, Any] | ProviderConfig | None, credentials: Mapping[str, str]):
        super().__init__(config, credentials)
        self._client: Client | None = None
        self._http: _LegationHttpClient | None = None

    @classmethod
    def count_text(cls, text: str) -> TextCount:
        from legation.connectors.limits import count_sms

        return count_sms(text, DEFAULT_MAX_SEGMENTS)

    # -- the SDK -------------------------------------------------------------------------------------------

    @property
    def client(self) -> Client:
        if self._client is None:
            self._http = _LegationHttpClient(self.config.api_base_url, self.config.timeout)
            sid = self.credential("account_sid")
            self._client = Client(sid, self.credential("auth_token"), sid, http_client=self._http)
        return self._client

    def _error(self, exc: Exception, what: str) -> ConnectorError:
        """Map what the SDK raised to a ConnectorError with Twilio's own code and message."""
        found = http.find_connector_error(exc)
        if found is not None:
            return found
        if isinstance(exc, TwilioRestException) or hasattr(exc, "status"):
            status = int(getattr(exc, "status", 0) or 0)
            code = getattr(exc, "code", None)
            text = (
                getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "") or ""
            )
            message = f"Twilio refused to {what}: {text}" + (f" (error {code})" if code else "")
            headers = self._http.last_headers if self._http else {}
            if status == 401:
                # An account SID and auth token do not expire; a 401 means they are wrong or were rotated.
                return ConnectorError(message, permanent=True, status=status)
            if status == 429 or status >= 500:
                return ConnectorError(
                    message, retry_after=http.retry_after_from_headers(headers), status=status
                )
            return ConnectorError(message, permanent=True, status=status)
        if isinstance(exc, ValueError):
            return ConnectorError(f"Twilio's answer to '{what}' could not be read: {exc}")
        if isinstance(exc, TwilioException):
            return ConnectorError(f"Twilio: cannot {what}: {exc}")
        return http.error_for_exception(exc, what=f"Twilio: {what}")

    # -- identity ------------------------------------------------------------------------------------------

    def verify_credentials(self) -> AccountInfo:
        """Fetch the account the credentials belong to."""
        try:
            account = self.client.api.v2010.accounts(self.credential("account_sid")).fetch()
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a ConnectorError
            raise self._error(exc, "check the credentials") from exc
        if account.status and account.status != "active":
            raise ConnectorError(f"the Twilio account is {account.status}", permanent=True)
        return AccountInfo(
            external_id=account.sid or "",
            handle=self.config.from_number or self.config.messaging_service_sid or "",
            display_name=account.friendly_name or "",
        )

    # -- sending -------------------------------------------------------------------------------------------

    def send_message(self, recipient_id: str, text: str) -> Delivered:
        """Send one SMS; refused before any network call when it is too long or the number is malformed."""
        to = normalise_number(recipient_id)
        count = check_sms_text(text, self.config.max_segments)
        kwargs: dict[str, Any] = {"to": to, "body": text}
        if self.config.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.config.messaging_service_sid
        if self.config.from_number:
            kwargs["from_"] = self.config.from_number
        if self.config.status_callback_url:
            kwargs["status_callback"] = self.config.status_callback_url
        try:
            message = self.client.messages.create(**kwargs)
        except ValueError as exc:
            # Twilio may have queued the SMS; sending again could text a citizen twice, so do not retry.
            raise ConnectorError(
                f"Twilio accepted the request but its answer could not be read ({exc}); "
                "check the Twilio console before sending again",
                permanent=True,
            ) from exc
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc, "send the SMS") from exc
        if not message.sid:
            raise ConnectorError("Twilio's answer carried no message SID; check the console", permanent=True)
        return Delivered(
            external_id=message.sid,
            url=None,
            raw={
                "status": message.status,
                "segments": count.used,
                "twilio_segments": message.num_segments,
                "detail": count.detail,
            },
        )

    def delivery_status(self, external_id: str) -> DeliveryReport:
        """Ask Twilio what became of a message we sent."""
        try:
            message = self.client.messages(external_id).fetch()
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc, "fetch the message status") from exc
        return DeliveryReport(
            external_id=external_id,
            status=str(message.status or "unknown"),
            error_code=str(message.error_code) if message.error_code else None,
            error_message=message.error_message,
        )

    # -- pulling -------------------------------------------------------------------------------------------

    def pull_messages(self, cursor: str | None, limit: int = 100) -> Page:
        """Inbound SMS to our number after the cursor, oldest first.

        The cursor is the newest DateSent read plus the SIDs read in the last few minutes before it; Twilio
        lists newest first, so each pull lists everything since a little before the cursor and sorts.
        """
        limit = max(1, limit)
        since, seen = _parse_cursor(cursor)
        if since is None:
            since = datetime.now(UTC) - timedelta(hours=self.config.initial_lookback_hours)
        filters: dict[str, Any] = {"date_sent_after": since - CURSOR_OVERLAP, "page_size": PAGE_SIZE}
        if self.config.from_number:
            filters["to"] = self.config.from_number
        try:
            listed = self.client.messages.list(**filters)
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc, "list messages") from exc
        fresh = []
        for message in listed:
            if message.direction != "inbound" or not message.sid or message.sid in seen:
                continue
            sent = message.date_sent or message.date_created
            if sent is None or (cursor and sent < since - CURSOR_OVERLAP):
                continue
            fresh.append((sent, message.sid, message))
        fresh.sort(key=lambda entry: (entry[0], entry[1]))
        batch = fresh[:limit]
        items = [self._item(message) for _sent, _sid, message in batch]
        newest = max([since, *(sent for sent, _sid, _m in batch)])
        seen.update({sid: sent.timestamp() for sent, sid, _m in batch})
        horizon = (newest - CURSOR_OVERLAP).timestamp()
        kept = sorted(((ts, sid) for sid, ts in seen.items() if ts >= horizon), reverse=True)[:MAX_SEEN]
        new_cursor = json.dumps(
            {"since": newest.timestamp(), "seen": {sid: ts for ts, sid in kept}}, separators=(",", ":")
        )
        return Page(items=items, cursor=new_cursor, has_more=len(fresh) > len(batch))

    def _item(self, message: Any) -> InboundItem:
        sender = str(message.from_ or "")
        return InboundItem(
            platform=PLATFORM,
            external_id=str(message.sid),
            kind="sms",
            text=str(message.body or ""),
            author_id=sender,
            created_at=message.date_sent or message.date_created,
            conversation_id=sender,
            raw={
                "to": message.to,
                "num_media": message.num_media,
                "num_segments": message.num_segments,
                "status": message.status,
            },
        )

    # -- webhooks ------------------------------------------------------------------------------------------

    def _verified_params(self, request: WebhookRequest) -> dict[str, str]:
        if request.method.upper() != "POST":
            raise WebhookRejected("Twilio webhooks are POST requests", status=405)
        signature = request.headers.get("x-twilio-signature")
        if not signature:
            raise WebhookRejected("the request has no X-Twilio-Signature header")
        try:
            pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError as exc:
            raise WebhookRejected("the request body is not UTF-8 form data", status=400) from exc
        params: dict[str, Any] = {}
        for name, value in pairs:
            # Repeated names are signed as every value in order; the validator takes a list for those.
            if name in params:
                existing = params[name]
                params[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
            else:
                params[name] = value
        url = request.url
        if self.config.webhook_url:
            query = urlsplit(request.url).query
            url = self.config.webhook_url + (
                f"?{query}" if query and "?" not in self.config.webhook_url else ""
            )
        algorithm = get_signature_algorithm(request.headers.get("x-twilio-webhooks-signature-settings"))
        validator = RequestValidator(self.credential("auth_token"))
        if not validator.validate(url, params, signature, algorithm):
            raise WebhookRejected("the X-Twilio-Signature does not match this request")
        return {k: (v[-1] if isinstance(v, list) else v) for k, v in params.items()}

    def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """An inbound SMS (or a status callback, acknowledged with no items), after checking its signature."""
        params = self._verified_params(request)
        sid = params.get("MessageSid") or params.get("SmsSid")
        if not sid:
            raise WebhookRejected("the request carries no MessageSid", status=400)
        if "Body" not in params and "MessageStatus" in params:
            return WebhookResult(items=[], response_body="", delivery_id=f"{sid}:{params['MessageStatus']}")
        sender = params.get("From", "")
        if not sender:
            raise WebhookRejected("the request carries no From number", status=400)
        media = [
            params[f"MediaUrl{i}"]
            for i in range(int(params.get("NumMedia", "0") or 0))
            if f"MediaUrl{i}" in params
        ]
        item = InboundItem(
            platform=PLATFORM,
            external_id=sid,
            kind="sms",
            text=params.get("Body", ""),
            author_id=sender,
            created_at=datetime.now(UTC),
            conversation_id=sender,
            raw={
                "to": params.get("To"),
                "from_country": params.get("FromCountry"),
                "from_city": params.get("FromCity"),
                "num_segments": params.get("NumSegments"),
                "media_urls": media,
            },
        )
        return WebhookResult(
            items=[item], response_body=EMPTY_TWIML, response_content_type="text/xml", delivery_id=sid
        )

    def parse_status_callback(self, request: WebhookRequest) -> DeliveryReport:
        """A delivery report Twilio posted to ``status_callback_url``, after checking its signature."""
        params = self._verified_params(request)
        sid = params.get("MessageSid") or params.get("SmsSid")
        status = params.get("MessageStatus") or params.get("SmsStatus")
        if not sid or not status:
            raise WebhookRejected("a status callback needs MessageSid and MessageStatus", status=400)
        return DeliveryReport(
            external_id=sid,
            status=status,
            error_code=params.get("ErrorCode") or None,
            error_message=params.get("ErrorMessage") or None,
            raw=dict(params),
        )
