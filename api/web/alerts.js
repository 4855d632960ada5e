// The live alert list: newest first, each with who was told and how, and the actions a person
// takes from it. Loaded before app.js, whose `state`, `t`, `api` and map it uses once the page runs.
"use strict";

// What the stream writes as an alert's detail (stream/conditions.py), said in the page's language.
const DETAIL_ES = [
  [/^below (\S+) for (\d+) min$/, "bajo $1 durante $2 min"],
  [/^above (\S+) for (\d+) min$/, "sobre $1 durante $2 min"],
  [/^([+-][\d.]+) per hour$/, "$1 por hora"],
  [/^z = ([+-][\d.]+) against the last (\d+) minutes$/, "z = $1 frente a los últimos $2 minutos"],
  [/^no reading for (\d+) min$/, "sin lecturas durante $1 min"],
];

// A change seen from the air (inference/change.py) names its figures; the classes are said as the map says them.
const CHANGE_WORDS_ES = [[/\bhousing\b/, "vivienda"], [/\bbuilt-up\b/, "construido"],
  [/\bvegetation\b/, "vegetación"], [/\bdistance\b/, "distancia"]];

function detailText(detail) {
  if (!detail || state.lang !== "es") return detail || "";
  if (/; housing [+-]/.test(detail)) {
    let said = detail.replace(/([a-z]+) -> ([a-z]+)/, (_, a, b) => `${nameOf(a)} -> ${nameOf(b)}`);
    for (const [word, spanish] of CHANGE_WORDS_ES) said = said.replace(word, spanish);
    return said;
  }
  for (const [pattern, spanish] of DETAIL_ES) if (pattern.test(detail)) return detail.replace(pattern, spanish);
  return detail;
}

function renderAlerts() {
  const list = $("alerts");
  // Notes being typed survive the list being drawn again (a live alert arrives every few seconds on a bad day).
  const typing = new Map([...list.querySelectorAll("li[data-alert]")]
    .map((li) => [li.dataset.alert, li.querySelector(".actions input")]).filter(([, input]) => input && input.value)
    .map(([id, input]) => [id, input.value]));
  const alerts = [...state.alerts.values()].sort((a, b) => (a.opened_at < b.opened_at ? 1 : -1)).slice(0, 100);
  if (!alerts.length) { list.innerHTML = `<li>${t("noAlerts")}</li>`; return; }
  list.replaceChildren(...alerts.map((a) => {
    const li = document.createElement("li");
    li.className = `${a.severity} ${a.state}${a.fresh ? " fresh" : ""}`;
    li.dataset.alert = a.alert_id;
    const title = state.lang === "es" ? a.title_es : a.title_en;
    li.innerHTML = `<strong></strong><small></small>`;
    li.querySelector("strong").textContent = `${t("severity")[a.severity]}: ${title} — ${placeOf(a.tile_id)}`;
    const by = a.acknowledged_by ? ` ${t("by")} ${a.acknowledged_by}` : "";
    li.querySelector("small").textContent =
      `${t("since")} ${lima(a.opened_at)} · ${a.sensor_id} · ${t("state")[a.state]}${by}${a.detail ? " · " + detailText(a.detail) : ""}`;
    const messages = document.createElement("details");
    messages.innerHTML = `<summary></summary><ul class="deliveries"></ul>`;
    messages.querySelector("summary").textContent = t("messages");
    messages.addEventListener("toggle", () => { if (messages.open) showDeliveries(a.alert_id, messages.querySelector("ul")); });
    li.appendChild(messages);
    if (a.rule === "imagery-change" && a.window_start && a.window_end) li.appendChild(beforeAndAfter(a));
    const actionable = (a.state === "open" && state.may.has("acknowledge")) || state.may.has("resolve");
    if ((a.state === "open" || a.state === "acknowledged") && actionable) {
      const actions = alertActions(a);
      if (typing.has(a.alert_id)) actions.querySelector("input").value = typing.get(a.alert_id);
      li.appendChild(actions);
    }
    a.fresh = false;
    return li;
  }));
}

// Acknowledge (someone is on it) or resolve (it is over), each with a note for the record.
function alertActions(a) {
  const form = document.createElement("form");
  form.className = "actions";
  const note = document.createElement("input");
  note.type = "text"; note.maxLength = 500; note.placeholder = t("notePlaceholder"); note.setAttribute("aria-label", t("note"));
  form.appendChild(note);
  const act = (change, label) => {
    const button = document.createElement("button");
    button.type = "button"; button.textContent = label; button.dataset.action = change;
    button.addEventListener("click", async () => {
      try {
        upsert(await api(`/alerts/${a.alert_id}/${change}`, { method: "POST", body: JSON.stringify({ note: note.value.trim() }) }));
        if (change === "resolve") refreshSoon(); // the cards, the map and the priorities change with it
      } catch (error) { form.replaceWith(document.createTextNode(error.message)); }
    });
    form.appendChild(button);
  };
  if (a.state === "open" && state.may.has("acknowledge")) act("acknowledge", t("acknowledge"));
  if (state.may.has("resolve")) act("resolve", t("resolve"));
  form.addEventListener("submit", (event) => event.preventDefault());
  return form;
}

// Who was told of an alert, how, and whether the phone network says it arrived.
async function showDeliveries(alertId, list) {
  const rows = await api(`/deliveries?alert_id=${alertId}`);
  if (!rows.length) { list.innerHTML = `<li>${t("noMessages")}</li>`; return; }
  list.replaceChildren(...rows.map((d) => {
    const li = document.createElement("li");
    const fate = d.receipt ? t("receipt")[d.receipt] || d.receipt : t("delivery")[d.status] || d.status;
    li.textContent = `${lima(d.created_at)} · ${d.name || d.to} · ${d.channel} · ${d.change} · ${fate}`;
    li.title = d.message;
    return li;
  }));
}

function upsert(alert, fresh = false) {
  if (alert.district !== state.district) return;
  state.alerts.set(alert.alert_id, { ...alert, fresh });
  renderAlerts();
  if (districtMap) drawSensors();
}

async function loadAlerts() {
  const rows = await forDistrict(`/alerts?district=${state.district}&state=open&state=acknowledged&limit=100`);
  if (!rows) return;
  state.alerts = new Map(rows.map((a) => [a.alert_id, a]));
  renderAlerts();
  if (districtMap) drawSensors();
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { loadStatus(); loadMap(); loadPriorities(); }, 1500);
}

// EventSource cannot send an Authorization header, so the stream is read with fetch.
async function follow() {
  let lastId = null;
  for (;;) {
    try {
      const headers = { Authorization: `Bearer ${state.key}` };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const response = await fetch("/alerts/stream", { headers });
      if (!response.ok) throw new Error(response.statusText);
      $("conn").textContent = t("connected"); $("conn").classList.add("live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
          const fields = { data: [] };
          for (const line of block.split("\n")) {
            const i = line.indexOf(": ");
            if (i <= 0) continue;
            const [name, text] = [line.slice(0, i), line.slice(i + 2)];
            if (name === "data") fields.data.push(text); else fields[name] = text;
          }
          if (fields.id) lastId = fields.id;
          if (fields.event === "alert") { upsert(JSON.parse(fields.data.join("\n")), true); refreshSoon(); }
        }
      }
    } catch (error) { console.warn("alert stream:", error.message); }
    $("conn").textContent = t("offline"); $("conn").classList.remove("live");
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}


// A change seen from the air: the block at the earlier and the later acquisition, side by side.
function beforeAndAfter(a) {
  const box = document.createElement("details");
  box.className = "compare";
  box.innerHTML = `<summary></summary><div class="sides"></div>`;
  box.querySelector("summary").textContent = t("beforeAfter");
  box.addEventListener("toggle", () => {
    if (!box.open || box.dataset.drawn) return;
    box.dataset.drawn = "1";
    for (const [label, at] of [[t("before"), a.window_start], [t("after"), a.window_end]]) {
      const side = document.createElement("figure");
      const img = document.createElement("img");
      img.className = "dated"; img.width = 160; img.height = 160;
      const caption = document.createElement("figcaption");
      caption.textContent = `${label}: ${lima(at)}`;
      side.append(img, caption);
      box.querySelector(".sides").appendChild(side);
      imageAt(a.tile_id, at, img);
    }
  });
  return box;
}
