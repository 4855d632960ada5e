// Images in from the page: one dropped for an assessment on the spot (nothing stored), or one
// taken of the open block, queued for the model like any imagery. Only for keys that may assess.
// Loaded before app.js, whose `state`, `t` and `$` it uses once the page runs.
"use strict";

const IMAGE_TYPES = { "image/png": true, "image/jpeg": true, "image/tiff": true };

async function sendImage(path, method, file) {
  if (!IMAGE_TYPES[file.type]) throw new Error(t("notAnImage"));
  const response = await fetch(path, {
    method, body: file, headers: { Authorization: `Bearer ${state.key}`, "Content-Type": file.type },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

function showAssessment(result) {
  const box = $("assessment");
  box.replaceChildren();
  const head = document.createElement("p");
  head.className = "verdict";
  head.textContent = `${nameOf(result.land_use_class)} (${(100 * result.class_probability).toFixed(0)} %) · ` +
    `${t("housing")}: ${result.housing_score.toFixed(2)}`;
  const lines = document.createElement("ul");
  const rows = [
    ...result.top_classes.map((c) => `${nameOf(c.land_use_class)}: ${(100 * c.probability).toFixed(0)} %`),
    ...Object.entries(result.features).map(([name, value]) => `${nameOf(name)}: ${Number(value).toFixed(2)}`),
    `${t("model")} ${result.model_version}`,
  ];
  lines.replaceChildren(...rows.map((text) => { const li = document.createElement("li"); li.textContent = text; return li; }));
  box.append(head, lines);
}

async function assessFile(file) {
  $("assessment").textContent = t("assessing");
  try { showAssessment(await sendImage("/assess", "POST", file)); }
  catch (error) { $("assessment").textContent = `${t("refused")}: ${error.message}`; }
}

function setUpUploads() {
  const zone = $("drop");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault(); zone.classList.remove("over");
    if (event.dataTransfer.files.length) assessFile(event.dataTransfer.files[0]);
  });
  $("assess-file").addEventListener("change", (event) => { if (event.target.files.length) assessFile(event.target.files[0]); });
}

// Under a block's panel: an image of that block, queued for the model with today's date.
function tileUpload(tileId) {
  const label = document.createElement("div");
  label.className = "tile-upload";
  label.textContent = `${t("uploadTile")} `;
  const pick = document.createElement("label");
  pick.className = "pick";
  pick.textContent = t("choose");
  const input = document.createElement("input");
  input.type = "file"; input.accept = Object.keys(IMAGE_TYPES).join(",");
  const said = document.createElement("span");
  input.addEventListener("change", async () => {
    if (!input.files.length) return;
    said.textContent = t("sending");
    try {
      await sendImage(`/tiles/${tileId}/imagery?district=${encodeURIComponent(state.district)}`, "PUT", input.files[0]);
      said.textContent = t("queued");
    } catch (error) { said.textContent = `${t("refused")}: ${error.message}`; }
  });
  pick.appendChild(input); // the browser's own file button speaks the browser's language, not the page's
  label.append(pick, " ", said);
  return label;
}
