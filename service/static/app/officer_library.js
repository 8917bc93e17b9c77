/* The zone library: zones found by part of a name and by category, listed and drawn on the
 * map over the rest of the library (faint); each links to its version history and says
 * which orders use it. The search stays in the address (?q=&category=).
 */
"use strict";

(function () {
  const Z = window.Zones;
  const O = window.Officer;
  const $ = (id) => document.getElementById(id);
  const m = Z.map();
  const SHOWN = 50;
  const LABEL_ZOOM = 15; // below this, many labels would hide the map
  const RESULT_STYLE = { color: "#1d3557", weight: 2, fillColor: "#457b9d", fillOpacity: 0.25 };
  const CHOSEN_STYLE = { color: "#b2182b", weight: 3, fillColor: "#ef8a62", fillOpacity: 0.35 };
  const search = $("library-search");
  const category = $("library-category");
  const results = L.featureGroup().addTo(m);
  const layers = new Map(); // zone id -> its layer on the map
  const usedBy = new Map(); // zone id -> orders (cached)
  let ticket = 0;
  let chosen = null;

  // The rest of the library, faintly; the zones found are drawn (and named) by draw().
  Z.contextLayers(m, { skip: (id) => layers.has(id) });
  Z.nameControls();
  m.on("zoomend", () => relabel());

  function area(m2) {
    return m2 >= 1e6 ? `${(m2 / 1e6).toFixed(2)} km²` : `${Math.round(m2).toLocaleString("en-GB")} m²`;
  }

  function choose(id, fly) {
    const before = layers.get(chosen);
    if (before && !before.isBoundary) before.setStyle(RESULT_STYLE);
    chosen = id;
    const layer = layers.get(id);
    if (!layer) return;
    if (!layer.isBoundary) layer.setStyle(CHOSEN_STYLE);
    layer.bringToFront();
    if (fly) Z.fit(m, layer.getBounds(), 17);
    relabel();
  }

  function ordersLine(zoneId, orders) {
    if (!orders) return Z.el("span", { class: "muted" }, "Orders using it: not known (the search failed).");
    if (!orders.length) return Z.el("span", { class: "muted" }, "No order uses it.");
    const items = orders.map((o) => {
      const clauses = o.conditions.filter((c) => c.zone_ids.includes(zoneId)).map((c) => c.number);
      return Z.el("li", {}, Z.el("a", { href: `/orders/${o.id}` }, O.orderName(o)),
        ` (clause${clauses.length > 1 ? "s" : ""} ${clauses.join(", ")})`,
        o.status === "revoked" ? Z.el("span", { class: "muted" }, ", revoked") : null);
    });
    return [Z.el("span", {}, `Used by ${orders.length} order${orders.length === 1 ? "" : "s"}:`),
      Z.el("ul", { class: "used-by" }, items)];
  }

  async function fillOrders(features, mine) {
    await O.pooled(features, 6, async (f) => {
      if (mine !== ticket) return;
      if (!usedBy.has(f.id)) {
        try {
          usedBy.set(f.id, await Z.api("GET", `/zones/${f.id}/orders`));
        } catch (err) {
          usedBy.set(f.id, null);
        }
      }
      const spot = document.getElementById(`used-${f.id}`);
      if (spot && mine === ticket) Z.fill(spot, ordersLine(f.id, usedBy.get(f.id)));
    });
  }

  function item(f) {
    const p = f.properties;
    const show = Z.el("button", { type: "button", class: "secondary small" }, "Show on the map",
      Z.el("span", { class: "visually-hidden" }, `: ${p.name}`));
    show.addEventListener("click", () => choose(f.id, true));
    return Z.el("li", { class: "library-item" },
      Z.el("p", { class: "library-name" }, Z.el("a", { href: `/zones/${f.id}` }, p.name)),
      Z.el("p", { class: "small muted" },
        `${O.category(p.category)} · ${area(p.area_m2)} · version ${p.version}`
        + `${p.source ? ` · ${p.source}` : ""}`),
      Z.el("div", { class: "small used", id: `used-${f.id}` },
        Z.el("span", { class: "muted" }, "Looking for the orders that use it…")),
      show);
  }

  // Labels only where they can be read: few results, or zoomed in.
  function labelled() {
    return layers.size <= 6 || m.getZoom() >= LABEL_ZOOM;
  }

  function relabel() {
    const show = labelled();
    for (const [id, layer] of layers) {
      const has = Boolean(layer.getTooltip());
      if (show && !has && !layer.isBoundary) Z.label(layer, layer.zoneName);
      else if (!show && has) layer.unbindTooltip();
      if (id === chosen && !layer.getTooltip()) Z.label(layer, layer.zoneName);
    }
  }

  function draw(features) {
    results.clearLayers();
    layers.clear();
    chosen = null;
    const areas = L.featureGroup();
    for (const f of features) {
      const boundary = f.properties.category === "boundary";
      const layer = L.geoJSON(f, { style: boundary ? Z.BOUNDARY_STYLE : RESULT_STYLE });
      layer.zoneName = f.properties.name;
      layer.isBoundary = boundary;
      if (!boundary) {
        Z.popup(layer, Z.el("div", {},
          Z.el("strong", {}, f.properties.name),
          Z.el("div", {}, O.category(f.properties.category)),
          Z.el("a", { href: `/zones/${f.id}` }, "Versions and orders of this zone")));
        layer.on("click", () => choose(f.id, false));
        areas.addLayer(L.geoJSON(f));
      }
      results.addLayer(layer);
      layers.set(f.id, layer);
    }
    // Fit to the zones themselves; an area outline alone is fitted only when it is all there is.
    Z.fit(m, areas.getLayers().length ? areas.getBounds() : results.getBounds(), 16);
    m.fire("moveend"); // the faint context leaves out the zones found, even if the map stays
    relabel();
  }

  function remember(q, cat) {
    const url = new URL(location.href);
    for (const [key, value] of [["q", q], ["category", cat]]) {
      if (value) url.searchParams.set(key, value);
      else url.searchParams.delete(key);
    }
    history.replaceState(null, "", url);
  }

  function addCategory(value) {
    if (value && ![...category.options].some((o) => o.value === value)) {
      category.append(Z.el("option", { value }, O.category(value)));
    }
  }

  async function find() {
    const q = search.value.trim();
    const cat = category.value;
    const mine = ++ticket;
    remember(q, cat);
    let found;
    try {
      found = await Z.api("GET", "/zones", undefined,
        { params: { q: q.slice(0, 100), category: cat, limit: SHOWN + 1 } });
    } catch (err) {
      if (mine === ticket) Z.say("library-count", `The search failed: ${err.message}`, "error");
      return;
    }
    if (mine !== ticket) return;
    const features = found.features.slice(0, SHOWN);
    features.forEach((f) => addCategory(f.properties.category));
    Z.fill($("library-results"), features.length ? features.map(item)
      : Z.el("li", { class: "muted" }, "No zone matches."));
    const what = [q ? `named like “${q}”` : "", cat ? `in ${O.category(cat)}` : ""]
      .filter(Boolean).join(" ") || "in the library";
    Z.say("library-count", found.features.length > SHOWN
      ? `The first ${SHOWN} zones ${what}: type more to narrow the list.`
      : `${features.length} zone${features.length === 1 ? "" : "s"} ${what}.`);
    draw(features);
    await fillOrders(features, mine);
  }

  const params = new URLSearchParams(location.search);
  search.value = params.get("q") || "";
  addCategory(params.get("category"));
  category.value = params.get("category") || "";
  search.addEventListener("input", O.debounce(find, 200));
  category.addEventListener("change", find);
  find();
})();
