"""Sign-in: password, TOTP enrolment and second step, units that require it, and rate limiting."""

from __future__ import annotations

import time

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from legation.network import services
from legation.records.models import Record

PASSWORD = "bob-secret-pw-12"


def _code(device: TOTPDevice, drift: int = 0) -> str:
    # a code computed in the last instant of its step is checked in the next one and remembered as drift -1
    # (OTP_TOTP_SYNC); start on a fresh step so that the test's drift=1 code stays within the tolerance
    left = device.step - (time.time() - device.t0) % device.step
    if left < 2:
        time.sleep(left + 0.1)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def test_password_sign_in_and_out(client, bob):
    response = client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_pages_need_sign_in(client, tree):
    for path in ("/", "/units/", "/people/", "/accounts/", "/ledger/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path


def test_enrolling_totp_then_signing_in_needs_the_code(client, bob):
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    page = client.get("/account/2fa/")
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=bob, confirmed=False)
    wrong = client.post("/account/2fa/", {"token": "000000"})
    assert "not right" in wrong.content.decode()
    time.sleep(1.1)  # django-otp throttles: one second after the first failure
    assert client.post("/account/2fa/", {"token": _code(device)}).status_code == 302
    assert Record.objects.filter(action="person.2fa_enrolled", actor_id=bob.pk).exists()
    client.post("/logout/")

    step1 = client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert step1["Location"] == "/login/verify/"
    assert client.get("/").status_code == 302  # not signed in until the code is given
    device.refresh_from_db()
    refused = client.post("/login/verify/", {"token": "123456" if _code(device) != "123456" else "654321"})
    assert "not right" in refused.content.decode()
    time.sleep(1.1)
    # a code is accepted once: the one used at enrolment is refused now, the next time step's is accepted
    assert client.post("/login/verify/", {"token": _code(device, drift=1)}).status_code == 302
    assert client.get("/").status_code == 200


def test_a_unit_requiring_2fa_sends_its_people_to_enrol(client, tree, alice, bob):
    services.set_unit_2fa(alice, tree.europe, True)  # Paris is below Europe
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    response = client.get("/accounts/")
    assert response.status_code == 302 and response["Location"] == "/account/2fa/"
    assert "requires two-factor" in client.get("/account/2fa/").content.decode()


def test_repeated_failures_lock_sign_in(client, bob, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "bob", "password": "wrong-password"})
    locked = client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("language,direction,word", [("ar", "rtl", "الحسابات"), ("fr", "ltr", "Comptes"),
                                                      ("fa", "rtl", ""), ("en", "ltr", "Accounts")])
def test_the_interface_follows_the_persons_language(client, bob, language, direction, word):
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    client.post("/language/", {"language": language, "next": "/"})
    page = client.get("/").content.decode()
    assert f'dir="{direction}"' in page and f'lang="{language}"' in page
    assert word in page


def test_session_cookie_is_secure_and_http_only(client, bob, settings):
    response = client.post("/login/", {"username": "bob", "password": PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_revoking_a_token_that_is_no_id_is_not_found(client, bob):
    client.force_login(bob)
    for value in ("abc", "1.5", "9" * 5000):
        assert client.post("/account/tokens/", {"revoke": value}).status_code == 404, value
