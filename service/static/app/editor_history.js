/* A zone's version history: every version with who made it, when (UK time) and why; the
 * chosen earlier version drawn over the current one on one map in contrasting styles, with
 * a legend; and the orders that use the zone.
 */
"use strict";

(function () {
  const Z = window.Zones;
  const E = window.ZoneEditor;
  const $ = (id) => document.getElementById(id);
  const m = Z.map();
  const zoneId = Z.config.zone_id;
  const CURRENT_STYLE = Object.assign({}, Z.ZONE_STYLE, { fillOpacity: 0.35 });
  const EARLIER_STYLE = { color: "#1f5fbf", weight: 3, dashArray: "8 6", fillColor: "#1f5fbf",
    fillOpacity: 0.1 };

  const currentGroup = L.featureGroup().addTo(m);
  const earlierGroup = L.featureGroup().addTo(m);
  let versions = [];
  let current = null;
  let mapLegend = null;

  const library = E.libraryLayer(m, { skip: (id) => id === zoneId }); // context, not the zone
  E.nameTools();

  function fact(term, ...value) {
    return [Z.el("dt", {}, term), Z.el("dd", {}, ...value)];
  }

  function draw(group, feature, style, text) {
    group.clearLayers();
    if (!feature) return;
    const layer = L.geoJSON(feature.geometry, { style, interactive: false });
    if (text) Z.label(layer, text);
    group.addLayer(layer);
  }

  function legendItems(chosen) {
    return [
      Z.el("li", {}, Z.el("span", { class: "swatch current", "aria-hidden": "true" }),
        `Current: version ${current.properties.version}`),
      chosen ? Z.el("li", {}, Z.el("span", { class: "swatch earlier", "aria-hidden": "true" }),
        `Earlier: version ${chosen.properties.version}`) : null,
    ];
  }

  function showLegend(chosen) {
    Z.fill($("legend"), legendItems(chosen));
    if (mapLegend) mapLegend.remove();
    mapLegend = L.control({ position: "bottomleft" });
    mapLegend.onAdd = () => Z.el("div", { class: "map-legend" },
      Z.el("ul", {}, legendItems(chosen)));
    mapLegend.addTo(m);
  }

  function compare(version) {
    const chosen = versions.find((v) => v.properties.version === version && v !== current) || null;
    draw(earlierGroup, chosen, EARLIER_STYLE, null); // the legend names it: labels would overlap
    showLegend(chosen);
    if (chosen) {
      const a = chosen.properties.area_m2;
      const b = current.properties.area_m2;
      const change = b - a;
      Z.fill($("compare-summary"),
        `Version ${chosen.properties.version}: ${E.area(a)}; `
        + `current version ${current.properties.version}: ${E.area(b)} `
        + `(${change >= 0 ? "+" : "−"}${E.area(Math.abs(change))}).`);
      earlierGroup.bringToFront();
    } else {
      Z.fill($("compare-summary"), versions.length > 1 ? "No earlier version chosen."
        : "This zone has one version only.");
    }
    const bounds = currentGroup.getBounds();
    if (chosen) bounds.extend(earlierGroup.getBounds());
    E.fit(m, bounds, 19);
    library.refresh();
  }

  function versionItem(v) {
    const p = v.properties;
    const isCurrent = v === current;
    const id = `version-${p.version}`;
    const choice = isCurrent ? null : Z.el("input", { type: "radio", name: "compare", id,
      value: String(p.version) });
    if (choice) choice.addEventListener("change", () => compare(p.version));
    return Z.el("li", {},
      Z.el("div", { class: "choice" }, choice,
        Z.el(isCurrent ? "span" : "label", isCurrent ? { class: "strong" } : { for: id },
          `Version ${p.version}`, isCurrent ? " (current)" : "")),
      Z.el("dl", { class: "facts" },
        fact("Name", p.name),
        fact("Made by", p.created_by || "unknown"),
        fact("When", Z.localTime(p.created_at)),
        fact("Why", p.reason || Z.el("span", { class: "muted" }, "no reason recorded")),
        fact("Area", E.area(p.area_m2)),
        p.drawing && p.drawing.shape === "circle"
          ? fact("Drawn as", `a circle of radius ${Z.metres(p.drawing.radius_m)}`) : [],
        p.notes && p.notes.length ? fact("Notes", p.notes.join("; ")) : [],
        p.superseded_at ? fact("Replaced", Z.localTime(p.superseded_at)) : []));
  }

  async function showOrders() {
    const orders = await Z.api("GET", `/zones/${zoneId}/orders`);
    if (!orders.length) {
      Z.fill($("order-list"), Z.el("li", { class: "muted" }, "No order uses this zone now."));
      return;
    }
    const subjects = new Map();
    await Promise.all([...new Set(orders.map((o) => o.subject_id))].map(async (id) => {
      try {
        subjects.set(id, await Z.api("GET", `/subjects/${id}`));
      } catch (err) {
        subjects.set(id, null);
      }
    }));
    Z.fill($("order-list"), orders.map((o) => {
      const subject = subjects.get(o.subject_id);
      const clauses = o.conditions.filter((c) => c.zone_ids.includes(zoneId));
      return Z.el("li", {},
        Z.el("a", { href: `/orders/${o.id}` }, E.orderName(o)),
        subject
          ? Z.el("span", { class: "muted" }, ` · ${subject.reference}, ${subject.name}`) : null,
        Z.el("ul", { class: "clauses" }, clauses.map((c) => Z.el("li", {},
          Z.el("a", { href: `/orders/${o.id}/clauses/${c.clause_id}/zones` },
            `Clause ${c.number}`), `: ${c.text}`))));
    }));
  }

  async function load() {
    const found = await Z.api("GET", `/zones/${zoneId}/versions`);
    versions = found.features;
    current = versions[versions.length - 1];
    const p = current.properties;
    Z.fill($("zone-title"), p.name);
    Z.fill($("zone-facts"),
      fact("Zone", `${zoneId}, version ${p.version} of ${versions.length}`),
      fact("Category", p.category),
      fact("Area", E.area(p.area_m2)),
      p.source ? fact("Source", p.source) : []);
    Z.fill($("version-list"), [...versions].reverse().map(versionItem));
    $("versions").hidden = false;
    draw(currentGroup, current, CURRENT_STYLE, `${p.name} (current)`);
    const previous = versions.length > 1 ? versions[versions.length - 2] : null;
    if (previous) $(`version-${previous.properties.version}`).checked = true;
    compare(previous ? previous.properties.version : null);
    await showOrders();
  }

  load().catch((err) => Z.say("status", `The zone cannot be loaded: ${err.message}`, "error"));
})();
