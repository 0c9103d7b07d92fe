"""Debian's real Kannel (bearerbox + smsbox) with its fake SMSC, run in a temporary directory by the tests.

``fakesmsc`` plays the mobile network: it prints every SMS Kannel hands it ("Got message N: <from to type
text>") and injects the MO messages it is started with. Kannel's sms-service calls a local HTTP server that
records each call as a :class:`WebhookRequest`, as Legation's web view would build it.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from legation.connectors.base import WebhookRequest

SENDSMS_USER, SENDSMS_PASSWORD = "legation", "send&pw 1"
WEBHOOK_SECRET = "kannel-shared-secret"
OUR_NUMBER = "+15005550006"
START_TIMEOUT = 10.0

CONF = """\
group = core
admin-port = {admin_port}
admin-password = adminpw
status-password = adminpw
admin-interface = 127.0.0.1
smsbox-port = {box_port}
box-allow-ip = 127.0.0.1
log-file = "{root}/bearerbox.log"
log-level = 1
access-log = "{root}/access.log"

group = smsc
smsc = fake
smsc-id = FAKE
port = {smsc_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box_port}
sendsms-port = {sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{root}/smsbox.log"
log-level = 1
mo-recode = true

group = sendsms-user
username = {user}
password = "{password}"

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "{get_url}"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str, *extra: str) -> str:
    found = shutil.which(name) or next((p for p in extra if os.path.exists(p)), None)
    if not found:
        pytest.fail(
            f"Kannel's '{name}' is not installed: the Kannel tests run the real gateway. Install the Debian "
            "packages 'kannel' (bearerbox, smsbox) and 'kannel-extras' (fakesmsc): "
            "apt-get install -y kannel kannel-extras",
            pytrace=False,
        )
    return found


class _Recorder(BaseHTTPRequestHandler):
    server: _RecordingServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        host, port = str(self.server.server_address[0]), self.server.server_address[1]
        self.server.calls.put(
            WebhookRequest(
                method="GET",
                url=f"http://{host}:{port}{self.path}",
                headers={k.lower(): v for k, v in self.headers.items()},
                body=b"",
            )
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.calls: queue.Queue[WebhookRequest] = queue.Queue()


@dataclass
class KannelGateway:
    root: Path
    sendsms_url: str
    smsc_port: int
    admin_port: int
    hook_url: str
    dlr_url: str
    calls: queue.Queue[WebhookRequest]
    fakesmsc_bin: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def status(self) -> str:
        url = f"http://127.0.0.1:{self.admin_port}/status.txt?password=adminpw"
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback admin page
            return response.read().decode(errors="replace")

    def next_call(self, path: str, timeout: float = 5.0) -> WebhookRequest:
        """The next request Kannel made to ``path`` (waiting up to ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"Kannel did not call {path} within {timeout} s")
            try:
                call = self.calls.get(timeout=remaining)
            except queue.Empty:
                continue
            if f"/{path}" in call.url:
                return call

    @contextmanager
    def phone_network(self, *mo_messages: str) -> Iterator[FakeSmsc]:
        """Connect ``fakesmsc`` as the SMSC; it sends ``mo_messages`` ("from to text words...") once each."""
        log = self.root / f"fakesmsc-{time.monotonic_ns()}.log"
        args = [self.fakesmsc_bin, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0.05"]
        args += ["-m", str(len(mo_messages)), *(mo_messages or ("+0 +0 text nothing",))]
        with log.open("wb") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        smsc = FakeSmsc(proc, log)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while "online" not in self.status().split("SMSC connections:", 1)[-1]:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"fakesmsc did not connect to bearerbox:\n{smsc.output()}", pytrace=False)
                time.sleep(0.05)
            yield smsc
        finally:
            proc.terminate()
            proc.wait(timeout=5)
            # Let bearerbox notice the SMSC went away before the next test connects another.
            deadline = time.monotonic() + START_TIMEOUT
            while "online" in self.status().split("SMSC connections:", 1)[-1] and time.monotonic() < deadline:
                time.sleep(0.05)


@dataclass
class FakeSmsc:
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def received(self, count: int = 1, timeout: float = 5.0) -> list[str]:
        """The first ``count`` SMS Kannel delivered to the network, as fakesmsc prints them."""
        deadline = time.monotonic() + timeout
        while True:
            got = [
                line.split(": <", 1)[1].rstrip(">")
                for line in self.output().splitlines()
                if "Got message" in line and ": <" in line
            ]
            if len(got) >= count:
                return got[:count]
            if time.monotonic() > deadline:
                raise AssertionError(f"fakesmsc got {len(got)} of {count} messages:\n{self.output()}")
            time.sleep(0.05)


def _wait_for_port(port: int, procs: list[subprocess.Popen[bytes]], root: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        for proc in procs:
            if proc.poll() is not None:
                logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in root.glob("*.log"))
                pytest.fail(f"Kannel exited at start-up (code {proc.returncode}):\n{logs}", pytrace=False)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"Kannel did not listen on port {port} within {START_TIMEOUT} s", pytrace=False)
            time.sleep(0.05)


@contextmanager
def running_kannel(get_url_for: Callable[[str], str]) -> Iterator[KannelGateway]:
    """Start bearerbox and smsbox on free loopback ports; ``get_url_for(hook_url)`` is the sms-service URL."""
    bearerbox = find_binary("bearerbox", "/usr/sbin/bearerbox")
    smsbox = find_binary("smsbox", "/usr/sbin/smsbox")
    fakesmsc = find_binary("fakesmsc", "/usr/lib/kannel/test/fakesmsc")
    root = Path(tempfile.mkdtemp(prefix="legation-kannel-"))
    recorder = _RecordingServer()
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    host, port = str(recorder.server_address[0]), recorder.server_address[1]
    hook_url, dlr_url = f"http://{host}:{port}/hook", f"http://{host}:{port}/dlr"
    ports = {name: free_port() for name in ("admin_port", "box_port", "smsc_port", "sendsms_port")}
    conf = root / "kannel.conf"
    conf.write_text(
        CONF.format(
            root=root, user=SENDSMS_USER, password=SENDSMS_PASSWORD, get_url=get_url_for(hook_url), **ports
        )
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with (root / "bearerbox.out").open("wb") as out:
            procs.append(subprocess.Popen([bearerbox, str(conf)], stdout=out, stderr=subprocess.STDOUT))
        _wait_for_port(ports["box_port"], procs, root)
        with (root / "smsbox.out").open("wb") as out:
            procs.append(subprocess.Popen([smsbox, str(conf)], stdout=out, stderr=subprocess.STDOUT))
        _wait_for_port(ports["sendsms_port"], procs, root)
        yield KannelGateway(
            root=root,
            sendsms_url=f"http://127.0.0.1:{ports['sendsms_port']}/cgi-bin/sendsms",
            smsc_port=ports["smsc_port"],
            admin_port=ports["admin_port"],
            hook_url=hook_url,
            dlr_url=dlr_url,
            calls=recorder.calls,
            fakesmsc_bin=fakesmsc,
            processes=procs,
        )
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(procs):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        recorder.shutdown()
        recorder.server_close()
        shutil.rmtree(root, ignore_errors=True)
