// Vigía's page: status, map, live alerts, a sensor chart and priorities for one district.
// Plain script, no build step and nothing from outside this server.
"use strict";


const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const state = {
  lang: localStorage.getItem("vigia.lang") || "es", key: null, district: null, wanted: null, alerts: new Map(), sensors: new Map(),
  places: new Map(), may: new Set(), tolerances: {},
};
const t = (name) => TEXT[state.lang][name];

function lima(iso) {
  return new Date(iso).toLocaleString(state.lang === "es" ? "es-PE" : "en-GB", {
    timeZone: "America/Lima", hour: "2-digit", minute: "2-digit", day: "numeric", month: "short",
  });
}

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options, headers: { Authorization: `Bearer ${state.key}`, "Content-Type": "application/json", ...(options.headers || {}) },
  });
  if (response.status === 401) { showLogin(t("badKey")); throw new Error("unauthorised"); }
  if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
  return response.json();
}

// A district's data, or null when the person chose another district while it was on its way: what arrives
// late for a district no longer shown must not be drawn over the one that is (the map would fit its view to it).
async function forDistrict(path) {
  const district = state.district;
  const data = await api(path);
  return district === state.district ? data : null;
}

function translate() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("lang").textContent = t("other");
  for (const option of $("period").options) option.textContent = t("period")[option.value];
  fillContinuityForms();
  if (channelKinds.size) fillSubscribeForm();
  if (districtMap) { nameLayers(); drawSensors(); }
}


function showLogin(message) {
  $("main").hidden = true; $("login").hidden = false; $("login-error").textContent = message || "";
}

// --- status cards ----------------------------------------------------------------------
async function loadStatus() {
  const d = await forDistrict(`/districts/${state.district}`);
  if (!d) return;
  const cards = [
    [d.sensors, t("sensors")], [d.sensors_reporting, t("reporting")], [d.open_alerts, t("open")],
    [d.critical_alerts, t("critical"), d.critical_alerts ? "critical" : ""],
    [d.mean_housing_score == null ? "–" : d.mean_housing_score.toFixed(2), t("housing")],
  ];
  $("status").replaceChildren(...cards.map(([value, label, cls]) => {
    const card = document.createElement("div");
    card.className = `card ${cls || ""}`;
    card.innerHTML = `<b></b><span></span>`;
    card.querySelector("b").textContent = value;
    card.querySelector("span").textContent = label;
    return card;
  }));
}

// --- map (map.js draws it): tiles coloured by housing score, sensors by state --------------
function scoreColour(score) {
  if (score == null) return "#b0b7c0";
  const hue = 120 * (1 - Math.min(Math.max(score, 0), 1)); // green to red
  return `hsl(${hue}, 65%, ${42 - 10 * score}%)`;
}

async function loadMap() {
  const geo = await forDistrict(`/districts/${state.district}/tiles.geojson`);
  if (!geo) return;
  state.places = new Map(geo.features.filter((f) => f.properties.place).map((f) => [f.id, f.properties.place]));
  drawTiles(geo);
  renderAlerts();
}

// How people name a block, with the tile id only when nobody named it.
const placeOf = (tileId) => (state.places && state.places.get(tileId)) || tileId;

function panel(title, lines) {
  const box = $("tile");
  box.replaceChildren();
  const h = document.createElement("h3");
  h.textContent = title;
  const list = document.createElement("ul");
  list.replaceChildren(...lines.filter(Boolean).map((line) => {
    const li = document.createElement("li"); li.textContent = line; return li;
  }));
  box.append(h, list);
  box.hidden = false;
}

async function showTile(tileId) {
  const tile = await api(`/tiles/${tileId}`);
  const a = tile.assessment;
  const features = a && a.features ? Object.entries(a.features).map(([k, v]) => `${nameOf(k)} ${Number(v).toFixed(2)}`).join(" · ") : "";
  panel(tile.place ? `${tile.place} (${tile.tile_id})` : `${t("tile")} ${tile.tile_id}`, [
    a ? `${nameOf(a.land_use_class)} · ${t("housing")}: ${a.housing_score.toFixed(2)} · ${t("model")} ${a.model_version}` : t("unassessed"),
    features,
    `${tile.sensors.length} ${t("sensors")}: ${tile.sensors.map((x) => x.sensor_id).join(", ")}`,
    `${tile.open_alerts.length} ${t("alertsHere")}`,
    ...tile.open_alerts.map((x) => `${t("severity")[x.severity]}: ${state.lang === "es" ? x.title_es : x.title_en}`),
  ]);
  const dated = await compareDates(tile.tile_id);
  if (dated) $("tile").appendChild(dated);
  if (state.may.has("assess")) $("tile").appendChild(tileUpload(tile.tile_id));
  if (tile.sensors.length) { $("sensor").value = tile.sensors[0].sensor_id; await sensorChanged(); }
}

async function openSensor(sensorId) {
  const sensor = state.sensors.get(sensorId);
  if (!sensor) return;
  const open = [...state.alerts.values()].filter((x) => x.sensor_id === sensorId);
  panel(`${t("chart")} ${sensor.sensor_id}`, [
    `${nameOf(sensor.sensor_type)} · ${sensor.place || sensor.tile_id} · ${t("sensorState")[sensorState(sensor)]}`,
    `${t("lastSeen")}: ${sensor.last_seen ? lima(sensor.last_seen) : t("never")}`,
    `${open.length} ${t("alertsHere")}`,
    ...open.map((x) => `${t("severity")[x.severity]}: ${state.lang === "es" ? x.title_es : x.title_en}`),
  ]);
  $("tile").dataset.sensor = sensorId;
  $("sensor").value = sensorId;
  await sensorChanged();
}

// --- sensor chart ----------------------------------------------------------------------
async function loadSensors() {
  const sensors = await forDistrict(`/sensors?district=${state.district}&limit=1000`);
  if (!sensors) return;
  state.sensors = new Map(sensors.map((s) => [s.sensor_id, s]));
  drawSensors();
  $("sensor").replaceChildren(...sensors.map((s) => new Option(`${s.sensor_id} (${nameOf(s.sensor_type)})`, s.sensor_id)));
  await sensorChanged();
}

async function sensorChanged() {
  const sensor = state.sensors.get($("sensor").value);
  if (!sensor) return;
  $("metric").replaceChildren(...sensor.metrics.map((m) => new Option(nameOf(m), m)));
  await drawChart();
}

async function drawChart() {
  const days = Number($("period").value || 1);
  const start = new Date(Date.now() - days * 86400000).toISOString();
  const bucket = { 1: "5m", 7: "1h", 30: "6h" }[days] || "1h";
  const series = await api(`/sensors/${$("sensor").value}/series?metric=${$("metric").value}` +
    `&bucket=${bucket}&start=${encodeURIComponent(start)}`);
  const chart = $("chart");
  chart.replaceChildren();
  const [W, H, L, B] = [600, 240, 40, 20];
  chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
  if (!series.points) {
    svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty" }, chart).textContent = t("noReadings");
    return;
  }
  const times = series.time.map((seconds) => seconds * 1000);
  const lo = Math.min(...series.min), hi = Math.max(...series.max), span = hi - lo || 1;
  const [t0, t1] = [Date.parse(series.start), Date.parse(series.end)];
  const x = (ms) => L + ((ms - t0) / (t1 - t0)) * (W - L - 5);
  const y = (v) => H - B - ((v - lo) / span) * (H - B - 10);
  const top = times.map((ms, i) => `${x(ms)},${y(series.max[i])}`);
  const bottom = times.map((ms, i) => `${x(ms)},${y(series.min[i])}`).reverse();
  svg("polygon", { points: [...top, ...bottom].join(" "), class: "band" }, chart);
  svg("polyline", { points: times.map((ms, i) => `${x(ms)},${y(series.mean[i] ?? series.last[i])}`).join(" "), class: "mean" }, chart);
  svg("text", { x: 2, y: 12 }, chart).textContent = hi.toFixed(2);
  svg("text", { x: 2, y: H - B }, chart).textContent = lo.toFixed(2);
  svg("text", { x: L, y: H - 4 }, chart).textContent = lima(series.start);
  svg("text", { x: W - 110, y: H - 4 }, chart).textContent = lima(series.end);
}

// --- priorities --------------------------------------------------------------------------
async function loadPriorities() {
  const rows = await forDistrict(`/priorities/tiles?district=${state.district}&limit=10&lang=${state.lang}`);
  if (!rows) return;
  $("priorities").tBodies[0].replaceChildren(...rows.map((r) => {
    const tr = document.createElement("tr");
    for (const value of [r.rank, r.place || r.tile_id, r.index.toFixed(1), r.why]) {
      const td = document.createElement("td"); td.textContent = value; tr.appendChild(td);
    }
    tr.addEventListener("click", () => showTile(r.tile_id));
    return tr;
  }));
}

// --- where to install the next sensors -------------------------------------------------------
async function loadGaps() {
  const [rows, geo] = await Promise.all([
    forDistrict(`/districts/${state.district}/coverage-gaps?limit=10`),
    forDistrict(`/districts/${state.district}/coverage-gaps.geojson?limit=10`),
  ]);
  if (!rows || !geo) return;
  drawGaps(geo);
  $("gaps-none").hidden = rows.length > 0;
  $("gaps").hidden = !rows.length;
  $("gaps").tBodies[0].replaceChildren(...rows.map((g) => {
    const tr = document.createElement("tr");
    const built = g.built_up_fraction == null ? "–" : `${Math.round(100 * g.built_up_fraction)} %`;
    const far = g.nearest_sensor_m == null ? "–" : `${Math.round(g.nearest_sensor_m)} m`;
    for (const value of [g.rank, g.place || g.tile_id, nameOf(g.land_use_class), g.housing_score.toFixed(2), built, far]) {
      const td = document.createElement("td"); td.textContent = value; tr.appendChild(td);
    }
    tr.addEventListener("click", () => zoomToTile(g.tile_id));
    return tr;
  }));
}

// --- start ---------------------------------------------------------------------------------
async function openDistrict(name) {
  state.district = name;
  // Kept in the address, so a link or a bookmark opens on this district.
  history.replaceState(null, "", `${location.pathname}#district=${encodeURIComponent(name)}`);
  if (districtMap) districtMap.bounds = null; // the next tiles drawn set the view
  // One part failing (a slow query, a server older than the page) leaves the others shown.
  const parts = await Promise.allSettled([
    loadStatus(), loadMap(), loadAlerts(), loadSensors(), loadPriorities(), loadContinuity(), loadSemester(),
    loadSubscriptions(), loadGaps(), loadFlags(), loadUncertain(),
  ]);
  const failed = parts.filter((p) => p.status === "rejected").map((p) => p.reason);
  if (failed.some((error) => error.message === "unauthorised")) throw failed[0];
  failed.forEach((error) => console.error("part of the page could not be loaded:", error));
}

async function start() {
  translate();
  state.may = new Set((await api("/me")).may);
  $("assess-box").hidden = !state.may.has("assess");
  $("subs-box").hidden = !state.may.has("subscribe");
  $("label-box").hidden = !state.may.has("label");
  $("tolerance").hidden = $("cut").hidden = !state.may.has("announce");
  const districts = await api("/districts");
  $("login").hidden = true; $("main").hidden = false;
  $("district").replaceChildren(...districts.map((d) => new Option(d.district, d.district)));
  const named = districts.find((d) => d.district === state.wanted);
  const first = (named || districts[0] || {}).district;
  if (first) { $("district").value = first; await openDistrict(first); }
  follow();
}

$("district").addEventListener("change", (e) => openDistrict(e.target.value));
setUpUploads();
setUpContinuity();
setUpSubscriptions();
$("report-html").addEventListener("click", () => downloadReport("html"));
$("report-pdf").addEventListener("click", () => downloadReport("pdf"));
$("sensor").addEventListener("change", sensorChanged);
$("metric").addEventListener("change", drawChart);
$("period").addEventListener("change", drawChart);
$("lang").addEventListener("click", () => {
  state.lang = state.lang === "es" ? "en" : "es";
  localStorage.setItem("vigia.lang", state.lang);
  translate(); renderAlerts();
  if (state.district) { loadPriorities(); loadContinuity(); loadSemester(); loadSubscriptions(); loadFlags(); }
});
$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  state.key = $("key").value.trim();
  localStorage.setItem("vigia.key", state.key);
  start().catch((error) => showLogin(error.message));
});

// A key may arrive in the address (#key=...), as `vigia demo` prints it; it is moved out of sight at once.
// The address may also name the district to open (#district=...).
const fromHash = new URLSearchParams(location.hash.slice(1));
state.wanted = fromHash.get("district");
if (fromHash.get("key")) { localStorage.setItem("vigia.key", fromHash.get("key")); history.replaceState(null, "", location.pathname); }
state.key = localStorage.getItem("vigia.key");
translate();
if (state.key) start().catch((error) => showLogin(error.message)); else showLogin();
