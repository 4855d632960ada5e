// Loaded before app.js, whose `state`, `t` and panels it uses once the page runs.
// The district map (Leaflet, served by this API like everything else on the page): the
// district's own imagery from the archive as the base layer, the sensor tiles outlined and
// coloured by housing score, and the sensors coloured by state. No request leaves the server.
"use strict";

const IMAGERY_ZOOM = Number(document.body.dataset.imageryZoom || 19);
const IMAGERY_LEVELS = 5; // the API draws the imagery from this many zooms out (api/map_tiles.py)
const SENSOR_COLOURS = { critical: "#c0392b", warning: "#e67e22", ok: "#27ae60", silent: "#7f8c8d" };
const SILENT_MINUTES = 15;

// The imagery tiles need the key, which an <img> cannot send: fetched, then shown from a blob.
const ArchiveImagery = L.GridLayer.extend({
  createTile(coords, done) {
    const tile = document.createElement("img");
    tile.alt = "";
    fetch(`/imagery/${coords.z}/${coords.x}/${coords.y}.png`, { headers: { Authorization: `Bearer ${state.key}` } })
      .then((response) => (response.ok ? response.blob() : null))
      .then((blob) => {
        if (!blob) { tile.style.visibility = "hidden"; done(null, tile); return; } // no imagery taken there
        tile.onload = () => { URL.revokeObjectURL(tile.src); done(null, tile); };
        tile.src = URL.createObjectURL(blob);
        tile.dataset.imagery = `${coords.z}/${coords.x}/${coords.y}`;
      })
      .catch((error) => done(error, tile));
    return tile;
  },
});

const DistrictButton = L.Control.extend({
  options: { position: "topleft" },
  onAdd() {
    const button = L.DomUtil.create("button", "map-home");
    button.type = "button";
    button.textContent = "⌂";
    button.title = t("zoomDistrict");
    button.setAttribute("aria-label", t("zoomDistrict"));
    L.DomEvent.on(button, "click", (event) => { L.DomEvent.stop(event); zoomToDistrict(); });
    return button;
  },
});

let districtMap = null;

function createMap() {
  const map = L.map("map", { zoomControl: true, attributionControl: true, maxZoom: IMAGERY_ZOOM + 2, zoomSnap: 0.5 });
  map.attributionControl.setPrefix("Leaflet");
  const imagery = new ArchiveImagery({
    minZoom: IMAGERY_ZOOM - IMAGERY_LEVELS, maxNativeZoom: IMAGERY_ZOOM, maxZoom: IMAGERY_ZOOM + 2,
    attribution: t("imageryCredit"),
  }).addTo(map);
  map.createPane("sensors").style.zIndex = 450; // above the blocks, whenever either is drawn again
  const tiles = L.layerGroup().addTo(map);
  const sensors = L.layerGroup().addTo(map);
  const gaps = L.layerGroup().addTo(map);
  const layers = L.control.layers({}, {}, { collapsed: false }).addTo(map);
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  new DistrictButton().addTo(map);
  districtMap = { map, imagery, tiles, sensors, gaps, layers, bounds: null };
  map.on("zoomend", () => drawSensors()); // the ring around shared points is in pixels
  nameLayers();
  return districtMap;
}

function nameLayers() {
  const m = districtMap;
  [m.imagery, m.tiles, m.sensors, m.gaps].forEach((layer) => m.layers.removeLayer(layer));
  m.layers.addOverlay(m.imagery, t("imagery"));
  m.layers.addOverlay(m.tiles, t("blocks"));
  m.layers.addOverlay(m.sensors, t("sensorsLayer"));
  m.layers.addOverlay(m.gaps, t("gapsLayer"));
}

function zoomToDistrict() {
  if (districtMap && districtMap.bounds) districtMap.map.fitBounds(districtMap.bounds, { padding: [12, 12] });
}

function sensorState(sensor) {
  const open = [...state.alerts.values()].filter((a) => a.sensor_id === sensor.sensor_id && a.state !== "resolved");
  if (open.some((a) => a.severity === "critical")) return "critical";
  if (open.length) return "warning";
  const quiet = !sensor.last_seen || Date.now() - new Date(sensor.last_seen) > SILENT_MINUTES * 60000;
  return quiet ? "silent" : "ok";
}

function drawTiles(geo) {
  const m = districtMap || createMap();
  m.tiles.clearLayers();
  const layer = L.geoJSON(geo, {
    style: (f) => ({
      color: f.properties.open_alerts ? SENSOR_COLOURS.critical : "#ffffff", weight: f.properties.open_alerts ? 2.5 : 1,
      fillColor: scoreColour(f.properties.housing_score), fillOpacity: 0.35,
    }),
    onEachFeature: (f, shape) => {
      const p = f.properties;
      shape.bindTooltip(`${p.place || p.tile_id} · ${p.land_use_class ? nameOf(p.land_use_class) : t("unassessed")}` +
        ` · ${p.housing_score == null ? "–" : p.housing_score.toFixed(2)} · ${p.open_alerts} ${t("open")}`);
      shape.on("click", () => showTile(p.tile_id));
      if (shape._path) shape._path.dataset.tile = p.tile_id;
      shape.on("add", () => { if (shape._path) shape._path.dataset.tile = p.tile_id; });
    },
  });
  layer.addTo(m.tiles);
  const first = !m.bounds;
  m.bounds = geo.features.length ? layer.getBounds() : null;
  if (first) zoomToDistrict();
}

// Sensors installed at one point (a water and a power sensor on the same house) would hide each other: those
// within a metre of one another are set around their point in a small ring, each joined to it by a thin line.
function spreadOffsets(sensors, radius = 11) {
  const groups = new Map();
  for (const s of sensors) {
    const key = `${s.latitude.toFixed(5)},${s.longitude.toFixed(5)}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(s.sensor_id);
  }
  const offsets = new Map();
  for (const ids of groups.values()) {
    const ring = ids.length > 1 ? Math.max(radius, (ids.length * 16) / (2 * Math.PI)) : 0;
    ids.forEach((id, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / ids.length;
      offsets.set(id, [ring * Math.cos(angle), ring * Math.sin(angle)]);
    });
  }
  return offsets;
}

function drawSensors() {
  const m = districtMap || createMap();
  m.sensors.clearLayers();
  // before the first view is set there are no pixels to spread in; the first zoom draws them again
  const offsets = m.map._loaded ? spreadOffsets([...state.sensors.values()]) : new Map();
  for (const sensor of state.sensors.values()) {
    const now = sensorState(sensor);
    const at = L.latLng(sensor.latitude, sensor.longitude);
    const [dx, dy] = offsets.get(sensor.sensor_id) || [0, 0];
    const shown = dx || dy ? m.map.layerPointToLatLng(m.map.latLngToLayerPoint(at).add([dx, dy])) : at;
    if (dx || dy) L.polyline([at, shown], { color: "#ffffff", weight: 1, opacity: 0.8, pane: "sensors" }).addTo(m.sensors);
    const marker = L.circleMarker(shown, {
      radius: 7, color: "#ffffff", weight: 2, fillColor: SENSOR_COLOURS[now], fillOpacity: 1, pane: "sensors",
    });
    marker.bindTooltip(`${sensor.sensor_id} · ${sensor.place || sensor.tile_id} · ${t("sensorState")[now]}`);
    marker.on("click", () => openSensor(sensor.sensor_id));
    marker.on("add", () => { marker._path.dataset.sensor = sensor.sensor_id; marker._path.dataset.state = now; });
    marker.addTo(m.sensors);
  }
}

// Precarious housing no sensor watches, numbered by need: where to install the next sensors.
function drawGaps(geo) {
  const m = districtMap || createMap();
  m.gaps.clearLayers();
  // a permanent label needs the map's view, which the district's tiles set when they arrive
  m.map.whenReady(() => L.geoJSON(geo, {
    style: () => ({ color: "#8e24aa", weight: 2, dashArray: "4 3", fill: false }),
    onEachFeature: (f, shape) => {
      shape.bindTooltip(String(f.properties.rank), { permanent: true, direction: "center", className: "gap-rank" });
      shape.on("add", () => { if (shape._path) shape._path.dataset.gap = f.properties.rank; });
    },
  }).addTo(m.gaps));
}

function zoomToTile(tileId) {
  const [z, x, y] = tileId.split("/").map(Number);
  const lon = (v) => (v / 2 ** z) * 360 - 180;
  const lat = (v) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * v) / 2 ** z))) * 180) / Math.PI;
  districtMap.map.fitBounds([[lat(y + 1), lon(x)], [lat(y), lon(x + 1)]], { maxZoom: z });
}
