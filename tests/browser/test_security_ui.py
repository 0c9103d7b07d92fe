"""The Content-Security-Policy as a browser applies it: every page works under it, and injected script does not run."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

PAGES = ["/", "/units/", "/people/", "/accounts/", "/ledger/", "/guidance/", "/posts/", "/posts/new/", "/clearances/",
         "/calendar/", "/listening/", "/listening/search/?q=flood", "/listening/sources/", "/inbox/", "/sandbox/",
         "/account/2fa/", "/account/tokens/", "/api/v1/docs"]


def test_pages_work_under_the_policy_and_injected_script_is_refused(page, live_site):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
            if message.type == "error" else None)
    sign_in(page, "mena-admin")
    for path in PAGES:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy, path
        page.wait_for_load_state("networkidle")
    assert violations == []

    # Script smuggled into a page (as a stored post or a bad template would put it) does not run.
    page.goto("/listening/")
    page.evaluate("""() => {
      const s = document.createElement('script'); s.textContent = 'window.injected = 1'; document.body.append(s);
      const img = document.createElement('img'); img.setAttribute('onerror', 'window.injected = 2');
      img.src = 'data:,broken'; document.body.append(img);
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.injected") is None


def test_language_menu_and_confirmations_work_without_inline_script(page, live_site):
    sign_in(page, "mena-admin")
    page.goto("/listening/")
    page.click(".me summary")
    with page.expect_navigation():  # the menu sends itself on change (app.js)
        page.select_option("#language", "fr")
    assert page.get_attribute("html", "lang") == "fr"
    page.click(".me summary")
    with page.expect_navigation():
        page.select_option("#language", "en")
    assert page.get_attribute("html", "lang") == "en"

    # A form marked data-confirm asks first; dismissing keeps everything as it was.
    page.evaluate("""() => {
      const form = document.createElement('form'); form.id = 'probe'; form.method = 'get'; form.action = '/units/';
      form.setAttribute('data-confirm', 'Really?'); form.innerHTML = '<button id="probe-go">go</button>';
      document.body.append(form);
    }""")
    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer)
    page.click("#probe-go")
    page.wait_for_timeout(300)
    assert asked == ["Really?"]
    assert page.url.endswith("/listening/")
