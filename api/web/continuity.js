// The district's service continuity as the regulators count it: the last 30 days, the semester beside the
// tolerance an operator sets, the programmed cuts recorded, and the report to download.
// Loaded before app.js, whose `state`, `t`, `api` and `$` it uses once the page runs.
"use strict";

const hours = (minutes) => (minutes / 60).toFixed(1);

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

async function loadContinuity() {
  const c = await forDistrict(`/districts/${state.district}/continuity`);
  if (!c) return;
  const table = $("continuity").tBodies[0];
  table.replaceChildren();
  for (const service of ["power", "water"]) {
    const s = c[service];
    const tr = document.createElement("tr");
    cell(tr, t("services")[service]);
    cell(tr, String(s.count));
    cell(tr, `${hours(s.total_minutes)} h`);
    cell(tr, service === "power" ? String(s.compensable) : "–");
    cell(tr, String(s.announced));
    table.appendChild(tr);
  }
  const listed = [...c.power.interruptions.filter((i) => i.compensable)];
  $("compensable").replaceChildren(...listed.map((i) => {
    const li = document.createElement("li");
    li.textContent = `${placeOf(i.tile_id)} · ${lima(i.started)} · ${hours(i.minutes)} h · ${i.sensor_id}`;
    return li;
  }));
  $("compensable-none").hidden = listed.length > 0;
  $("cuts").replaceChildren(...c.cuts.map((cut) => {
    const li = document.createElement("li");
    const inTime = Date.parse(cut.starts_at) - Date.parse(cut.announced_at) >= 48 * 3600000;
    li.textContent = `${t("services")[cut.service]} · ${lima(cut.starts_at)} – ${lima(cut.ends_at)} · ` +
      `${t("announcedAt")} ${lima(cut.announced_at)} (${t(inTime ? "announcedInTime" : "announcedLate")})` +
      `${cut.note ? " · " + cut.note : ""}`;
    return li;
  }));
  const days = c.water_supply.slice(-7);
  $("supply-none").hidden = days.length > 0;
  $("supply").replaceChildren(...days.map((d) => {
    const li = document.createElement("li");
    li.textContent = `${d.day}: ${d.hours.toFixed(1)} h ${t("ofWater")} (${d.observed_hours.toFixed(1)} h ${t("observed")}, ` +
      `${d.sensors} ${t("sensors")})`;
    return li;
  }));
}

async function loadSemester() {
  const s = await forDistrict(`/districts/${state.district}/continuity/semester`);
  if (!s) return;
  $("semester-label").textContent = `${s.semester} (${s.start.slice(0, 10)} – ${s.end.slice(0, 10)})`;
  $("semester").tBodies[0].replaceChildren(...["power", "water"].map((service) => {
    const x = s[service];
    const tr = document.createElement("tr");
    cell(tr, t("services")[service]);
    cell(tr, String(x.count));
    cell(tr, `${x.total_hours.toFixed(1)} h`);
    cell(tr, x.tolerance ? `N ≤ ${x.tolerance.interruptions} · D ≤ ${x.tolerance.hours} h` : t("notSet"));
    cell(tr, x.tolerance ? `${x.over_tolerance} / ${x.supply_points.length}` : "–");
    if (x.over_tolerance) tr.className = "over";
    return tr;
  }));
  state.tolerances = { power: s.power.tolerance, water: s.water.tolerance };
  showTolerance();
}

function showTolerance() {
  const set = state.tolerances && state.tolerances[$("tolerance-service").value];
  $("tolerance-n").value = set ? set.interruptions : "";
  $("tolerance-d").value = set ? set.hours : "";
}

// Operators set the tolerances and record programmed cuts; the page offers it only to keys that may.
function fillContinuityForms() {
  for (const id of ["tolerance-service", "cut-service"]) {
    const chosen = $(id).value || "power";
    $(id).replaceChildren(...["power", "water"].map((s) => new Option(t("services")[s], s)));
    $(id).value = chosen;
  }
  $("cut-note").placeholder = t("cutNote");
}

async function saveFrom(form, said, send) {
  said.className = ""; said.textContent = t("sending");
  try {
    await send();
    said.textContent = t("saved");
    await Promise.all([loadContinuity(), loadSemester()]);
  } catch (error) {
    said.className = "error"; said.textContent = `${t("refused")}: ${error.message}`;
  }
}

function setUpContinuity() {
  $("tolerance-service").addEventListener("change", showTolerance);
  $("tolerance").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { interruptions: Number($("tolerance-n").value), hours: Number($("tolerance-d").value) };
    saveFrom($("tolerance"), $("tolerance-said"), () => api(
      `/districts/${state.district}/tolerances/${$("tolerance-service").value}`, { method: "PUT", body: JSON.stringify(body) }));
  });
  $("cut").addEventListener("submit", (e) => {
    e.preventDefault();
    // datetime-local is the browser's clock, which is Lima's for the people using this page
    const at = (id) => new Date($(id).value).toISOString();
    const body = {
      service: $("cut-service").value, starts_at: at("cut-starts"), ends_at: at("cut-ends"),
      announced_at: at("cut-announced"), note: $("cut-note").value.trim(),
    };
    saveFrom($("cut"), $("cut-said"), () => api(`/districts/${state.district}/cuts`, { method: "POST", body: JSON.stringify(body) }));
  });
}

// The report needs the key, which a plain link cannot send: fetched, then handed to the browser.
async function downloadReport(format) {
  const response = await fetch(`/districts/${state.district}/report?format=${format}&lang=${state.lang}`, {
    headers: { Authorization: `Bearer ${state.key}` },
  });
  if (!response.ok) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `vigia-${state.district}.${format}`;
  document.body.appendChild(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
}
