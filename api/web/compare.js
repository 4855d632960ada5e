// A block's imagery at two dates side by side, from the archive: what changed between acquisitions.
// Loaded before app.js, whose `state`, `t`, `api`, `lima` and `$` it uses once the page runs.
"use strict";

async function imageAt(tileId, at, img) {
  const response = await fetch(`/imagery/${tileId}.png?at=${encodeURIComponent(at)}`, {
    headers: { Authorization: `Bearer ${state.key}` },
  });
  if (!response.ok) { img.removeAttribute("src"); img.alt = t("noImagery"); return; }
  const old = img.src;
  img.src = URL.createObjectURL(await response.blob());
  img.dataset.at = at;
  if (old) URL.revokeObjectURL(old);
}

function dateChoice(dates, chosen, label) {
  const select = document.createElement("select");
  select.setAttribute("aria-label", label);
  select.replaceChildren(...dates.map((d) => new Option(`${lima(d.captured_at)}${d.source ? " · " + d.source : ""}`, d.captured_at)));
  select.value = chosen;
  return select;
}

// Shown in a block's panel: its acquisitions, the oldest and the newest side by side to begin with.
async function compareDates(tileId) {
  const dates = await api(`/imagery/${tileId}/acquisitions`);
  if (!dates.length) return null;
  const box = document.createElement("div");
  box.className = "compare";
  const title = document.createElement("h4");
  title.textContent = dates.length > 1 ? t("compareTitle") : t("imageryOf");
  box.appendChild(title);
  const sides = dates.length > 1 ? [[dates[0], t("before")], [dates[dates.length - 1], t("after")]] : [[dates[0], ""]];
  const row = document.createElement("div");
  row.className = "sides";
  for (const [chosen, label] of sides) {
    const side = document.createElement("figure");
    const img = document.createElement("img");
    img.className = "dated"; img.width = 180; img.height = 180;
    const caption = document.createElement("figcaption");
    if (dates.length > 1) {
      const select = dateChoice(dates, chosen.captured_at, label);
      select.addEventListener("change", () => imageAt(tileId, select.value, img));
      caption.append(`${label}: `, select);
    } else {
      caption.textContent = lima(chosen.captured_at);
    }
    side.append(img, caption);
    row.appendChild(side);
    imageAt(tileId, chosen.captured_at, img);
  }
  box.appendChild(row);
  return box;
}
