// Readings that contradict the imagery or the neighbours: each with why, confirmed or dismissed by an operator.
// Loaded before app.js, whose `state`, `t`, `api` and `$` it uses once the page runs.
"use strict";

async function loadFlags() {
  const flags = await forDistrict(`/districts/${state.district}/plausibility`);
  if (!flags) return;
  $("flags-none").hidden = flags.length > 0;
  $("flags").replaceChildren(...flags.map((f) => {
    const li = document.createElement("li");
    li.dataset.flag = `${f.sensor_id}/${f.rule}`;
    const said = document.createElement("span");
    const decided = f.state === "open" ? "" : ` · ${t("flagState")[f.state]}${f.note ? ": " + f.note : ""}`;
    said.textContent = `${f.sensor_id}: ${state.lang === "es" ? f.reason_es : f.reason}${decided}`;
    li.appendChild(said);
    if (state.may.has("manage-sensors") && f.state === "open") {
      for (const decision of ["confirmed", "dismissed"]) {
        const button = document.createElement("button");
        button.type = "button"; button.textContent = t("flagDecide")[decision]; button.dataset.decision = decision;
        button.addEventListener("click", async () => {
          await api(`/sensors/${encodeURIComponent(f.sensor_id)}/plausibility/${f.rule}`, {
            method: "PUT", body: JSON.stringify({ decision, note: "" }),
          });
          await loadFlags();
        });
        li.append(" ", button);
      }
    }
    return li;
  }));
}
