// The district's service continuity as the regulators count it, and its report to download.
// Loaded before app.js, whose `state`, `t`, `api` and `$` it uses once the page runs.
"use strict";

const hours = (minutes) => (minutes / 60).toFixed(1);

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

async function loadContinuity() {
  const c = await api(`/districts/${state.district}/continuity`);
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
  const days = c.water_supply.slice(-7);
  $("supply").replaceChildren(...days.map((d) => {
    const li = document.createElement("li");
    li.textContent = `${d.day}: ${d.hours.toFixed(1)} h ${t("ofWater")} (${d.observed_hours.toFixed(1)} h ${t("observed")}, ` +
      `${d.sensors} ${t("sensors")})`;
    return li;
  }));
}

// The report needs the key, which a plain link cannot send: fetched, then handed to the browser.
async function downloadReport(format) {
  const response = await fetch(`/districts/${state.district}/report?format=${format}`, {
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
