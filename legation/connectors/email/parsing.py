"""Reading one RFC 5322 message into an :class:`InboundItem` with the stdlib ``email`` package."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

from legation.connectors.base import InboundItem
from legation.connectors.email.text import html_to_text, tidy_text

PLATFORM = "email"
# Longer bodies are cut here; the inbox shows text, not archives, and the full size is kept in raw.
MAX_TEXT_CHARS = 100_000

_MSGID_RE = re.compile(r"<([^<>\s]+)>")


def bare_message_id(value: str | None) -> str | None:
    """``<abc@host>`` -> ``abc@host``; None when the header holds no id."""
    if not value:
        return None
    match = _MSGID_RE.search(value)
    if match:
        return match.group(1)
    value = value.strip()
    return value or None


def message_id_list(value: str | None) -> list[str]:
    """All ids in a References or In-Reply-To header, in order."""
    if not value:
        return []
    return _MSGID_RE.findall(value)


def bracketed(message_id: str) -> str:
    """``abc@host`` -> ``<abc@host>`` (left alone when already bracketed)."""
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def _header(msg: Message, name: str) -> str:
    """A header as text; a header the policy cannot parse is read raw rather than lost."""
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a broken header must not lose the whole message
        value = None
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                value = raw
                break
    return str(value) if value is not None else ""


def _decode_part(part: Message) -> str:
    """Decoded text of one MIME part, replacing undecodable bytes instead of failing."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, AssertionError, KeyError):
        pass
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def body_text(msg: EmailMessage) -> str:
    """The message's plain text: the text/plain body if any, else the HTML body made plain."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except (KeyError, AttributeError):
        part = None
    if part is None:
        if msg.get_content_maintype() == "text":
            part = msg
        else:
            return ""
    text = _decode_part(part)
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return tidy_text(text)


def _attachments(msg: EmailMessage) -> list[dict[str, Any]]:
    found = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        found.append(
            {
                "filename": part.get_filename() or "",
                "mime_type": part.get_content_type(),
                "size": len(payload) if isinstance(payload, bytes) else 0,
            }
        )
    return found


def _date(msg: Message) -> datetime | None:
    raw = _header(msg, "Date")
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_message(
    raw: bytes, *, extra: dict[str, Any] | None = None, truncated_size: int | None = None
) -> InboundItem:
    """Turn the raw bytes of one message into an InboundItem.

    ``truncated_size`` says the server holds a message of that many bytes of which only the headers were read
    (it was over the size limit); the item then says so in its text instead of losing the message.
    """
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    message_id = bare_message_id(_header(msg, "Message-ID"))
    if not message_id:
        # Without a Message-ID the content itself is the only stable identity across re-reads.
        message_id = f"sha256-{hashlib.sha256(raw).hexdigest()[:40]}@legation.invalid"
    name, address = parseaddr(_header(msg, "From"))
    references = message_id_list(_header(msg, "References"))
    in_reply_to = bare_message_id(_header(msg, "In-Reply-To")) or (references[-1] if references else None)
    if truncated_size is not None:
        text = f"[This message is {truncated_size} bytes, over the size limit; only its headers were read.]"
        attachments: list[dict[str, Any]] = []
    else:
        text = body_text(msg)
        attachments = _attachments(msg)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "\n[… cut: the message is longer than the inbox shows]"
    auto = _header(msg, "Auto-Submitted").lower()
    precedence = _header(msg, "Precedence").lower()
    raw_info: dict[str, Any] = {
        "subject": _header(msg, "Subject"),
        "from": _header(msg, "From"),
        "to": [addr for _n, addr in getaddresses([_header(msg, "To")]) if addr],
        "cc": [addr for _n, addr in getaddresses([_header(msg, "Cc")]) if addr],
        "reply_to": parseaddr(_header(msg, "Reply-To"))[1] or None,
        "message_id": message_id,
        "references": references,
        "attachments": attachments,
        # Auto-replies and list mail should not trigger answers of our own.
        "automated": (auto not in ("", "no")) or precedence in ("bulk", "list", "junk"),
        "size": truncated_size if truncated_size is not None else len(raw),
        "truncated": truncated_size is not None,
    }
    if extra:
        raw_info.update(extra)
    return InboundItem(
        platform=PLATFORM,
        external_id=message_id,
        kind="email",
        text=text,
        author_id=address.lower(),
        author_name=name,
        created_at=_date(msg),
        in_reply_to=in_reply_to,
        conversation_id=references[0] if references else (in_reply_to or message_id),
        language=(_header(msg, "Content-Language").split(",")[0].strip() or None),
        raw=raw_info,
    )
