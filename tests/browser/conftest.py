"""Browser tests: the real `legation` server in a subprocess, on a fresh database, driven by headless Chromium."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class Site:
    url: str
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "legation.cli", *args], env=self.env, capture_output=True,
                              text=True, timeout=300)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A fresh site seeded with the demo ministry; on PostgreSQL when DATABASE_URL is set."""
    data_dir: Path = tmp_path_factory.mktemp("live-site")
    env = {**os.environ, "LEGATION_DATA_DIR": str(data_dir)}
    database_url = os.environ.get("DATABASE_URL")
    db_name = None
    if database_url:
        import psycopg

        db_name = f"legation_live_{secrets.token_hex(4)}"
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        env["DATABASE_URL"] = database_url.rsplit("/", 1)[0] + f"/{db_name}"
    site = Site(url="", env=env)
    seeded = site.cli("demo", "--seed-only")
    assert seeded.returncode == 0, seeded.stderr
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "legation.cli", "serve", "--port", str(port), "--insecure-cookies"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    # the worker delivers what the browser publishes, as in `legation demo`
    worker = subprocess.Popen([sys.executable, "-m", "legation.cli", "worker", "--tick", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    site.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(site.url + "/healthz", timeout=2)  # noqa: S310 - our own local server
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("the server did not start: " + (server.stderr.read() or b"").decode()) from None
            time.sleep(0.2)
    yield site
    worker.terminate()
    worker.wait(timeout=20)
    server.terminate()
    server.wait(timeout=20)
    if db_name and database_url:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: install the Debian packages chromium and chromium-driver "
                    "(scripts/install-system-deps does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_site.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def sign_out(page) -> None:
    page.click(".me summary")
    with page.expect_navigation():
        page.click(".me form[action='/logout/'] button")


def sign_in(page, username: str, password: str = "veridia-demo-2026") -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
