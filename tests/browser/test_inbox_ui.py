"""A consular officer reads the inbox in Arabic: each message as the offline models' accurate tier read it."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_the_worker_reads_what_citizens_sent_and_the_officer_filters_the_urgent_ones(page, live_site):
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    sign_in(page, "cairo-editor")  # reads the interface in Arabic
    # The demo's citizens wrote to our sandbox accounts; the site's worker pulls them and the models read them.
    deadline = time.monotonic() + 120
    while True:
        page.goto("/inbox/")
        rows = page.inner_text("#inbox tbody")
        if "مصراتة" in rows and "لم يُقرأ بعد" not in rows:
            break
        assert time.monotonic() < deadline, f"not read in time: {rows}"
        page.wait_for_timeout(2000)
    stranded = page.locator("#inbox tbody tr", has_text="مصراتة").inner_text()
    assert "طلبات أو احتياجات عاجلة" in stranded  # requests or urgent needs, in Arabic
    assert "Misratah (LY)" in stranded and "30 شخصًا" in stranded
    assert "الماء" in stranded and "water" not in stranded  # the needs, named in Arabic
    assert "Is the consular section open on Friday?" in rows
    with page.expect_navigation():
        page.select_option("#f-category", "requests_or_urgent_needs")
        page.click("form.filters button")
    urgent = page.inner_text("#inbox tbody")
    assert "مصراتة" in urgent and "Is the consular section open on Friday?" not in urgent
    assert console_errors == []
