// The listening dashboard: charts (Chart.js) and a map (Leaflet over a shipped world outline), no network
// beyond this site.
(function () {
  "use strict";
  var figures = JSON.parse(document.getElementById("listening-figures").textContent);
  var palette = { negative: "#c0392b", neutral: "#95a5a6", positive: "#27ae60" };

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (canvas && window.Chart) { return new window.Chart(canvas, config); }
    return null;
  }

  // The world outline is in spherical coordinates: Russia's Chukotka and Fiji cross the 180th meridian, and a
  // flat map joins -179.9 to 179.9 with a band across the whole world. Each ring is made continuous instead
  // (a point more than 180 degrees from the one before moves by 360), so it runs a little past the edge.
  function unwrapAntimeridian(geometry) {
    if (!geometry) { return; }
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates]
      : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
    polygons.forEach(function (rings) {
      rings.forEach(function (ring) {
        for (var i = 1; i < ring.length; i++) {
          var step = ring[i][0] - ring[i - 1][0];
          if (step > 180) { ring[i] = [ring[i][0] - 360, ring[i][1]]; }
          else if (step < -180) { ring[i] = [ring[i][0] + 360, ring[i][1]]; }
        }
      });
    });
  }

  var lineColours = ["#2c3e50", "#e67e22", "#2980b9", "#8e44ad", "#16a085", "#c0392b"];
  // Words the page carries in the reader's language (the series' name in tooltips, the map's buttons).
  var words = JSON.parse(document.getElementById("listening-words").textContent);
  function languageLabels(sbl) { return sbl.language_labels || sbl.languages; }

  var volumeChart = chart("chart-volume", {
    type: "line",
    data: { labels: figures.volume.labels,
            datasets: [{ label: words.posts, data: figures.volume.counts, borderColor: "#2c3e50", fill: false,
                         tension: 0.2, pointRadius: 0 }] },
    options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
  });

  function sentimentDatasets(sbl) {
    return Object.keys(sbl.series).map(function (s) {
      return { label: (sbl.labels || {})[s] || s, data: sbl.series[s], backgroundColor: palette[s] || "#888" };
    });
  }
  var sentimentChart = chart("chart-sentiment", {
    type: "bar",
    data: { labels: languageLabels(figures.sentiment_by_language),
            datasets: sentimentDatasets(figures.sentiment_by_language) },
    options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
  });

  // Trends over time: one line per language, sentiment, country or term, chosen in a select.
  var trendBy = document.getElementById("trend-by");
  function overTimeDatasets() {
    var series = (figures.over_time || {})[trendBy ? trendBy.value : "language"] || [];
    var empty = document.getElementById("over-time-empty");
    if (empty) { empty.hidden = series.some(function (s) { return s.counts.some(Boolean); }); }
    return series.map(function (s, i) {
      var colour = palette[s.key] || lineColours[i % lineColours.length];
      return { label: s.label, data: s.counts, borderColor: colour, backgroundColor: colour, fill: false,
               tension: 0.2, pointRadius: 0 };
    });
  }
  var overTimeChart = chart("chart-over-time", {
    type: "line",
    data: { labels: figures.volume.labels, datasets: overTimeDatasets() },
    options: { animation: false, interaction: { mode: "index", intersect: false },
               scales: { y: { beginAtZero: true } } }
  });
  if (trendBy && overTimeChart) {
    trendBy.addEventListener("change", function () {
      overTimeChart.data.datasets = overTimeDatasets();
      overTimeChart.update();
    });
  }

  var categoriesChart = chart("chart-categories", {
    type: "bar",
    data: { labels: figures.categories.map(function (c) { return c.label; }),
            datasets: [{ label: words.posts, data: figures.categories.map(function (c) { return c.count; }),
                         backgroundColor: "#2980b9" }] },
    options: { animation: false, indexAxis: "y", plugins: { legend: { display: false } } }
  });

  var markers = null;
  function drawPlaces() {
    if (!markers) { return; }
    markers.clearLayers();
    var max = figures.places.reduce(function (m, p) { return Math.max(m, p.count); }, 1);
    figures.places.forEach(function (p) {
      window.L.circleMarker([p.lat, p.lon], { radius: 4 + 12 * Math.sqrt(p.count / max), color: "#c0392b",
                                               weight: 1, fillOpacity: 0.5 })
        .bindTooltip((p.label || p.name) + " (" + p.count + ")").addTo(markers);
    });
  }

  var mapEl = document.getElementById("map");
  if (mapEl && window.L) {
    var map = window.L.map(mapEl, { worldCopyJump: false, attributionControl: false, zoomControl: false })
      .setView([20, 10], 1);
    window.L.control.zoom({ zoomInTitle: words.zoom_in, zoomOutTitle: words.zoom_out }).addTo(map);
    markers = window.L.layerGroup().addTo(map);
    drawPlaces();
    var url = document.getElementById("world-atlas-url").textContent.trim();
    fetch(url).then(function (r) { return r.json(); }).then(function (world) {
      if (!window.topojson) { return; }
      var land = window.topojson.feature(world, world.objects.countries);
      land.features.forEach(function (f) { unwrapAntimeridian(f.geometry); });
      window.L.geoJSON(land, { style: { color: "#7f8c8d", weight: 0.5, fillColor: "#ecf0f1", fillOpacity: 1 } })
        .addTo(map).bringToBack();
      mapEl.setAttribute("data-ready", "1");
    });
  }

  // Listening is live: every minute the page is fetched again, as the server draws it in the reader's
  // language (a total's plural, story growth, "2 minutes ago", numbers as the reader writes them), and its
  // totals, stories, terms and countries are put in place of these; the charts and map are redrawn from its
  // figures. New alerts are announced, not inserted: each carries a form, and the page is one click away.
  var refresh = document.getElementById("listening-refresh");
  var drawn = ["stats", "stories", "terms", "countries"];
  function redraw(next, fetched) {
    figures = next;
    drawn.forEach(function (id) {
      var here = document.getElementById(id), there = fetched.getElementById(id);
      if (here && there) { here.innerHTML = there.innerHTML; }
    });
    if (volumeChart) {
      volumeChart.data.labels = next.volume.labels;
      volumeChart.data.datasets[0].data = next.volume.counts;
      volumeChart.update();
    }
    if (sentimentChart) {
      sentimentChart.data.labels = languageLabels(next.sentiment_by_language);
      sentimentChart.data.datasets = sentimentDatasets(next.sentiment_by_language);
      sentimentChart.update();
    }
    if (overTimeChart) {
      overTimeChart.data.labels = next.volume.labels;
      overTimeChart.data.datasets = overTimeDatasets();
      overTimeChart.update();
    }
    if (categoriesChart) {
      categoriesChart.data.labels = next.categories.map(function (c) { return c.label; });
      categoriesChart.data.datasets[0].data = next.categories.map(function (c) { return c.count; });
      categoriesChart.update();
    }
    drawPlaces();
    var shown = {};
    document.querySelectorAll("#alerts [data-alert]").forEach(function (el) {
      shown[el.getAttribute("data-alert")] = true;
    });
    var fresh = Array.prototype.filter.call(fetched.querySelectorAll("#alerts [data-alert]"), function (el) {
      return !shown[el.getAttribute("data-alert")];
    });
    var notice = document.getElementById("new-alerts");
    if (notice) { notice.hidden = fresh.length === 0; }
    document.body.setAttribute("data-refreshed", String(Date.now()));
  }
  if (refresh && window.fetch && window.DOMParser) {
    var every = 1000 * (parseInt(refresh.getAttribute("data-every"), 10) || 60);
    window.setInterval(function () {
      if (document.hidden) { return; }
      var url = new window.URL(window.location.href);
      url.searchParams.set("refresh", "1");  // the server keeps its pending messages for the next page shown
      fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fetched = new window.DOMParser().parseFromString(html, "text/html");
          var data = fetched.getElementById("listening-figures");
          var unit = fetched.getElementById("listening-refresh");
          // Another unit chosen in another tab (the unit is the session's): this page keeps its own unit's
          // figures rather than take another's under its heading. A sign-in page has no figures either.
          if (data && unit && unit.getAttribute("data-unit") === refresh.getAttribute("data-unit")) {
            redraw(JSON.parse(data.textContent), fetched);
          }
        })
        .catch(function () { /* offline for a moment: the next minute tries again */ });
    }, every);
  }
})();
