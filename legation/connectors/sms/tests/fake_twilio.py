"""A local stand-in for Twilio's REST API (2010-04-01 Messages and Accounts), shaped from Twilio's docs.

It keeps messages, answers list requests newest first with ``next_page_uri`` paging and the ``To`` and
``DateSent>`` filters, checks HTTP basic auth, and can be told to answer the next requests with a fault.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug import Request, Response

from legation.connectors.testing import Fault

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "f" * 32
OUR_NUMBER = "+15005550006"
API = f"/2010-04-01/Accounts/{ACCOUNT_SID}"


def twilio_error(status: int, code: int, message: str) -> Response:
    """Twilio's documented error body."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(json.dumps(body), status=status, content_type="application/json")


@dataclass
class FakeTwilio:
    messages: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_inbound(self, body: str, sender: str, sent: datetime, to: str = OUR_NUMBER) -> str:
        return self._store(body=body, sender=sender, to=to, direction="inbound", status="received", sent=sent)

    def _store(self, *, body: str, sender: str, to: str, direction: str, status: str, sent: datetime) -> str:
        with self._lock:
            sid = f"SM{next(self._ids):032x}"
        stamp = format_datetime(sent.astimezone(UTC), usegmt=True)
        self.messages.append(
            {
                "account_sid": ACCOUNT_SID,
                "api_version": "2010-04-01",
                "body": body,
                "date_created": stamp,
                "date_sent": stamp,
                "date_updated": stamp,
                "direction": direction,
                "error_code": None,
                "error_message": None,
                "from": sender,
                "messaging_service_sid": None,
                "num_media": "0",
                "num_segments": "1",
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": status,
                "subresource_uris": {"media": f"{API}/Messages/{sid}/Media.json"},
                "to": to,
                "uri": f"{API}/Messages/{sid}.json",
                "_sent": sent.astimezone(UTC),
            }
        )
        return sid

    @staticmethod
    def public(message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if not k.startswith("_")}

    def handle(self, request: Request) -> Response:
        self.requests.append((request.method, request.full_path))
        if self.faults:
            return self.faults.pop(0).response()
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return twilio_error(401, 20003, "Authenticate")
        path = request.path
        if path == f"{API}.json" and request.method == "GET":
            return self._json(
                {"sid": ACCOUNT_SID, "friendly_name": "Embassy SMS", "status": "active", "type": "Full"}
            )
        if path == f"{API}/Messages.json" and request.method == "POST":
            return self._create(request)
        if path == f"{API}/Messages.json" and request.method == "GET":
            return self._list(request)
        if path.startswith(f"{API}/Messages/") and path.endswith(".json") and request.method == "GET":
            sid = path.rsplit("/", 1)[1][:-5]
            for message in self.messages:
                if message["sid"] == sid:
                    return self._json(self.public(message))
            return twilio_error(404, 20404, f"The requested resource {path} was not found")
        return twilio_error(404, 20404, f"The requested resource {path} was not found")

    @staticmethod
    def _json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    def _create(self, request: Request) -> Response:
        form = request.form
        to = form.get("To", "")
        if not to.startswith("+"):
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to == "+15005550009":  # Twilio's magic test number for "cannot receive SMS"
            return twilio_error(400, 21614, f"'To' number {to} is not a valid mobile number")
        sender = form.get("From") or OUR_NUMBER
        sid = self._store(
            body=form.get("Body", ""),
            sender=sender,
            to=to,
            direction="outbound-api",
            status="queued",
            sent=datetime.now(UTC),
        )
        message = self.public(self.messages[-1])
        message["date_sent"] = None
        message["status_callback"] = form.get("StatusCallback")
        assert message["sid"] == sid
        return self._json(message, status=201)

    def _list(self, request: Request) -> Response:
        args = request.args
        found = [m for m in self.messages if not args.get("To") or m["to"] == args["To"]]
        after = args.get("DateSent>")
        if after:
            bound = datetime.fromisoformat(after.replace("Z", "+00:00"))
            found = [m for m in found if m["_sent"] >= bound]
        found.sort(key=lambda m: (m["_sent"], m["sid"]), reverse=True)  # Twilio lists newest first
        size = int(args.get("PageSize", "50"))
        page = int(args.get("Page", "0"))
        chunk = found[page * size : (page + 1) * size]
        base = {k: v for k, v in args.items() if k not in ("Page", "PageToken")}

        def uri(n: int) -> str:
            return f"{API}/Messages.json?" + urlencode({**base, "Page": n, "PageToken": f"PA{n}"})

        more = (page + 1) * size < len(found)
        return self._json(
            {
                "messages": [self.public(m) for m in chunk],
                "end": page * size + max(len(chunk) - 1, 0),
                "first_page_uri": uri(0),
                "next_page_uri": uri(page + 1) if more else None,
                "page": page,
                "page_size": size,
                "previous_page_uri": uri(page - 1) if page else None,
                "start": page * size,
                "uri": uri(page),
            }
        )
