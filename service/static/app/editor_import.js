/* Importing zones from a file: read it (POST /zones/preview stores nothing), review each
 * shape on the map and in the list (keep it or not, name, category), check the kept ones
 * (a dry run each), store them, and add them to a condition when the page was opened for one.
 */
"use strict";

(function () {
  const Z = window.Zones;
  const E = window.ZoneEditor;
  const $ = (id) => document.getElementById(id);
  const m = Z.map();
  const orderId = Z.config.order_id;
  const clauseId = Z.config.clause_id;
  const LEFT_OUT = { color: "#4a5560", weight: 2, dashArray: "4 4", fillOpacity: 0.05 };

  const shapes = L.featureGroup().addTo(m);
  let items = [];
  let fileName = "";
  let saving = false;

  Z.contextLayers(m);
  E.nameTools();

  async function showTarget() {
    if (orderId === null || orderId === undefined) return;
    try {
      const order = await Z.api("GET", `/orders/${orderId}`);
      const clause = order.conditions.find((c) => c.clause_id === clauseId);
      const target = $("target");
      Z.fill(target, "The saved zones will be added to ",
        Z.el("a", { href: `/orders/${orderId}/clauses/${clauseId}/zones` },
          `clause ${clause ? clause.number : "?"} of ${order.reference}`),
        clause ? Z.el("span", { class: "muted" }, `: ${clause.text}`) : null);
      target.hidden = false;
    } catch (err) {
      Z.say("save-status", `The order cannot be read: ${err.message}`, "error");
    }
  }

  function restyle(item) {
    if (item.problem) item.layer.setStyle(E.PROBLEM_STYLE);
    else item.layer.setStyle(item.keep ? E.NEW_STYLE : LEFT_OUT);
  }

  function clearProblems() {
    for (const item of items) {
      if (item.marker) item.marker.remove();
      item.marker = null;
      item.problem = null;
      restyle(item);
    }
    Z.fill($("problems"));
  }

  function row(item, index) {
    const keepId = `keep-${index}`;
    const nameId = `name-${index}`;
    const categoryId = `category-${index}`;
    const keep = Z.el("input", { type: "checkbox", id: keepId, checked: item.keep });
    const name = Z.el("input", { type: "text", id: nameId, value: item.name, maxlength: 300,
      required: true, autocomplete: "off" });
    const category = Z.el("input", { type: "text", id: categoryId, value: item.category,
      maxlength: 60, list: "category-suggestions", autocomplete: "off" });
    const li = Z.el("li", { class: "zone-item new" + (item.keep ? "" : " left-out") },
      Z.el("div", { class: "keep" }, keep,
        Z.el("label", { for: keepId }, `Keep shape ${index + 1}`)),
      Z.el("div", { class: "ed-row" },
        Z.el("div", { class: "field" }, Z.el("label", { for: nameId }, "Name"), name),
        Z.el("div", { class: "field" }, Z.el("label", { for: categoryId }, "Category"), category)),
      Z.el("p", { class: "muted small" }, `${E.area(item.area)} · from ${item.source || fileName}`),
      item.problem ? Z.el("p", { class: "problem" }, item.problem) : null,
      Z.el("button", { type: "button", class: "secondary small",
        onclick: () => E.fit(m, item.layer.getBounds()) },
      "Show", Z.el("span", { class: "visually-hidden" }, ` shape ${index + 1}`)));
    keep.addEventListener("change", () => {
      item.keep = keep.checked;
      li.classList.toggle("left-out", !item.keep);
      restyle(item);
      count();
    });
    name.addEventListener("input", () => {
      item.name = name.value;
      item.layer.setTooltipContent(Z.el("span", {}, item.name || "(no name)"));
    });
    category.addEventListener("input", () => { item.category = category.value; });
    item.focus = () => name.focus();
    return li;
  }

  function render() {
    Z.fill($("shape-list"), items.map(row));
    $("review").hidden = items.length === 0;
    count();
  }

  function count() {
    const kept = items.filter((i) => i.keep).length;
    $("save").textContent = `Save ${kept} kept shape${kept === 1 ? "" : "s"}`;
    $("save").disabled = saving || kept === 0;
  }

  $("upload-read").addEventListener("click", async () => {
    const read = await E.readChosenFile();
    if (!read) return;
    const { file, found } = read;
    fileName = file.name;
    shapes.clearLayers();
    for (const item of items) if (item.marker) item.marker.remove();
    Z.fill($("saved-list"));
    Z.say("save-status", "");
    items = found.features.map((feature, index) => {
      const p = feature.properties;
      const layer = E.layerOf(feature, E.NEW_STYLE);
      const item = { feature, layer, keep: true, name: p.name || "",
        category: p.category || "drawn", source: p.source || file.name, area: p.area_m2,
        problem: null, marker: null };
      Z.label(layer, item.name || "(no name)");
      layer.on("click", () => { if (item.focus) item.focus(); });
      shapes.addLayer(layer);
      return item;
    });
    render();
    E.fit(m, shapes.getBounds());
    if (!$("reason").value.trim()) $("reason").value = `imported from ${file.name}`;
    Z.say("upload-status",
      `${items.length} shape(s) read from ${file.name}; nothing is stored yet.`,
      items.length ? "ok" : "error");
    Z.fill($("upload-notes"),
      found.skipped.map((s) => Z.el("li", { class: "problem" }, `Skipped: ${s}`)),
      found.repaired.map((s) => Z.el("li", { class: "muted" }, `Repaired: ${s}`)));
  });

  function featureOf(item, reason) {
    return {
      type: "Feature",
      geometry: item.feature.geometry,
      properties: { name: item.name.trim(), category: item.category.trim() || "drawn",
        source: item.source, reason },
    };
  }

  async function save() {
    if (saving) return;
    clearProblems();
    const reason = $("reason").value.trim();
    const kept = items.filter((i) => i.keep);
    const lines = [];
    if (reason.length < 3) lines.push("Say why the zones are added.");
    kept.filter((i) => !i.name.trim()).forEach(() => lines.push("Every kept shape needs a name."));
    if (lines.length) {
      Z.fill($("problems"), Z.el("p", {}, Z.el("strong", {}, "Nothing was saved.")),
        Z.el("ul", {}, [...new Set(lines)].map((l) => Z.el("li", {}, l))));
      return;
    }
    saving = true;
    count();
    const stored = [];
    try {
      Z.say("save-status", `Checking ${kept.length} shape(s)…`);
      const results = await E.validateAll(kept.map((i) => featureOf(i, reason)));
      const refused = results.map((r, n) => [kept[n], r.error]).filter(([, e]) => e);
      if (refused.length) {
        for (const [item, error] of refused) {
          item.problem = E.problemText(error);
          item.marker = E.problemMarker(m, E.placeOf(error, item.layer),
            error.message.split(";")[0]);
        }
        render();
        for (const item of items) restyle(item);
        Z.fill($("problems"), Z.el("p", {}, Z.el("strong", {}, "Nothing was saved.")),
          Z.el("ul", {}, refused.map(([item]) => Z.el("li", {}, `${item.name}: ${item.problem}`))));
        Z.say("save-status", "Nothing was saved: the marked shapes were refused.", "error");
        return;
      }
      for (const item of kept) {
        Z.say("save-status", `Storing ${item.name}…`);
        stored.push(await Z.api("POST", "/zones", featureOf(item, reason)));
      }
      let note = "";
      if (orderId !== null && orderId !== undefined) {
        const order = await Z.api("GET", `/orders/${orderId}`);
        const ids = stored.map((z) => z.id);
        const edited = await Z.api("PUT", `/orders/${orderId}`, E.orderEdit(order, reason,
          (c) => (c.clause_id === clauseId ? { zone_ids: [...new Set([...c.zone_ids, ...ids])] }
            : null)));
        note = ` and added to order ${edited.reference} (version ${edited.version})`;
      }
      shapes.clearLayers();
      items = [];
      render();
      Z.fill($("saved-list"), stored.map((z) => Z.el("li", {},
        Z.el("a", { href: `/zones/${z.id}` }, z.properties.name),
        Z.el("span", { class: "muted" }, ` (${z.properties.category}, zone ${z.id})`))));
      Z.say("save-status", `Saved ${stored.length} zone(s)${note}.`, "ok");
    } catch (err) {
      const partly = stored.length ? ` ${stored.length} zone(s) were stored before the error.` : "";
      Z.say("save-status", `Not saved: ${err.message}.${partly}`, "error");
    } finally {
      saving = false;
      count();
    }
  }

  $("save").addEventListener("click", save);
  showTarget();
})();
