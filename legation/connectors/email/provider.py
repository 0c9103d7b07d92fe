"""E-mail: SMTP out (stdlib ``smtplib``), IMAP in (``imaplib``), parsed with the stdlib ``email`` package.

Sending returns the Message-ID as the external id; replies carry In-Reply-To and References so the citizen's
mail program threads them. Pulling reads one IMAP folder read-only (EXAMINE, BODY.PEEK) with a cursor of
``UIDVALIDITY`` and the last UID read, so nothing is read twice and the user's unread flags are left alone.
"""

from __future__ import annotations

import hashlib
import imaplib
import ipaddress
import json
import logging
import re
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from legation.connectors.base import (
    AccountInfo,
    Capability,
    ConfigError,
    ConnectorError,
    Delivered,
    InboundItem,
    OutboundPost,
    Page,
    Provider,
    ProviderConfig,
    TextLimits,
)
from legation.connectors.email.parsing import bare_message_id, bracketed, parse_message

log = logging.getLogger(__name__)

_ADDRESS_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|^[^@\s<>]+@localhost$")
_FETCH_UID_RE = re.compile(rb"UID (\d+)")
_FETCH_SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")


def _check_address(value: str) -> str:
    value = value.strip()
    if not _ADDRESS_RE.match(value):
        raise ValueError(f"'{value}' is not an e-mail address")
    return value


class EmailConfig(ProviderConfig):
    """Settings of one mailbox."""

    address: str = Field(description="The address mail is sent from and read for.")
    display_name: str = ""
    smtp_host: str
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    imap_host: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    imap_folder: str = "INBOX"
    # A PEM bundle to trust in addition to the system's, for a ministry's own mail servers.
    ca_file: str | None = None
    # Where publish() sends a post (a mailing list, a press list); each address gets it as Bcc.
    publish_to: list[str] = Field(default_factory=list)
    subject_prefix: str = ""
    timeout: float = Field(default=30.0, gt=0, le=300)
    max_message_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return _check_address(value)

    @field_validator("publish_to")
    @classmethod
    def _publish_to(cls, value: list[str]) -> list[str]:
        return [_check_address(v) for v in value]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _smtp_error(exc: smtplib.SMTPException, what: str) -> ConnectorError:
    """Map an SMTP failure: 5xx replies are permanent, 4xx and dropped connections are retried."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        detail = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return ConnectorError(
            f"the SMTP server refused the login: {exc.smtp_code} {detail}",
            permanent=True,
            status=exc.smtp_code,
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        details = "; ".join(
            f"{rcpt}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for rcpt, (code, msg) in exc.recipients.items()
        )
        permanent = all(code >= 500 for code in codes)
        return ConnectorError(
            f"{what}: every recipient was refused ({details})",
            permanent=permanent,
            status=max(codes) if codes else None,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return ConnectorError(
            f"{what}: {exc.smtp_code} {detail}", permanent=exc.smtp_code >= 500, status=exc.smtp_code
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return ConnectorError(f"{what}: {exc}", permanent=True)
    return ConnectorError(f"{what}: {exc}")


class EmailProvider(Provider):
    """Send mail over SMTP and read a mailbox over IMAP."""

    key: ClassVar[str] = "email"
    name: ClassVar[str] = "E-mail"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.PUBLISH, Capability.REPLY, Capability.SEND_MESSAGE, Capability.PULL_MESSAGES}
    )
    config_model: ClassVar[type[ProviderConfig]] = EmailConfig
    credential_fields: ClassVar[tuple[str, ...]] = ("username", "password")
    limits: ClassVar[TextLimits] = TextLimits(max_length=100_000, unit="characters", max_media=10)

    config: EmailConfig

    # -- connections ---------------------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.config.ca_file:
            try:
                context.load_verify_locations(cafile=self.config.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"e-mail: cannot read the CA bundle {self.config.ca_file}: {exc}") from exc
        return context

    def _login_pair(self) -> tuple[str, str] | None:
        username = self.credentials.get("username", "")
        password = self.credentials.get("password", "")
        if not username:
            return None
        if not password:
            raise ConfigError("email: credential 'password' is not set")
        return username, password

    def _refuse_plaintext_login(self, host: str, security: str) -> None:
        # A password sent in clear to anything but this machine would be readable on the wire.
        if security == "none" and not _is_loopback(host):
            raise ConfigError(
                f"e-mail: refusing to send the password to {host} without TLS; use 'starttls' or 'ssl'"
            )

    @contextmanager
    def _smtp(self) -> Iterator[smtplib.SMTP]:
        cfg = self.config
        login = self._login_pair()
        if login:
            self._refuse_plaintext_login(cfg.smtp_host, cfg.smtp_security)
        try:
            if cfg.smtp_security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout, context=self._tls_context()
                )
            else:
                client = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout)
        except ssl.SSLCertVerificationError as exc:
            raise ConnectorError(
                f"the SMTP server's certificate is not trusted: {exc}", permanent=True
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectorError(
                f"cannot reach the SMTP server {cfg.smtp_host}:{cfg.smtp_port}: {exc}"
            ) from exc
        try:
            try:
                client.ehlo()
                if cfg.smtp_security == "starttls":
                    client.starttls(context=self._tls_context())
                    client.ehlo()
                if login:
                    client.login(*login)
            except ssl.SSLCertVerificationError as exc:
                raise ConnectorError(
                    f"the SMTP server's certificate is not trusted: {exc}", permanent=True
                ) from exc
            except smtplib.SMTPException as exc:
                raise _smtp_error(exc, "the SMTP server refused the session") from exc
            except OSError as exc:
                raise ConnectorError(f"the SMTP connection failed: {exc}") from exc
            yield client
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()

    @contextmanager
    def _imap(self) -> Iterator[imaplib.IMAP4]:
        cfg = self.config
        if not cfg.imap_host:
            raise ConfigError("e-mail: 'imap_host' is not set, so this mailbox cannot be read")
        username, password = self.credential("username"), self.credential("password")
        self._refuse_plaintext_login(cfg.imap_host, cfg.imap_security)
        try:
            if cfg.imap_security == "ssl":
                client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    cfg.imap_host, cfg.imap_port, ssl_context=self._tls_context(), timeout=cfg.timeout
                )
            else:
                client = imaplib.IMAP4(cfg.imap_host, cfg.imap_port, timeout=cfg.timeout)
                if cfg.imap_security == "starttls":
                    client.starttls(ssl_context=self._tls_context())
        except ssl.SSLCertVerificationError as exc:
            raise ConnectorError(
                f"the IMAP server's certificate is not trusted: {exc}", permanent=True
            ) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ConnectorError(
                f"cannot reach the IMAP server {cfg.imap_host}:{cfg.imap_port}: {exc}"
            ) from exc
        try:
            try:
                client.login(username, password)
            except imaplib.IMAP4.error as exc:
                raise ConnectorError(
                    f"the IMAP server refused the login: {_imap_text(exc)}", permanent=True, status=401
                ) from exc
            yield client
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise ConnectorError(f"the IMAP connection failed: {exc}") from exc
        finally:
            with suppress(OSError, imaplib.IMAP4.error):
                client.logout()

    # -- identity ------------------------------------------------------------------------------------------

    def verify_credentials(self) -> AccountInfo:
        """Log in to SMTP (and IMAP when configured) and report the mailbox address."""
        with self._smtp():
            pass
        if self.config.imap_host:
            with self._imap() as imap:
                self._select(imap)
        return AccountInfo(
            external_id=self.config.address, handle=self.config.address, display_name=self.config.display_name
        )

    # -- sending -------------------------------------------------------------------------------------------

    def _message_id(self, idempotency_key: str | None) -> str:
        domain = self.config.address.rsplit("@", 1)[1]
        if idempotency_key:
            # The same delivery retried gets the same Message-ID, so receiving systems can drop the duplicate.
            digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
            return f"<{digest}.legation@{domain}>"
        return make_msgid(idstring="legation", domain=domain)

    def build_message(
        self,
        *,
        to: Sequence[str],
        subject: str,
        post: OutboundPost,
        references: Sequence[str] = (),
    ) -> EmailMessage:
        """Compose the message; exposed so callers can preview exactly what will be sent."""
        cfg = self.config
        msg = EmailMessage()
        local, _, domain = cfg.address.partition("@")
        msg["From"] = Address(display_name=cfg.display_name, username=local, domain=domain)
        if to:
            msg["To"] = ", ".join(to)
        subject = subject.replace("\r", " ").replace("\n", " ").strip()
        msg["Subject"] = f"{cfg.subject_prefix}{subject}" if cfg.subject_prefix else subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = self._message_id(post.idempotency_key)
        if post.reply_to:
            parent = bracketed(post.reply_to)
            chain = [bracketed(r) for r in references if r]
            if not chain or chain[-1] != parent:
                chain.append(parent)
            msg["In-Reply-To"] = parent
            msg["References"] = " ".join(chain)
        body = post.text
        if post.link and post.link not in body:
            body = f"{body}\n\n{post.link}"
        msg.set_content(body)
        for media in post.media:
            maintype, _, subtype = media.mime_type.partition("/")
            msg.add_attachment(
                media.data,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=media.filename,
            )
            if media.alt_text:
                attachment = list(msg.iter_attachments())[-1]
                attachment["Content-Description"] = media.alt_text.replace("\n", " ")
        if post.language:
            # Set last: set_content() and add_attachment() move or drop Content-* headers.
            msg["Content-Language"] = post.language
        return msg

    def _send(self, msg: EmailMessage, recipients: Sequence[str]) -> Delivered:
        size = len(msg.as_bytes())
        if size > self.config.max_message_bytes:
            raise ConnectorError(
                f"the message is {size} bytes, over this mailbox's limit of {self.config.max_message_bytes}",
                permanent=True,
            )
        with self._smtp() as smtp:
            try:
                refused = smtp.send_message(msg, from_addr=self.config.address, to_addrs=list(recipients))
            except smtplib.SMTPException as exc:
                raise _smtp_error(exc, "the SMTP server refused the message") from exc
            except OSError as exc:
                raise ConnectorError(f"the SMTP connection failed while sending: {exc}") from exc
        message_id = bare_message_id(msg["Message-ID"]) or ""
        raw: dict[str, Any] = {"message_id": message_id, "recipients": list(recipients)}
        if refused:
            raw["refused"] = {
                rcpt: [code, text.decode(errors="replace") if isinstance(text, bytes) else text]
                for rcpt, (code, text) in refused.items()
            }
        return Delivered(external_id=message_id, url=None, raw=raw)

    def publish(self, post: OutboundPost) -> Delivered:
        """Send a post to the configured ``publish_to`` addresses (as Bcc, so they do not see each other)."""
        if not self.config.publish_to:
            raise ConfigError("e-mail: 'publish_to' is empty, so there is nobody to publish to")
        first_line = post.text.strip().split("\n", 1)[0]
        subject = first_line if len(first_line) <= 78 else first_line[:77] + "…"
        # The list gets it as Bcc: envelope recipients only, never written into the headers.
        msg = self.build_message(to=[self.config.address], subject=subject, post=post)
        return self._send(msg, self.config.publish_to)

    def send_message(
        self,
        recipient_id: str,
        text: str,
        *,
        subject: str | None = None,
        in_reply_to: str | None = None,
        references: Sequence[str] = (),
        post: OutboundPost | None = None,
    ) -> Delivered:
        """Send one message to one address; with ``in_reply_to`` it threads under that message.

        Callers answering a message pass its subject; "Re: " is added when missing.
        ``post`` carries media, language and idempotency key when the caller has them.
        """
        _name, address = parseaddr(recipient_id)
        try:
            address = _check_address(address or recipient_id)
        except ValueError as exc:
            raise ConnectorError(f"e-mail: {exc}", permanent=True) from exc
        base = post or OutboundPost(text=text)
        outgoing = OutboundPost(
            text=text,
            media=base.media,
            link=base.link,
            reply_to=in_reply_to or base.reply_to,
            language=base.language,
            idempotency_key=base.idempotency_key,
        )
        if subject is None:
            subject = "Re: your message" if outgoing.reply_to else (text.strip().split("\n", 1)[0][:78])
        elif outgoing.reply_to and not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        msg = self.build_message(to=[address], subject=subject, post=outgoing, references=references)
        return self._send(msg, [address])

    # -- reading -------------------------------------------------------------------------------------------

    def _select(self, imap: imaplib.IMAP4) -> int:
        """EXAMINE the folder (read-only) and return its UIDVALIDITY."""
        folder = self.config.imap_folder
        quoted = '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
        typ, data = imap.select(quoted, readonly=True)
        if typ != "OK":
            raise ConnectorError(
                f"cannot open the mail folder '{folder}': {_imap_data_text(data)}", permanent=True
            )
        _typ, validity = imap.response("UIDVALIDITY")
        if not validity or validity[0] is None:
            raise ConnectorError("the IMAP server did not report UIDVALIDITY for the folder", permanent=True)
        return int(validity[0])

    @staticmethod
    def _parse_cursor(cursor: str | None) -> tuple[int | None, int]:
        if not cursor:
            return None, 0
        try:
            data = json.loads(cursor)
            return int(data["uidvalidity"]), int(data["uid"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ConnectorError(
                f"e-mail: the stored cursor is malformed: {cursor!r}", permanent=True
            ) from exc

    def pull_messages(self, cursor: str | None, limit: int = 100) -> Page:
        """Read messages that arrived after the cursor, oldest first, at most ``limit`` of them."""
        limit = max(1, limit)
        validity_seen, last_uid = self._parse_cursor(cursor)
        with self._imap() as imap:
            validity = self._select(imap)
            if validity_seen is not None and validity != validity_seen:
                # The folder was recreated and its UIDs renumbered: start again; items keep their Message-ID
                # as external id, so the store drops the ones it already has.
                log.warning(
                    "IMAP folder %s of %s changed UIDVALIDITY (%s -> %s); reading it again from the start",
                    self.config.imap_folder,
                    self.config.address,
                    validity_seen,
                    validity,
                )
                last_uid = 0
            typ, data = imap.uid("SEARCH", f"UID {last_uid + 1}:*")
            if typ != "OK":
                raise ConnectorError(f"the IMAP search failed: {_imap_data_text(data)}")
            # "n:*" always matches the highest UID even when it is below n, so filter again.
            uids = sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last_uid)
            batch = uids[:limit]
            items: list[InboundItem] = []
            for uid in batch:
                items.append(self._fetch_message(imap, uid, validity))
                last_uid = uid
        new_cursor = json.dumps({"uidvalidity": validity, "uid": last_uid}, separators=(",", ":"))
        return Page(items=items, cursor=new_cursor, has_more=len(uids) > len(batch))

    def _fetch_message(self, imap: imaplib.IMAP4, uid: int, validity: int) -> InboundItem:
        typ, data = imap.uid("FETCH", str(uid), "(UID RFC822.SIZE)")
        size_match = _FETCH_SIZE_RE.search(_flatten(data)) if typ == "OK" else None
        size = int(size_match.group(1)) if size_match else 0
        oversized = size > self.config.max_message_bytes
        section = "BODY.PEEK[HEADER]" if oversized else "BODY.PEEK[]"
        typ, data = imap.uid("FETCH", str(uid), f"({section})")
        raw = _literal(data)
        if typ != "OK" or raw is None:
            raise ConnectorError(f"the IMAP server did not return message UID {uid}: {_imap_data_text(data)}")
        extra = {"imap_uid": uid, "uidvalidity": validity, "folder": self.config.imap_folder}
        return parse_message(raw, extra=extra, truncated_size=size if oversized else None)


def _flatten(data: list[Any]) -> bytes:
    parts: list[bytes] = []
    for entry in data:
        if isinstance(entry, tuple):
            parts.extend(p for p in entry if isinstance(p, bytes))
        elif isinstance(entry, bytes):
            parts.append(entry)
    return b" ".join(parts)


def _literal(data: list[Any]) -> bytes | None:
    """The message bytes in a FETCH answer (the literal of its first tuple)."""
    for entry in data:
        if isinstance(entry, tuple) and len(entry) >= 2 and isinstance(entry[1], bytes):
            return entry[1]
    return None


def _imap_data_text(data: list[Any] | None) -> str:
    return _flatten(list(data or [])).decode(errors="replace") or "no detail"


def _imap_text(exc: BaseException) -> str:
    text = str(exc)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text
