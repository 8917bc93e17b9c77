/* The zone editor of one condition: draw, cut, pick, edit and remove its zones, set its
 * buffer, and save (every new shape checked before any is stored, then a new order version).
 */
"use strict";

(function () {
  const Z = window.Zones;
  const E = window.ZoneEditor;
  const $ = (id) => document.getElementById(id);
  const m = Z.map();
  const drawn = Z.folium("drawn"); // the feature group Geoman draws into
  const orderId = Z.config.order_id;
  const clauseId = Z.config.clause_id;

  const entries = new Map(); // key -> the zone as edited here
  const bufferGroup = L.layerGroup().addTo(m);
  let counter = 0;
  let order = null;
  let clause = null;
  let saving = false;
  let sharedEntry = null;
  let fitted = false;

  // -- Geoman ------------------------------------------------------------------------------

  m.pm.setGlobalOptions({
    layerGroup: drawn,
    allowSelfIntersection: true, // the server names the crossing; the page pins it
    pathOptions: E.NEW_STYLE,
  });
  E.nameTools();

  const library = E.libraryLayer(m, {
    onPick: pick,
    skip: (id) => [...entries.values()].some((e) => e.id === id),
  });

  // -- entries -------------------------------------------------------------------------------

  function labelText(entry) {
    if (entry.kind === "new") return entry.name.trim() || "New shape (no name yet)";
    return entry.edited ? `${entry.name} (shape changed)` : entry.name;
  }

  function relabel(entry) {
    const layer = entry.layer;
    if (layer.getTooltip()) layer.setTooltipContent(Z.el("span", {}, labelText(entry)));
    else Z.label(layer, labelText(entry));
  }

  function restyle(entry) {
    if (entry.problem) entry.layer.setStyle(E.PROBLEM_STYLE);
    else entry.layer.setStyle(entry.kind === "new" ? E.NEW_STYLE : Z.ZONE_STYLE);
  }

  /** Put ``layer`` on the map as the shape of ``entry`` (after a draw, a cut, a load). */
  function attach(entry, layer) {
    entry.layer = layer;
    layer.options.zoneKey = entry.key;
    if (!drawn.hasLayer(layer)) drawn.addLayer(layer);
    layer.off("pm:edit", entry.onEdit); // Geoman's own pm:edit listeners stay
    layer.on("pm:edit", entry.onEdit);
    layer.off("click", entry.onClick);
    layer.on("click", entry.onClick);
    restyle(entry);
    relabel(entry);
  }

  function addEntry(props, layer) {
    const entry = Object.assign({
      key: `zone-${++counter}`, kind: "new", id: null, version: null, name: "",
      category: "drawn", source: null, edited: false, problem: null, marker: null,
      sharedChoice: null,
    }, props);
    entry.onEdit = () => changed(entry);
    entry.onClick = () => { if (!E.busy(m)) focusItem(entry); };
    entries.set(entry.key, entry);
    attach(entry, layer);
    return entry;
  }

  function entryOf(layer) {
    return layer && layer.options ? entries.get(layer.options.zoneKey) : undefined;
  }

  function clearProblem(entry) {
    if (entry.marker) entry.marker.remove();
    entry.marker = null;
    if (entry.problem) {
      entry.problem = null;
      restyle(entry);
    }
  }

  function removeEntry(entry) {
    clearProblem(entry);
    entries.delete(entry.key);
    drawn.removeLayer(entry.layer);
    entry.layer.remove();
    if (entry.kind === "existing") library.redraw();
    renderList();
    scheduleBuffer();
    Z.say("save-status", entry.kind === "existing"
      ? `${entry.name} will be taken off this condition when you save `
        + "(the zone itself stays in the library)."
      : "Shape removed.");
  }

  /** Bring a zone's item in the panel into view (a click on its shape). */
  function focusItem(entry) {
    const item = document.querySelector(`#zone-list [data-key="${entry.key}"]`);
    if (!item) return;
    item.scrollIntoView({ block: "nearest" });
    const target = item.querySelector("input") || item.querySelector("button");
    if (target) target.focus({ preventScroll: true });
  }

  function changed(entry) {
    if (entry.kind === "existing") entry.edited = true;
    entry.sharedChoice = null;
    clearProblem(entry);
    relabel(entry);
    renderList();
    scheduleBuffer();
  }

  function pick(feature, options) {
    const known = [...entries.values()].find((e) => e.id === feature.id);
    if (known) {
      Z.say("save-status", `${known.name} is already one of the condition's zones.`);
      return;
    }
    const p = feature.properties;
    const entry = addEntry({
      kind: "existing", id: feature.id, version: p.version, name: p.name, category: p.category,
      source: p.source,
    }, E.layerOf(feature, Z.ZONE_STYLE));
    library.redraw();
    renderList();
    scheduleBuffer();
    if (options && options.show) E.fit(m, E.boundsOf([entry.layer]));
    Z.say("save-status", `${p.name} added to the condition: save to keep it.`);
  }

  m.on("pm:create", (event) => {
    const shape = event.shape === "Circle" ? "circle" : event.shape === "Rectangle" ? "rectangle"
      : "polygon";
    const entry = addEntry({ kind: "new", shape }, event.layer);
    renderList();
    scheduleBuffer();
    const input = $(`name-${entry.key}`);
    if (input) {
      input.scrollIntoView({ block: "nearest" });
      input.focus({ preventScroll: true });
    }
    Z.say("save-status", "Shape drawn: give it a name, then save.");
  });

  m.on("pm:cut", (event) => {
    const entry = entryOf(event.originalLayer);
    const layer = event.layer;
    if (!entry || (layer.getLayers && layer.getLayers().length === 0)) return;
    attach(entry, layer);
    changed(entry);
  });

  m.on("pm:remove", (event) => {
    const entry = entryOf(event.layer);
    if (entry) removeEntry(entry);
  });

  // -- the panel -----------------------------------------------------------------------------

  function describe(entry) {
    const layer = entry.layer;
    if (E.isCircle(layer)) return `circle, radius ${Z.metres(layer.getRadius())}`;
    if (layer instanceof L.Rectangle) return "rectangle";
    return entry.source && entry.kind === "new" ? "shape from a file" : "polygon";
  }

  function actions(entry) {
    const hidden = (text) => Z.el("span", { class: "visually-hidden" }, ` ${text}`);
    const what = entry.name || "the new shape";
    return Z.el("div", { class: "ed-row actions" },
      Z.el("button", { type: "button", class: "secondary small",
        onclick: () => E.fit(m, E.boundsOf([entry.layer])) }, "Show", hidden(what)),
      Z.el("button", { type: "button", class: "secondary small",
        onclick: () => removeEntry(entry) },
      entry.kind === "existing" ? "Take off" : "Remove", hidden(what)));
  }

  function newItem(entry) {
    const nameId = `name-${entry.key}`;
    const categoryId = `category-${entry.key}`;
    const name = Z.el("input", { type: "text", id: nameId, value: entry.name, required: true,
      maxlength: 300, autocomplete: "off",
      "aria-invalid": entry.problem && !entry.name.trim() ? "true" : null });
    name.addEventListener("input", () => {
      entry.name = name.value;
      relabel(entry);
    });
    const category = Z.el("input", { type: "text", id: categoryId, value: entry.category,
      maxlength: 60, list: "category-suggestions", autocomplete: "off" });
    category.addEventListener("input", () => { entry.category = category.value; });
    return Z.el("li", { class: "zone-item new", dataset: { key: entry.key } },
      Z.el("p", { class: "zone-head" }, Z.el("strong", {}, "New"), ` · ${describe(entry)}`),
      Z.el("div", { class: "ed-row" },
        Z.el("div", { class: "field" }, Z.el("label", { for: nameId }, "Name (required)"), name),
        Z.el("div", { class: "field" }, Z.el("label", { for: categoryId }, "Category"), category)),
      entry.problem ? Z.el("p", { class: "problem" }, entry.problem) : null,
      actions(entry));
  }

  function existingItem(entry) {
    return Z.el("li", { class: "zone-item existing" + (entry.edited ? " edited" : ""),
      dataset: { key: entry.key } },
    Z.el("p", { class: "zone-head" }, Z.el("strong", {}, entry.name)),
    Z.el("p", { class: "muted small" },
      `${entry.category} · zone ${entry.id}` + (entry.version ? `, version ${entry.version}` : ""),
      " · ", Z.el("a", { href: `/zones/${entry.id}` }, "history")),
    entry.edited ? Z.el("p", { class: "edited-note" },
      "Shape changed here: saving makes a new version of this zone.") : null,
    entry.problem ? Z.el("p", { class: "problem" }, entry.problem) : null,
    actions(entry));
  }

  function renderList() {
    const list = [...entries.values()];
    Z.fill($("zone-list"), list.map((e) => (e.kind === "new" ? newItem(e) : existingItem(e))));
    $("zones-empty").hidden = list.length > 0;
  }

  function fact(term, ...value) {
    return [Z.el("dt", {}, term), Z.el("dd", {}, ...value)];
  }

  function showClause(subject) {
    Z.fill($("clause-facts"),
      fact("Order", E.orderName(order), Z.el("span", { class: "muted" },
        ` (version ${order.version})`)),
      subject ? fact("Subject", `${subject.reference}, ${subject.name}`) : [],
      fact("Clause", `${clause.number}`),
      fact("Buffer", clause.buffer_m > 0 ? Z.metres(clause.buffer_m) : "none"));
    Z.fill($("clause-text"), clause.text);
  }

  // -- loading ---------------------------------------------------------------------------------

  async function load() {
    order = await Z.api("GET", `/orders/${orderId}`);
    clause = order.conditions.find((c) => c.clause_id === clauseId) || null;
    for (const entry of [...entries.values()]) {
      clearProblem(entry);
      drawn.removeLayer(entry.layer);
      entry.layer.remove();
    }
    entries.clear();
    if (!clause) {
      Z.fill($("clause-text"), "This order no longer has this clause.");
      renderList();
      return;
    }
    let subject = null;
    try {
      subject = await Z.api("GET", `/subjects/${order.subject_id}`);
    } catch (err) {
      subject = null; // the clause can be edited without the subject's name
    }
    showClause(subject);
    const zones = await Promise.all(clause.zone_ids.map((id) => Z.api("GET", `/zones/${id}`)));
    for (const feature of zones) {
      const p = feature.properties;
      addEntry({ kind: "existing", id: feature.id, version: p.version, name: p.name,
        category: p.category, source: p.source }, E.layerOf(feature, Z.ZONE_STYLE));
    }
    $("buffer-m").value = clause.buffer_m ? String(clause.buffer_m) : "0";
    renderList();
    scheduleBuffer();
    if (!fitted) {
      fitted = true;
      const bounds = E.boundsOf([...entries.values()].map((e) => e.layer));
      if (bounds.isValid()) E.fit(m, bounds, 17);
      library.refresh();
    } else {
      library.redraw();
    }
  }

  // -- buffer ----------------------------------------------------------------------------------

  let bufferTimer = null;
  let bufferTicket = 0;

  function bufferValue() {
    const text = $("buffer-m").value.trim();
    if (text === "") return 0;
    const value = Number(text);
    return Number.isFinite(value) ? value : NaN;
  }

  function scheduleBuffer() {
    clearTimeout(bufferTimer);
    bufferTimer = setTimeout(drawBuffer, 200);
  }

  /** The buffer is grown by the server (POST /zones/buffer), in metres, exactly as the
   * judging grows it; the page only draws it. */
  async function drawBuffer() {
    const ticket = ++bufferTicket;
    const value = bufferValue();
    const layers = [...entries.values()].map((e) => e.layer);
    if (!(value >= 0) || value > 50000) {
      bufferGroup.clearLayers();
      Z.say("buffer-note", "The buffer must be a number of metres from 0 to 50 000.", "error");
      return;
    }
    if (value === 0 || layers.length === 0) {
      bufferGroup.clearLayers();
      Z.say("buffer-note", value === 0 ? "No buffer: only the zones themselves are barred."
        : "The buffer is drawn once the condition has zones.");
      return;
    }
    let grown;
    try {
      grown = await Z.api("POST", "/zones/buffer",
        { buffer_m: value, geometries: layers.map(E.geometryOf) });
    } catch (err) {
      if (ticket === bufferTicket) {
        Z.say("buffer-note", `The buffer cannot be drawn: ${err.message}`, "error");
      }
      return;
    }
    if (ticket !== bufferTicket) return; // typed on meanwhile
    bufferGroup.clearLayers();
    for (const feature of grown.features) {
      L.geoJSON(feature, { style: Z.BUFFER_STYLE, interactive: false, pmIgnore: true,
        snapIgnore: true }).addTo(bufferGroup);
    }
    const skipped = grown.skipped.length
      ? ` (${grown.skipped.length} shape(s) could not be grown)` : "";
    Z.say("buffer-note", `${Z.metres(value)} buffer drawn dashed around the zones, `
      + `grown as a sighting is judged${skipped}.`);
  }

  $("buffer-m").addEventListener("input", scheduleBuffer);

  // -- finding library zones by name -------------------------------------------------------

  let searchTimer = null;
  let searchTicket = 0;

  async function search() {
    const ticket = ++searchTicket;
    const q = $("library-search").value.trim();
    if (!q) {
      Z.fill($("search-results"));
      Z.say("search-status", "");
      return;
    }
    let found;
    try {
      found = await Z.api("GET", "/zones", undefined, { params: { q, limit: 20 } });
    } catch (err) {
      if (ticket === searchTicket) Z.say("search-status", err.message, "error");
      return;
    }
    if (ticket !== searchTicket) return;
    const usable = found.features.filter((f) => f.properties.category !== "boundary");
    Z.say("search-status",
      usable.length ? `${usable.length} zone(s) found.` : "No zone has that in its name.");
    Z.fill($("search-results"), usable.map((feature) => {
      const taken = [...entries.values()].some((e) => e.id === feature.id);
      return Z.el("li", {},
        Z.el("button", { type: "button", class: "secondary small", disabled: taken,
          onclick: () => { pick(feature, { show: true }); search(); } },
        taken ? "Added" : "Add",
        Z.el("span", { class: "visually-hidden" }, ` ${feature.properties.name}`)),
        " ", Z.el("span", {}, feature.properties.name),
        Z.el("span", { class: "muted" }, ` (${feature.properties.category})`));
    }));
  }

  $("library-search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 250);
  });

  // -- shapes from a file ----------------------------------------------------------------

  $("upload-read").addEventListener("click", async () => {
    const read = await E.readChosenFile();
    if (!read) return;
    const { file, found } = read;
    const added = found.features.map((feature) => addEntry({
      kind: "new", name: feature.properties.name || "",
      category: feature.properties.category || "drawn",
      source: feature.properties.source || file.name,
    }, E.layerOf(feature, E.NEW_STYLE)));
    renderList();
    scheduleBuffer();
    E.fit(m, E.boundsOf(added.map((e) => e.layer)));
    const notes = [`${added.length} shape(s) from ${file.name} added for review: `
      + "check their names, then save."];
    if (found.skipped.length) notes.push(`Skipped: ${found.skipped.join("; ")}.`);
    if (found.repaired.length) notes.push(`Repaired: ${found.repaired.join("; ")}.`);
    Z.say("upload-status", notes.join(" "), added.length ? "ok" : "error");
  });

  // -- saving ------------------------------------------------------------------------------

  function featureOf(entry, reason) {
    const properties = {
      name: entry.name.trim(), category: (entry.category || "").trim() || "drawn", reason,
      drawing: E.drawingOf(entry.layer),
    };
    if (entry.source) properties.source = entry.source;
    else if (entry.kind === "new") properties.source = "drawn in the zone editor";
    return { type: "Feature", geometry: E.geometryOf(entry.layer), properties };
  }

  function showProblems(lines) {
    const box = $("problems");
    if (!lines.length) {
      Z.fill(box);
      return;
    }
    Z.fill(box, Z.el("p", {}, Z.el("strong", {}, "Nothing was saved.")),
      Z.el("ul", {}, lines.map((line) => Z.el("li", {}, line))));
  }

  function shapeProblem(entry, error) {
    entry.problem = E.problemText(error);
    restyle(entry);
    const short = error.message.split(";")[0];
    entry.marker = E.problemMarker(m, E.placeOf(error, entry.layer),
      short.charAt(0).toUpperCase() + short.slice(1));
  }

  function hideShared() {
    $("shared-warning").hidden = true;
    sharedEntry = null;
  }

  function askShared(entry, others, message) {
    sharedEntry = entry;
    $("shared-message").textContent = message
      || `“${entry.name}” is also a zone of ${others.length} other order(s). A new shape here `
      + "changes it for them too, unless you copy it for this order alone.";
    Z.fill($("shared-orders"), (others || []).map((o) => Z.el("li", {},
      Z.el("a", { href: `/orders/${o.id}` }, E.orderName(o)))));
    $("shared-warning").hidden = false;
    $("shared-all").focus();
  }

  function choose(choice) {
    if (!sharedEntry) return;
    sharedEntry.sharedChoice = choice;
    hideShared();
    save();
  }

  $("shared-all").addEventListener("click", () => choose("all"));
  $("shared-copy").addEventListener("click", () => choose("copy"));

  function sameIds(a, b) {
    const x = [...a].sort((p, q) => p - q);
    const y = [...b].sort((p, q) => p - q);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }

  /** Check what the officer filled in; returns the lines to show (empty when all is well). */
  function checkForm(reason) {
    const lines = [];
    let first = null;
    if (reason.length < 3) {
      lines.push("Say why the zones are changed: it is kept with every new version.");
      first = first || $("reason");
    }
    for (const entry of entries.values()) {
      if (entry.kind === "new" && !entry.name.trim()) {
        lines.push(`A new ${describe(entry)} needs a name.`);
        first = first || $(`name-${entry.key}`);
      }
    }
    const buffer = bufferValue();
    if (!(buffer >= 0) || buffer > 50000) {
      lines.push("The buffer must be a number of metres from 0 to 50 000.");
      first = first || $("buffer-m");
    }
    return { lines, first };
  }

  async function save() {
    if (saving || !clause) return;
    const reason = $("reason").value.trim();
    for (const entry of entries.values()) clearProblem(entry);
    showProblems([]);
    const form = checkForm(reason);
    if (form.lines.length) {
      showProblems(form.lines);
      Z.say("save-status", "Nothing was saved: see the problems above.", "error");
      if (form.first) form.first.focus();
      return;
    }
    saving = true;
    $("save").disabled = true;
    const done = [];
    try {
      const fresh = [...entries.values()].filter((e) => e.kind === "new");
      const edited = [...entries.values()].filter((e) => e.kind === "existing" && e.edited);
      const checking = [...fresh, ...edited];
      Z.say("save-status", checking.length ? `Checking ${checking.length} shape(s)…` : "Saving…");
      const results = await E.validateAll(checking.map((e) => featureOf(e, reason)));
      const refused = results.map((r, i) => [checking[i], r.error]).filter(([, error]) => error);
      if (refused.length) {
        for (const [entry, error] of refused) shapeProblem(entry, error);
        renderList();
        showProblems(refused.map(([entry]) => `${labelText(entry)}: ${entry.problem}`));
        Z.say("save-status",
          `Nothing was saved: ${refused.length} shape(s) refused, marked on the map.`, "error");
        const where = E.boundsOf(refused.map(([entry]) => entry.layer));
        if (!m.getBounds().contains(where)) E.fit(m, where);
        return;
      }
      for (const entry of edited) {
        if (entry.sharedChoice) continue;
        const users = await Z.api("GET", `/zones/${entry.id}/orders`);
        const others = users.filter((o) => o.id !== orderId);
        if (others.length) {
          askShared(entry, others, null);
          Z.say("save-status",
            "Nothing was saved yet: choose how to change the shared zone.", "error");
          return;
        }
      }
      for (const entry of edited) {
        Z.say("save-status", `Saving the new shape of ${entry.name}…`);
        const feature = featureOf(entry, reason);
        if (entry.sharedChoice === "copy") {
          const copy = await Z.api("POST", `/orders/${orderId}/zones/${entry.id}/copy`, feature);
          done.push(`${entry.name} copied for this order alone (zone ${copy.id})`);
          Object.assign(entry, { id: copy.id, version: copy.properties.version });
        } else {
          let stored;
          try {
            stored = await Z.api("PUT", `/zones/${entry.id}`, feature, { params: {
              order_id: orderId, confirm_shared: entry.sharedChoice === "all" ? "true" : null } });
          } catch (err) {
            if (err.code !== "zone_shared") throw err;
            askShared(entry, null, err.message);
            Z.say("save-status",
              "Not all was saved: choose how to change the shared zone.", "error");
            return;
          }
          done.push(`${entry.name} changed (version ${stored.properties.version})`);
          entry.version = stored.properties.version;
        }
        entry.edited = false;
        entry.sharedChoice = null;
      }
      for (const entry of fresh) {
        Z.say("save-status", `Storing ${entry.name}…`);
        const stored = await Z.api("POST", "/zones", featureOf(entry, reason));
        Object.assign(entry, { kind: "existing", id: stored.id, version: stored.properties.version,
          name: stored.properties.name, category: stored.properties.category });
        done.push(`${stored.properties.name} stored (zone ${stored.id})`);
      }
      const latest = await Z.api("GET", `/orders/${orderId}`);
      const mine = latest.conditions.find((c) => c.clause_id === clauseId);
      const ids = [...new Set([...entries.values()].map((e) => e.id))];
      const buffer = bufferValue();
      let version = latest.version;
      if (!mine || !sameIds(mine.zone_ids, ids) || mine.buffer_m !== buffer) {
        const edit = E.orderEdit(latest, reason,
          (c) => (c.clause_id === clauseId ? { zone_ids: ids, buffer_m: buffer } : null));
        version = (await Z.api("PUT", `/orders/${orderId}`, edit)).version;
        done.push(`order version ${version} names ${ids.length} zone(s)`);
      }
      $("reason").value = "";
      hideShared();
      await load();
      Z.say("save-status",
        done.length ? `Saved: ${done.join("; ")}.` : "Nothing had changed.", "ok");
    } catch (err) {
      const partly = done.length ? ` Already saved: ${done.join("; ")}.` : "";
      Z.say("save-status", `Not saved: ${err.message}.${partly}`, "error");
    } finally {
      saving = false;
      $("save").disabled = false;
    }
  }

  $("save").addEventListener("click", save);

  load().catch((err) => {
    Z.say("save-status", `The condition cannot be loaded: ${err.message}`, "error");
  });
})();
