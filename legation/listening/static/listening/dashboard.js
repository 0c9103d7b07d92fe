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

  chart("chart-volume", {
    type: "line",
    data: { labels: figures.volume.labels,
            datasets: [{ label: "posts", data: figures.volume.counts, borderColor: "#2c3e50", fill: false,
                         tension: 0.2, pointRadius: 0 }] },
    options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
  });

  var sbl = figures.sentiment_by_language;
  chart("chart-sentiment", {
    type: "bar",
    data: { labels: sbl.languages,
            datasets: Object.keys(sbl.series).map(function (s) {
              return { label: (sbl.labels || {})[s] || s, data: sbl.series[s], backgroundColor: palette[s] || "#888" };
            }) },
    options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
  });

  chart("chart-categories", {
    type: "bar",
    data: { labels: figures.categories.map(function (c) { return c.label; }),
            datasets: [{ label: "posts", data: figures.categories.map(function (c) { return c.count; }),
                         backgroundColor: "#2980b9" }] },
    options: { animation: false, indexAxis: "y", plugins: { legend: { display: false } } }
  });

  var mapEl = document.getElementById("map");
  if (mapEl && window.L) {
    var map = window.L.map(mapEl, { worldCopyJump: false, attributionControl: false }).setView([20, 10], 1);
    var markers = window.L.layerGroup().addTo(map);
    var max = figures.places.reduce(function (m, p) { return Math.max(m, p.count); }, 1);
    figures.places.forEach(function (p) {
      window.L.circleMarker([p.lat, p.lon], { radius: 4 + 12 * Math.sqrt(p.count / max), color: "#c0392b",
                                               weight: 1, fillOpacity: 0.5 })
        .bindTooltip(p.name + " (" + p.count + ")").addTo(markers);
    });
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
})();
