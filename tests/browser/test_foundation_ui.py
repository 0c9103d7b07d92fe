"""A person uses the foundation in the browser: sign in, TOTP, units, people, accounts, ledger, Arabic."""

from __future__ import annotations

import base64
import re
import time

import pytest
from django_otp.oath import totp

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _code(secret: str, drift: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    # A code typed in the last seconds of its 30-second step reaches the server in the next one, which
    # accepts it as drift -1 and remembers that drift (django-otp's OTP_TOTP_SYNC): the next sign-in's
    # drift=1 code would then be two steps ahead. Wait for a fresh step, as a person would.
    left = 30 - time.time() % 30
    if left < 5:
        time.sleep(left + 0.2)
    return f"{totp(key, drift=drift):06d}"


def test_admin_enrols_totp_then_needs_it_to_sign_in(page, live_site):
    sign_in(page, "hq-publisher")
    page.goto("/account/2fa/")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#token", _code(secret))
    page.click("form button[type=submit]")
    assert "Two-factor authentication is on" in page.inner_text("main")
    page.click(".me summary")
    page.click("text=Sign out")
    sign_in(page, "hq-publisher")
    page.wait_for_url(re.compile(r"/login/verify/$"))
    # a code is accepted once: the next time step's code (within the allowed drift) signs in again
    page.fill("#token", _code(secret, drift=1))
    page.click("button[type=submit]")
    page.wait_for_url(live_site.url + "/")
    assert "Ministry of Foreign Affairs of Veridia" in page.inner_text("h1")


def test_switch_units_add_a_person_register_an_account_and_see_the_ledger(page, live_site):
    sign_in(page, "hq-admin")
    # the unit switcher (htmx) changes the working unit
    jakarta = page.locator("#unit-switcher option", has_text="Embassy in Jakarta").get_attribute("value")
    with page.expect_navigation():
        page.select_option("#unit-switcher", jakarta)
    assert page.inner_text("h1") == "Embassy in Jakarta"

    page.click("nav.mainnav >> text=People")
    page.fill("#id_person-username", "jakarta-intern")
    page.fill("#id_person-display_name", "Rina Saputra")
    page.select_option("#id_person-role", "editor")
    page.click("text=Add person")
    assert "Rina Saputra added." in page.inner_text(".messages")
    row = page.locator("#roles tr", has_text="jakarta-intern")
    assert "Editor" in row.inner_text() and "Embassy in Jakarta" in row.inner_text()

    page.click("nav.mainnav >> text=Accounts")
    page.select_option("#id_platform", "sandbox")
    page.fill("#id_handle", "@VeridiaJakartaConsular")
    page.fill("#id_position", "Consular section, Jakarta")
    page.click("button:has-text('Register')")
    assert "a second admin must approve it" in page.inner_text(".messages")
    assert page.inner_text("#account-status") == "Pending approval"

    page.click("nav.mainnav >> text=Ledger")
    page.select_option("#id_action", "account.registered")
    page.wait_for_url(re.compile(r"action=account\.registered"))  # htmx swapped the rows and pushed the URL
    page.wait_for_selector("#ledger tbody tr:has-text('@VeridiaJakartaConsular')")
    rows = page.locator("#ledger tbody tr").all_inner_texts()
    # the ledger opens on the working unit: Jakarta's two registrations, newest first
    assert len(rows) == 2 and all("Embassy in Jakarta" in row for row in rows)
    assert "@VeridiaJakartaConsular" in rows[0] and "hq-admin" in rows[0]
    page.select_option("#id_action", "person.created")
    page.wait_for_url(re.compile(r"action=person\.created"))
    assert "jakarta-intern" in page.inner_text("#ledger tbody")


def test_a_mission_officer_sees_only_their_mission(page, live_site):
    sign_in(page, "cairo-editor")
    options = page.locator("#unit-switcher option").all_inner_texts()
    assert [o.strip(" ·") for o in options] == ["Embassy in Cairo"]
    page.goto("/accounts/")
    handles = page.locator("#accounts tbody td:nth-child(2)").all_inner_texts()
    assert sorted(handles) == ["@VeridiaEgyptConsular", "@VeridiaInEgypt"]
    response = page.goto("/units/1/")
    assert response is not None and response.status == 403


def test_the_arabic_interface_renders_right_to_left(page, live_site):
    sign_in(page, "cairo-officer")  # whose interface language is Arabic
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    nav = page.locator("nav.mainnav")
    assert "الحسابات" in nav.inner_text()
    # right to left for real: the brand sits at the right edge, the user menu at the left
    brand = page.locator(".brand").bounding_box()
    me = page.locator(".me").bounding_box()
    assert brand and me and brand["x"] > me["x"]
    page.screenshot(path=str(live_site.env["LEGATION_DATA_DIR"]) + "/arabic.png")
