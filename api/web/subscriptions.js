// Who is told of the district's alerts and how: the list with each one's messages, a form to add one, and a
// button to remove one. Shown to keys that may subscribe (operators, leaders). Loaded before app.js, whose
// `state`, `t`, `api`, `lima` and `$` it uses once the page runs.
"use strict";

const SEVERITIES = ["info", "warning", "critical"];
let channelKinds = new Map(); // channel -> the kind of target it takes (phone, email, url...)

function fillSubscribeForm() {
  const keep = (select) => select.value;
  const [channel, severity, language] = [keep($("sub-channel")), keep($("sub-severity")), keep($("sub-language"))];
  $("sub-channel").replaceChildren(...[...channelKinds.keys()].map((c) => new Option(t("channels")[c] || c, c)));
  $("sub-severity").replaceChildren(...SEVERITIES.map((s) => new Option(t("severity")[s], s)));
  $("sub-language").replaceChildren(...["es", "en"].map((l) => new Option(t("languages")[l], l)));
  $("sub-channel").value = channel || "sms";
  $("sub-severity").value = severity || "warning";
  $("sub-language").value = language || state.lang;
  targetHint();
}

function targetHint() {
  const kind = channelKinds.get($("sub-channel").value) || "label";
  $("sub-target").placeholder = t("targetHint")[kind];
  $("sub-target").type = kind === "email" ? "email" : kind === "phone" ? "tel" : "text";
}

async function loadSubscriptions() {
  if (!state.may.has("subscribe")) return;
  if (!channelKinds.size) {
    channelKinds = new Map((await api("/subscriptions/channels")).map((c) => [c.channel, c.target]));
    fillSubscribeForm();
  }
  const all = await forDistrict("/subscriptions");
  if (!all) return;
  const mine = all.filter((s) => s.district === state.district);
  const list = $("subscriptions");
  if (!mine.length) { list.innerHTML = `<li></li>`; list.firstChild.textContent = t("noSubs"); return; }
  list.replaceChildren(...mine.map(subscriptionItem));
}

function subscriptionItem(s) {
  const li = document.createElement("li");
  li.dataset.subscription = s.subscription_id;
  const who = [s.name, s.place].filter(Boolean).join(", ");
  const line = document.createElement("span");
  line.textContent = `${t("channels")[s.channel] || s.channel} · ${s.target}${who ? " · " + who : ""} · ` +
    `${t("fromSeverity")} ${t("severity")[s.min_severity]} · ${t("languages")[s.language]}`;
  const remove = document.createElement("button");
  remove.type = "button"; remove.textContent = t("unsubscribe");
  remove.addEventListener("click", async () => {
    await fetch(`/subscriptions/${s.subscription_id}`, { method: "DELETE", headers: { Authorization: `Bearer ${state.key}` } });
    await loadSubscriptions();
  });
  const log = document.createElement("details");
  log.innerHTML = `<summary></summary><ul class="deliveries"></ul>`;
  log.querySelector("summary").textContent = t("sentLog");
  log.addEventListener("toggle", async () => {
    if (!log.open) return;
    const sent = await api(`/subscriptions/${s.subscription_id}/deliveries?limit=10`);
    const ul = log.querySelector("ul");
    if (!sent.length) { ul.innerHTML = "<li></li>"; ul.firstChild.textContent = t("noMessages"); return; }
    ul.replaceChildren(...sent.map((d) => {
      const item = document.createElement("li");
      const receipt = d.receipt ? ` · ${t("receipt")[d.receipt] || d.receipt}` : "";
      item.textContent = `${lima(d.event_time)} · ${t("delivery")[d.status] || d.status}${receipt} · ${d.message}`;
      return item;
    }));
  });
  li.append(line, " ", remove, log);
  return li;
}

async function subscribe(event) {
  event.preventDefault();
  const said = $("sub-said");
  said.className = "said"; said.textContent = t("sending");
  const body = {
    district: state.district, channel: $("sub-channel").value, target: $("sub-target").value.trim(),
    name: $("sub-name").value.trim(), place: $("sub-place").value.trim(), min_severity: $("sub-severity").value,
    language: $("sub-language").value,
  };
  try {
    const created = await api("/subscriptions", { method: "POST", body: JSON.stringify(body) });
    said.textContent = created.channel === "webhook" ? `${t("secretShown")} ${created.signing_secret}` : "";
    $("sub-target").value = ""; $("sub-name").value = ""; $("sub-place").value = "";
    await loadSubscriptions();
  } catch (error) {
    said.className = "said error"; said.textContent = `${t("refused")}: ${error.message}`;
  }
}

function setUpSubscriptions() {
  $("subscribe").addEventListener("submit", subscribe);
  $("sub-channel").addEventListener("change", targetHint);
}
