"""Publishing in the browser: the sandbox two-way loop, and clearance from headquarters in Arabic and English."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import sign_in, sign_out

pytestmark = pytest.mark.browser


def _wait_for_status(page, selector: str, text: str, tries: int = 40) -> None:
    for _ in range(tries):
        if text in page.inner_text(selector):
            return
        page.wait_for_timeout(500)
        page.reload()
    raise AssertionError(f"{selector} never showed {text!r}: {page.inner_text(selector)}")


def test_register_a_sandbox_account_publish_and_see_a_public_reply_arrive(page, live_site):
    sign_in(page, "hq-admin")
    page.goto("/accounts/")
    page.select_option("#id_platform", "sandbox")
    page.fill("#id_handle", "@VeridiaBrowser")
    page.fill("#id_position", "Digital diplomacy team")
    page.click("button:has-text('Register')")
    account_url = page.url
    sign_out(page)

    sign_in(page, "hq-admin2")  # four eyes: a second admin approves
    page.goto(account_url)
    page.click("button[name=approve]")
    page.click("button[name=sandbox_connect]")
    assert "Active" in page.inner_text("#account-status")

    page.goto("/posts/new/")
    page.select_option("#id_source_language", "en")
    page.fill("#id_source_text", "The consular section is open on Saturday from 9 to 12.")
    account_id = re.search(r"/accounts/(\d+)/", account_url).group(1)
    page.select_option(f"#id_account_{account_id}", "en")
    page.wait_for_selector("#preview table.preview td:has-text('/ 1000 characters')")  # the live preview
    page.click("button[name=submit]")
    _wait_for_status(page, "#deliveries", "Delivered")
    link = page.locator("#deliveries a").first.get_attribute("href")
    assert link and link.startswith("/sandbox/posts/")

    page.goto(link)  # the public side
    page.fill("#handle", "@amal_public")
    with page.expect_navigation():
        page.click("button:has-text('Join')")
    page.click("#post-" + link.rstrip("/").rsplit("/", 1)[-1] + " summary:has-text('Reply')")
    page.fill("textarea[name=text]", "Thank you! Do I need an appointment?")
    with page.expect_navigation():
        page.click("button:has-text('Send reply')")

    page.goto(account_url)
    with page.expect_navigation():
        page.click("#pull-now")
    assert "Do I need an appointment?" in page.inner_text("#inbound")
    assert "@amal_public" in page.inner_text("#inbound")


def test_sensitive_post_needs_headquarters_and_the_correction_follows(page, live_site):
    arranged = live_site.cli("shell", "-c", (
        "from legation.guidance import services as g; from legation.network.models import Person, Unit; "
        "g.create_rule(Person.objects.get(username='hq-admin'), unit=Unit.objects.get(parent__isnull=True), "
        "kind='sensitive_topic', name='Naming Ruritania', config={'terms': ['Ruritania', 'روريتانيا']}, "
        "clearance_role='approver')"))
    assert arranged.returncode == 0, arranged.stderr

    sign_in(page, "cairo-officer")  # a publisher at the Cairo embassy, interface in Arabic
    page.goto("/posts/new/")
    page.select_option("#id_source_language", "ar")
    page.fill("#id_source_text", "السفارة تتابع الوضع في روريتانيا عن كثب")
    page.select_option("#id_variant_0_language", "en")
    page.fill("#id_variant_0_text", "The embassy follows the situation in Ruritania closely")
    for option in page.locator("#accounts select").all():
        label = page.locator(f"label[for='{option.get_attribute('id')}']").inner_text()
        option.select_option("ar" if "VeridiaInEgypt" in label else "en")
    page.wait_for_selector("#findings li.finding-needs_clearance")
    assert "Naming Ruritania" in page.inner_text("#findings")
    page.click("button[name=submit]")
    assert page.get_attribute("#post-status", "class") == "status-awaiting_clearance"
    assert page.locator("#clearances button[name=clear]").count() == 0  # the officer cannot clear it
    post_url = page.url
    sign_out(page)

    sign_in(page, "hq-approver")
    page.goto("/clearances/")
    post_path = "/" + post_url.split("/", 3)[3]
    page.click(f"#queue a[href='{post_path}']")
    page.click("#clearances button[name=clear]")
    _wait_for_status(page, "#post-status", "Published")
    rows = page.locator("#deliveries tbody tr").all_inner_texts()
    assert len(rows) == 2 and all("Delivered" in r for r in rows)

    page.fill("#text_ar", "السفارة تتابع الوضع في روريتانيا عن كثب وتدعو إلى الهدوء")
    page.fill("#text_en", "The embassy follows the situation in Ruritania closely and calls for calm")
    page.click("button:has-text('Send correction to every account')")
    for _ in range(40):
        corrections = [r for r in page.locator("#deliveries tbody tr").all_inner_texts() if "Correction" in r]
        if len(corrections) == 2 and all("Delivered" in r for r in corrections):
            break
        page.wait_for_timeout(500)
        page.reload()
    else:
        raise AssertionError("the correction did not reach both accounts")
    page.goto("/sandbox/VeridiaEgyptConsular/")
    assert "calls for calm" in page.inner_text("main")
    page.goto("/sandbox/VeridiaInEgypt/")
    assert "وتدعو إلى الهدوء" in page.inner_text("main")

    page.goto(post_url)
    history = page.inner_text("#history")
    for step in ("post.drafted", "post.submitted", "post.cleared", "post.released", "delivery.publish_delivered",
                 "post.corrected", "delivery.correct_delivered"):
        assert step in history, step
    assert "cairo-officer" in history and "hq-approver" in history
