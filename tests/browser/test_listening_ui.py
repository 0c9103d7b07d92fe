"""An analyst uses listening in the browser: dashboard charts and map, an alert, search with filters."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_dashboard_alert_and_filtered_search_without_leaving_the_site(page, live_site):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, "mena-admin")
    page.click("nav.mainnav >> text=Listening")
    # the seeded burst in Benghazi shows as alerts
    alerts = page.locator("#alerts .alert")
    assert alerts.count() >= 1
    assert "benghazi" in page.inner_text("#alerts").lower()
    # charts are drawn on canvases, the world map as SVG paths, all from this site
    page.wait_for_selector("#chart-volume")
    assert page.evaluate("() => !!window.Chart && Object.keys(Chart.instances).length") >= 3
    page.wait_for_selector("#map[data-ready='1'] svg path")
    assert page.locator("#stories tbody tr").count() >= 1

    page.click(".subnav >> text=Search")
    page.fill("#q", "Benghazi flood")
    page.select_option("#f-platform", "sandbox")
    page.click("#search-form button[type=submit]")
    rows = page.locator("#results tbody tr")
    assert rows.count() >= 10
    assert all("Benghazi flood" in text for text in rows.all_inner_texts())
    page.fill("#q", "cultural evening Cairo")
    page.click("#search-form button[type=submit]")
    assert "Benghazi" not in page.inner_text("#results tbody")
    assert page.locator("#results tbody tr").count() >= 1

    page.fill("#save-search input[name=name]", "Cairo culture")
    page.click("#save-search button")
    assert "Cairo culture" in page.inner_text("#saved-searches")

    site = urlparse(live_site.url).netloc
    foreign = [url for url in requested if urlparse(url).netloc not in (site, "")]
    assert foreign == []
