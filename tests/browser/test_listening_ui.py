"""An analyst uses listening in the browser: dashboard charts and map, an alert, search with filters."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

# How many rings of the map's country outlines (filled paths, one "M" per ring) span more than half the world's
# width in pixels (256 << zoom; the dashboard opens at zoom 1).
WORLD_WIDE_OUTLINES = """() => {
  let wide = 0;
  for (const path of document.querySelectorAll('#map .leaflet-overlay-pane path[fill="#ecf0f1"]')) {
    for (const ring of path.getAttribute('d').split('M').slice(1)) {
      const xs = ring.split(/[LZz]/).filter(Boolean).map(point => parseFloat(point));
      if (Math.max(...xs) - Math.min(...xs) > 256) wide += 1;
    }
  }
  return wide;
}"""


def test_dashboard_alert_and_filtered_search_without_leaving_the_site(page, live_site):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    sign_in(page, "mena-admin")
    with page.expect_navigation():  # count() does not wait: the dashboard must have loaded (a flake under load)
        page.click("nav.mainnav >> text=Listening")
    # the seeded burst in Benghazi shows as alerts
    alerts = page.locator("#alerts .alert")
    alerts.first.wait_for()
    assert alerts.count() >= 1
    assert "benghazi" in page.inner_text("#alerts").lower()
    # charts are drawn on canvases, the world map as SVG paths, all from this site
    page.wait_for_selector("#chart-volume")
    assert page.evaluate("() => !!window.Chart && Object.keys(Chart.instances).length") >= 3
    labels = page.evaluate("() => Object.values(Chart.instances).flatMap(chart => chart.data.labels)")
    assert "Requests or urgent needs" in labels  # the categories chart names categories as search does
    page.wait_for_selector("#map[data-ready='1'] svg path")
    # no country outline is drawn as a band across the world (Russia and Fiji cross the 180th meridian): the
    # only outline wider than half the world is Antarctica's
    assert page.evaluate(WORLD_WIDE_OUTLINES) == 1
    assert page.locator("#stories tbody tr").count() >= 1
    assert " ago" in page.inner_text("#stories tbody")  # "11 minutes ago", not "11 minutes"

    with page.expect_navigation():
        page.click(".subnav >> text=Search")
    page.fill("#q", "Benghazi flood")
    page.select_option("#f-platform", "sandbox")
    with page.expect_navigation():
        page.click("#search-form button[type=submit]")
    rows = page.locator("#results tbody tr")
    assert rows.count() >= 10
    assert all("Benghazi flood" in text for text in rows.all_inner_texts())
    # each row marks where the words matched
    assert rows.first.locator("mark").all_inner_texts() == ["Benghazi", "flood"]
    assert "Requests or urgent needs" in rows.first.inner_text()  # the category's name, not its code
    page.fill("#q", "cultural evening Cairo")
    with page.expect_navigation():
        page.click("#search-form button[type=submit]")
    assert "Benghazi" not in page.inner_text("#results tbody")
    assert page.locator("#results tbody tr").count() >= 1

    page.fill("#save-search input[name=name]", "Cairo culture")
    with page.expect_navigation():
        page.click("#save-search button")
    assert "Cairo culture" in page.inner_text("#saved-searches")

    site = urlparse(live_site.url).netloc
    foreign = [url for url in requested if urlparse(url).netloc not in (site, "")]
    assert foreign == []
    assert console_errors == []  # no script error, no missing file (a favicon included)


def test_an_arabic_editor_edits_a_source_and_removal_asks_first(page, live_site):
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    sign_in(page, "cairo-editor")  # reads the interface in Arabic
    page.goto("/listening/sources/")
    assert "الحساب الرسمي" in page.inner_text("main")  # the form's account field, in Arabic
    page.fill("#id_name", "Nile hashtag")
    page.select_option("#id_kind", "hashtag")
    page.select_option("#id_platform", "sandbox")
    page.fill("#id_query", "#nile")
    with page.expect_navigation():
        page.click("main form:not(.inline) button[type=submit]")
    # A search on the sandbox goes through one of our accounts there: asked for next to the field, in Arabic,
    # with what was typed kept.
    assert "بيئة الاختبار" in page.inner_text("#id_account_error")
    assert page.input_value("#id_name") == "Nile hashtag" and page.input_value("#id_query") == "#nile"
    egypt = page.locator("#id_account option", has_text="@VeridiaInEgypt").get_attribute("value")
    page.select_option("#id_account", egypt)
    with page.expect_navigation():
        page.click("main form:not(.inline) button[type=submit]")
    row = page.locator("#sources tbody tr", has_text="Nile hashtag")
    with page.expect_navigation():
        row.locator("a.edit-source").click()
    page.fill("#id_batch_size", "0")  # out of bounds: the browser refuses it before sending, nothing is lost
    page.fill("#id_query", "#nile OR #cairo")
    page.click("#edit-source button[type=submit]")
    assert page.evaluate("() => document.querySelector('#id_batch_size').validity.rangeUnderflow")
    assert page.get_attribute("#id_batch_size", "min") == "1"
    assert page.input_value("#id_query") == "#nile OR #cairo"
    page.fill("#id_batch_size", "50")
    with page.expect_navigation():
        page.click("#edit-source button[type=submit]")
    row = page.locator("#sources tbody tr", has_text="Nile hashtag")
    assert "#nile OR #cairo" in row.inner_text()

    questions: list[str] = []

    def answer(dialog, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    row.locator("form.remove-source button").click()
    page.wait_for_timeout(300)
    assert questions and "Nile hashtag" in questions[0] and questions[0].startswith("إزالة المصدر")
    assert page.locator("#sources tbody tr", has_text="Nile hashtag").count() == 1  # kept: the question was declined
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    with page.expect_navigation():
        row.locator("form.remove-source button").click()
    assert page.locator("#sources tbody tr", has_text="Nile hashtag").count() == 0
    assert console_errors == []


def test_an_analyst_has_a_post_read_again_by_the_accurate_models(page, live_site):
    import time

    sign_in(page, "analyst")
    deadline = time.monotonic() + 120
    while True:  # the site's worker replays the demo's posts into listening
        page.goto("/listening/search/?place=%D8%A8%D9%86%D8%BA%D8%A7%D8%B2%D9%8A")  # بنغازي, typed in Arabic
        if page.locator("#results tbody tr a").count():
            break
        assert time.monotonic() < deadline, "no post about Benghazi heard in time"
        page.wait_for_timeout(2000)
    assert "Benghazi (LY)" in page.inner_text("#results tbody")
    with page.expect_navigation():
        page.locator("#results tbody tr a").first.click()
    assert page.inner_text("#read-by") == "the fast models, when it was heard"
    with page.expect_navigation():
        page.click("#read-accurately button")
    assert "The accurate models will read this post in a moment" in page.inner_text("main")
    while not page.inner_text("#read-by").startswith("the accurate models, "):
        assert time.monotonic() < deadline + 60, "the worker did not read the post in time"
        page.wait_for_timeout(1000)
        page.reload()
    assert page.inner_text("#read-accurately button") == "Read again with the accurate models"


def test_a_chinese_japanese_or_thai_word_is_found_inside_a_sentence(page, live_site):
    # The demo's Asia and Pacific posts include a Chinese and a Japanese sentence about an earthquake in Tokyo,
    # written without spaces; "地震" (earthquake) is found inside both, "東京" (Tokyo) only in the Japanese one.
    # A Thai sentence about a food festival at the embassy in Bangkok is found by "กรุงเทพ" (Bangkok).
    sign_in(page, "hq-admin")
    page.goto("/listening/search/")
    page.fill("#q", "地震")
    with page.expect_navigation():
        page.click("#search-form button[type=submit]")
    texts = page.locator("#results tbody tr").all_inner_texts()
    assert any("东京大使馆" in text for text in texts) and any("東京で地震" in text for text in texts)
    assert all("地震" in text for text in texts)
    page.fill("#q", "東京")
    with page.expect_navigation():
        page.click("#search-form button[type=submit]")
    texts = page.locator("#results tbody tr").all_inner_texts()
    assert texts and all("東京で地震" in text for text in texts)
    page.fill("#q", "กรุงเทพ")
    with page.expect_navigation():
        page.click("#search-form button[type=submit]")
    texts = page.locator("#results tbody tr").all_inner_texts()
    assert texts and all("สถานทูตเวอริเดียประจำกรุงเทพฯ" in text for text in texts)
    assert page.locator("#results tbody tr").first.locator("mark").all_inner_texts() == ["กรุงเทพ"]


def test_the_dashboard_draws_trends_over_time_and_refreshes_itself(page, live_site, tmp_path):
    page.clock.install()  # the page's minute-long refresh timer, run forward on demand
    sign_in(page, "mena-admin")
    page.goto("/listening/")
    page.wait_for_selector("#chart-over-time")
    languages = page.evaluate("() => Chart.getChart('chart-over-time').data.datasets.map(d => d.label)")
    assert "English" in languages and "Arabic" in languages  # the demo hears both
    page.select_option("#trend-by", "sentiment")
    assert page.evaluate("() => Chart.getChart('chart-over-time').data.datasets.map(d => d.label)") == [
        "Negative", "Neutral", "Positive"]
    before = int(page.inner_text("#total").replace(",", ""))

    # Three posts heard by the unit while the page is open: a minute later the page shows them, unreloaded.
    _heard_a_minute_later(page, live_site, tmp_path, [f"Embassy open day in Tunis: visit number {n}" for n in range(3)])
    assert int(page.inner_text("#total").replace(",", "")) == before + 3
    assert page.input_value("#trend-by") == "sentiment"  # the reader's choice of breakdown is kept


def test_a_french_dashboard_stays_french_when_it_refreshes_itself(page, live_site, tmp_path):
    page.clock.install()
    sign_in(page, "paris-admin")  # a French interface
    page.goto("/listening/")
    page.wait_for_selector("#chart-sentiment")
    legend = "() => Chart.getChart('chart-sentiment').data.datasets.map(d => d.label)"
    french = page.evaluate(legend)
    assert french == ["négatif", "neutre", "positif"]
    _heard_a_minute_later(page, live_site, tmp_path, [f"Journée portes ouvertes: visite numéro {n}" for n in range(3)])
    assert page.evaluate(legend) == french  # not "negative", "neutral", "positive"
    stats = " ".join(page.inner_text("#stats").split())
    assert stats.startswith("3 publications au cours des 48 dernières heures"), stats  # not "3 publication"
    assert "Français" in page.evaluate("() => Chart.getChart('chart-sentiment').data.labels")


def _heard_a_minute_later(page, live_site, tmp_path, texts: list[str]) -> None:
    """The unit the dashboard shows hears these posts (a replay) and the page's minute-long timer runs."""
    unit = page.get_attribute("#listening-refresh", "data-unit")
    posts = tmp_path / "posts.csv"
    posts.write_text("text\n" + "".join(f"{text}\n" for text in texts))
    replayed = live_site.cli("listen", "replay", str(posts), "--unit", unit, "--source", "live", "--rate", "0")
    assert replayed.returncode == 0, replayed.stderr
    page.clock.run_for(61_000)
    page.wait_for_function("() => document.body.hasAttribute('data-refreshed')")
