"""Real local mail servers for the e-mail tests: aiosmtpd for SMTP, Debian's Dovecot for IMAP."""

from __future__ import annotations

import datetime as dt
import imaplib
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER = "alice@mission.example"
PASSWORD = "correct horse"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cert:
    certfile: str
    keyfile: str

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.certfile, self.keyfile)
        return ctx


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    """A self-signed certificate for 127.0.0.1 and localhost, trusted by the provider through ``ca_file``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Cert(str(certfile), str(keyfile))


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class SmtpHandler:
    """Keeps what arrives; ``rcpt_reply`` / ``data_reply`` make the server refuse like a real MTA would."""

    received: list[Received] = field(default_factory=list)
    rcpt_reply: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.rcpt_reply:
            return self.rcpt_reply[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.data_reply:
            return self.data_reply
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 Message accepted for delivery"


def _authenticator(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == USER
        and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: SmtpHandler
    mode: str


@pytest.fixture(params=["starttls", "ssl"])
def smtp_server(request: pytest.FixtureRequest, tls_cert: Cert) -> Iterator[SmtpServer]:
    """A real aiosmtpd server requiring TLS (STARTTLS or implicit) and a password."""
    handler = SmtpHandler()
    port = free_port()
    kwargs: dict[str, Any] = {
        "authenticator": _authenticator,
        "auth_required": True,
        "data_size_limit": 200_000,
    }
    if request.param == "starttls":
        kwargs.update(tls_context=tls_cert.server_context(), require_starttls=True)
    else:
        # aiosmtpd does not notice implicit TLS, so it would hide AUTH until a STARTTLS that never comes.
        kwargs.update(ssl_context=tls_cert.server_context(), auth_require_tls=False)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler, request.param)
    finally:
        controller.stop()


# -- Dovecot -----------------------------------------------------------------------------------------------

DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = required
ssl_cert = <{certfile}
ssl_key = <{keyfile}
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
default_internal_user = {internal_user}
default_login_user = {login_user}
mail_location = maildir:{root}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
service anvil {{
  chroot =
  # No auth penalty: one test's wrong password must not slow the next test's login.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@dataclass
class Dovecot:
    host: str
    port: int  # STARTTLS
    ssl_port: int  # implicit TLS
    cert: Cert

    def admin(self) -> imaplib.IMAP4_SSL:
        """A separate IMAP session acting as the outside world (delivering mail, recreating folders)."""
        ctx = ssl.create_default_context(cafile=self.cert.certfile)
        client = imaplib.IMAP4_SSL(self.host, self.ssl_port, ssl_context=ctx, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.admin()
        try:
            typ, data = client.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            client.logout()


def _dovecot_binary() -> str:
    found = shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.path.exists(p)), None
    )
    if not found:
        pytest.fail(
            "Dovecot is not installed: the IMAP tests need a real IMAP server. "
            "Install the Debian package 'dovecot-imapd' (it brings 'dovecot-core'): "
            "apt-get install -y dovecot-imapd",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def dovecot(tls_cert: Cert) -> Iterator[Dovecot]:
    """Debian's Dovecot in a private directory, in the foreground, with one passwd-file user and a Maildir."""
    binary = _dovecot_binary()
    # Not under pytest's 0700 tmp dir: Dovecot's unprivileged processes must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="legation-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    if os.geteuid() == 0:
        # Dovecot will not open mailboxes as root; the mail belongs to 'nobody'.
        mail_user = pwd.getpwnam("nobody")
        os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        internal_user, login_user = "dovecot", "dovenull"
    else:
        mail_user = pwd.getpwuid(os.getuid())
        internal_user = login_user = mail_user.pw_name
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port, ssl_port = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        DOVECOT_CONF.format(
            root=root,
            certfile=tls_cert.certfile,
            keyfile=tls_cert.keyfile,
            internal_user=internal_user,
            login_user=login_user,
            uid=mail_user.pw_uid,
            gid=mail_user.pw_gid,
            port=port,
            ssl_port=ssl_port,
        )
    )
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"Dovecot exited at start-up:\n{out}\n{log}", pytrace=False)
            try:
                with socket.create_connection(("127.0.0.1", ssl_port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("Dovecot did not listen within 10 s", pytrace=False)
                time.sleep(0.05)
        yield Dovecot("127.0.0.1", port, ssl_port, tls_cert)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
