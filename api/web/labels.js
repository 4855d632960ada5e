// Labels from the field: the tiles the model is least sure of first, each with its image and a choice of what
// people see there on the ground. Loaded before app.js, whose `state`, `t`, `api`, `nameOf` and `$` it uses.
"use strict";

const LABEL_CLASSES = ["mobilehomepark", "denseresidential", "mediumresidential", "sparseresidential", "buildings",
  "parkinglot", "freeway", "intersection", "overpass", "river", "beach", "harbor", "forest", "chaparral",
  "agricultural", "golfcourse", "baseballdiamond", "tenniscourt", "storagetanks", "runway", "airplane"];

async function loadUncertain() {
  if (!state.may.has("label")) return;
  const rows = await forDistrict(`/districts/${state.district}/uncertain?limit=8`);
  if (!rows) return;
  $("uncertain-none").hidden = rows.length > 0;
  $("uncertain").replaceChildren(...rows.map((row) => {
    const li = document.createElement("li");
    li.dataset.tile = row.tile_id;
    const img = document.createElement("img");
    img.width = 96; img.height = 96; img.alt = row.tile_id;
    fetch(`/imagery/${row.tile_id}.png`, { headers: { Authorization: `Bearer ${state.key}` } })
      .then((r) => (r.ok ? r.blob() : null)).then((blob) => { if (blob) img.src = URL.createObjectURL(blob); });
    const said = document.createElement("span");
    said.textContent = `${nameOf(row.land_use_class)} (${Math.round(100 * row.class_probability)} %)`;
    const choice = document.createElement("select");
    choice.setAttribute("aria-label", t("onTheGround"));
    choice.replaceChildren(new Option(t("onTheGround"), ""), ...LABEL_CLASSES.map((c) => new Option(nameOf(c), c)));
    const save = document.createElement("button");
    save.type = "button"; save.textContent = t("save");
    save.addEventListener("click", async () => {
      if (!choice.value) return;
      const [z, x, y] = row.tile_id.split("/");
      try {
        await api(`/tiles/${z}/${x}/${y}/label`, { method: "PUT", body: JSON.stringify({ land_use_class: choice.value }) });
        li.replaceChildren(document.createTextNode(`${row.tile_id}: ${nameOf(choice.value)} · ${t("saved")}`));
        li.className = "labelled";
      } catch (error) { said.textContent = `${t("refused")}: ${error.message}`; }
    });
    const text = document.createElement("div");
    text.append(said, document.createElement("br"), choice, " ", save);
    li.append(img, text);
    return li;
  }));
}
