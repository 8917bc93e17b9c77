/* The alert desk: a queue of alerts beside a map, kept current over the alert stream, and
 * the chosen alert's explanation, evidence, stay, history and handling.
 *
 * Every piece of user text (names, references, clauses, zone names, notes, sources) goes
 * into the page through Zones.el / textContent, and into Leaflet only as DOM nodes.
 */
"use strict";

(function () {
  const Z = window.Zones;
  const config = Z.config;
  const el = Z.el;
  const FLAG_MS = (config.flag_minutes || 4) * 60 * 1000;
  const HANDLING = config.handling_labels;
  const DISPOSITION = config.disposition_labels;
  const ORDER_TYPE = config.order_type_labels;
  const KIND = config.kind_labels || {};
  const DEVICE_KINDS = Object.keys(KIND).filter((k) => k !== "zone");
  const RANK = { unhandled: 0, acknowledged: 1, resolved: 2 };
  const LETTER = { unhandled: "U", acknowledged: "A", resolved: "R" };
  const SOURCE = {
    public: "member of the public", officer: "police officer or patrol", cctv: "CCTV",
    other_agency: "another agency", other: "other source",
  };
  const ACTION = {
    acknowledge: "Acknowledged", assign: "Assigned", note: "Note added", resolve: "Resolved",
    reopen: "Reopened",
  };
  const $ = (id) => document.getElementById(id);

  const state = {
    alerts: new Map(),   // every alert the page knows, by id
    shown: [],           // those the filters let through, in queue order
    chosen: null,        // the chosen alert's id
    fresh: new Set(),    // arrived live since the page loaded
    listLoaded: false,
    loadTicket: 0,
    arrived: new Map(),  // alerts heard live while the list was loading
    lastEventId: null,
    filters: null,
  };

  // -- the map ------------------------------------------------------------------------------

  const map = Z.map();
  const cluster = Z.folium("cluster");
  const heat = Z.folium("heat");
  const LIBRARY_LABEL_ZOOM = 15;
  Z.contextLayers(map, { labelZoom: LIBRARY_LABEL_ZOOM });
  function markZoom() {
    map.getContainer().classList.toggle("desk-zoomed", map.getZoom() >= LIBRARY_LABEL_ZOOM);
  }
  map.on("zoomend", markZoom);
  markZoom();
  // Zone names sit under the alert markers (Leaflet puts tooltips above them).
  map.createPane("desk-zone-labels").style.zIndex = 550;
  const zonesLayer = L.featureGroup().addTo(map);
  const chosenZoneLayer = L.featureGroup().addTo(map);
  const evidenceLayer = L.featureGroup().addTo(map);
  const markers = new Map();  // alert id -> marker

  // Clusters say how many alerts they hold and whether any is still unhandled.
  cluster.options.iconCreateFunction = function (group) {
    const children = group.getAllChildMarkers();
    const worst = children.reduce(
      (w, m) => Math.min(w, RANK[m.options.handling] ?? 2), 2);
    const kind = Object.keys(RANK).find((k) => RANK[k] === worst);
    return L.divIcon({
      html: el("span", {}, String(children.length)),
      className: `desk-cluster ${kind}`,
      iconSize: L.point(36, 36),
    });
  };

  function flagged(alert, now) {
    return alert.handling === "unhandled" &&
      (now || Date.now()) - new Date(alert.first_at).getTime() > FLAG_MS;
  }

  function markerIcon(alert) {
    const classes = ["desk-pin", alert.handling];
    if (flagged(alert)) classes.push("flagged");
    if (alert.id === state.chosen) classes.push("chosen");
    return L.divIcon({
      html: el("span", { "aria-hidden": "true" }, LETTER[alert.handling] || "?"),
      className: classes.join(" "),
      iconSize: L.point(26, 26),
    });
  }

  function markerTitle(alert) {
    return `Alert ${alert.id}, ${HANDLING[alert.handling].toLowerCase()}` +
      (flagged(alert) ? ", flagged" : "") + `: ${alert.subject_reference || ""}`;
  }

  /** A device alert may have no position: a subject no fix ever came from. */
  function located(a) {
    return a.lat !== null && a.lat !== undefined && a.lon !== null && a.lon !== undefined;
  }

  function isDevice(a) {
    return Boolean(a.kind) && a.kind !== "zone";
  }

  /** What the alert is about: the zone's name, or the device alert's kind. */
  function titleOf(a) {
    return a.title || a.zone_name || (a.zone_id ? `zone ${a.zone_id}` : KIND[a.kind] || "alert");
  }

  /** The alert's state as a short phrase: a stay is inside or left; a silence goes on. */
  function stateText(a) {
    if (a.kind === "communication_loss") {
      return a.status === "open" ? "Still silent" : "Fixes received again";
    }
    if (isDevice(a)) return a.status === "open" ? "Alarm repeating" : "Alarm ended";
    return a.status === "open" ? "Still inside" : "Left";
  }

  function drawMarkers() {
    const wanted = new Map(state.shown.filter(located).map((a) => [a.id, a]));
    if (state.chosen !== null && state.alerts.has(state.chosen) &&
      located(state.alerts.get(state.chosen))) {
      wanted.set(state.chosen, state.alerts.get(state.chosen));
    }
    for (const [id, marker] of markers) {
      if (!wanted.has(id)) {
        cluster.removeLayer(marker);
        markers.delete(id);
      }
    }
    const changed = [];
    for (const alert of wanted.values()) {
      const key = [alert.handling, flagged(alert), alert.id === state.chosen, alert.lat,
        alert.lon].join("|");
      let marker = markers.get(alert.id);
      if (!marker) {
        marker = L.marker([alert.lat, alert.lon], {
          icon: markerIcon(alert), title: markerTitle(alert), handling: alert.handling,
          riseOnHover: true,
        });
        marker.deskKey = key;
        marker.on("click", () => choose(alert.id));
        marker.on("keypress", (e) => {
          if (e.originalEvent.key === "Enter" || e.originalEvent.key === " ") choose(alert.id);
        });
        markers.set(alert.id, marker);
        cluster.addLayer(marker);
      } else if (marker.deskKey !== key) {
        marker.deskKey = key;
        marker.options.handling = alert.handling;
        marker.options.title = markerTitle(alert);
        const at = marker.getLatLng();
        if (at.lat !== alert.lat || at.lng !== alert.lon) {
          cluster.removeLayer(marker);  // a moved marker changes clusters
          marker.setLatLng([alert.lat, alert.lon]);
          cluster.addLayer(marker);
        }
        marker.setIcon(markerIcon(alert));
        const icon = marker.getElement && marker.getElement();
        if (icon) icon.title = markerTitle(alert);
        changed.push(marker);
      }
    }
    if (changed.length && cluster.refreshClusters) cluster.refreshClusters(changed);
    heat.setLatLngs(state.shown.filter(located)
      .map((a) => [a.lat, a.lon, a.handling === "resolved" ? 0.4 : 1]));
    Z.nameControls();
  }

  // The legend, and the heat-map switch.
  const Legend = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd() {
      const item = (kind, text) => el("li", {},
        el("span", { class: `desk-pin legend-pin ${kind}`, "aria-hidden": "true" },
          el("span", {}, LETTER[kind.split(" ")[0]])),
        " ", text);
      const box = el("div", { class: "desk-legend" },
        el("p", { class: "legend-title" }, "Alerts by handling"),
        el("ul", {},
          item("unhandled", "Unhandled"),
          item("acknowledged", "Acknowledged"),
          item("resolved", "Resolved"),
          item("unhandled flagged", `Flagged: unhandled over ${config.flag_minutes} min`),
          el("li", {},
            el("span", { class: "desk-cluster legend-pin unhandled", "aria-hidden": "true" },
              el("span", {}, "3")),
            " ", "Several alerts: zoom in")),
        el("p", { class: "legend-zone" },
          el("span", { class: "legend-swatch", "aria-hidden": "true" }), " Zones of their orders"),
        el("p", { class: "legend-heat" },
          el("input", { type: "checkbox", id: "heat-toggle" }),
          " ",
          el("label", { for: "heat-toggle" }, "Heat map of the alerts shown")));
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },
  });
  new Legend().addTo(map);
  $("heat-toggle").addEventListener("change", (e) => {
    if (e.target.checked) heat.addTo(map);
    else map.removeLayer(heat);
  });

  // -- zones of the alerts' orders -------------------------------------------------------------

  const orderCache = new Map();
  const zoneCache = new Map();
  let zoneTicket = 0;

  function cached(cache, key, load) {
    if (!cache.has(key)) cache.set(key, load().catch(() => null));
    return cache.get(key);
  }

  function getOrder(id) {
    return cached(orderCache, id, () => Z.api("GET", `/orders/${id}`));
  }

  function getZone(id, version) {
    const key = version ? `${id}@${version}` : `${id}`;
    return cached(zoneCache, key, () =>
      Z.api("GET", `/zones/${id}`, undefined, { params: version ? { version } : {} }));
  }

  async function inBatches(items, size, work) {
    const results = [];
    for (let i = 0; i < items.length; i += size) {
      results.push(...await Promise.all(items.slice(i, i + size).map(work)));
    }
    return results;
  }

  async function drawOrderZones() {
    const ticket = ++zoneTicket;
    const alerts = [...state.shown];
    const wanted = new Map();  // zone id -> version (null: current)
    for (const a of alerts) if (a.zone_id) wanted.set(a.zone_id, a.zone_version);
    const orderIds = [...new Set(alerts.map((a) => a.order_id).filter(Boolean))];
    const orders = await inBatches(orderIds, 4, getOrder);
    for (const order of orders) {
      for (const c of (order && order.conditions) || []) {
        for (const z of c.zone_ids) if (!wanted.has(z)) wanted.set(z, null);
      }
    }
    const features = await inBatches([...wanted], 4, ([id, v]) => getZone(id, v));
    if (ticket !== zoneTicket) return;
    zonesLayer.clearLayers();
    for (const feature of features) {
      if (!feature) continue;
      const layer = L.geoJSON(feature, {
        style: Object.assign({}, Z.ZONE_STYLE, { fillOpacity: 0.15, weight: 2 }),
        interactive: false,
      });
      const v = feature.properties.version;
      const current = !feature.properties.superseded_at;
      Z.label(layer, v > 1 ? `${feature.properties.name} (v${v})` : feature.properties.name,
        { pane: "desk-zone-labels", className: "zone-label" + (current ? " desk-current" : "") });
      zonesLayer.addLayer(layer);
    }
    zonesLayer.bringToBack();
  }

  // -- filters ---------------------------------------------------------------------------------

  function londonOffset(ms) {
    const p = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) -
      Math.floor(ms / 1000) * 1000;
  }

  /** A datetime-local value read as London civil time, as an ISO instant. */
  function londonInstant(value) {
    if (!value) return null;
    const [d, t] = value.split("T");
    const [y, m, day] = d.split("-").map(Number);
    const [hh, mm] = (t || "00:00").split(":").map(Number);
    const wall = Date.UTC(y, m - 1, day, hh, mm);
    let instant = wall - londonOffset(wall);
    instant = wall - londonOffset(instant);
    return new Date(instant).toISOString();
  }

  function readFilters() {
    const handling = $("f-handling").value;
    const period = $("f-period").value;
    $("f-custom").hidden = period !== "custom";
    return {
      handling: handling === "todo" ? ["unhandled", "acknowledged"]
        : handling === "any" ? [] : [handling],
      hours: period !== "any" && period !== "custom" ? Number(period) : null,
      from: period === "custom" ? londonInstant($("f-from").value) : null,
      to: period === "custom" ? londonInstant($("f-to").value) : null,
      subject: $("f-subject").value.trim(),
      order_type: $("f-order-type").value,
      disposition: $("f-disposition").value,
      kind: $("f-kind") ? $("f-kind").value : "",
    };
  }

  function since(f) {
    return f.hours ? new Date(Date.now() - f.hours * 3600 * 1000).toISOString() : f.from;
  }

  /** The filters as the API's query parameters. */
  function params(f) {
    return {
      handling: f.handling, from: since(f), to: f.to, subject: f.subject || null,
      order_type: f.order_type || null, disposition: f.disposition || null, limit: 500,
      kind: kinds(f),
    };
  }

  /** The kinds a filter asks for ("device": every kind but zone); empty: any. */
  function kinds(f) {
    return f.kind === "device" ? DEVICE_KINDS : f.kind ? [f.kind] : [];
  }

  /** The same filters, applied to an alert that arrived live. */
  function matches(a, f) {
    if (f.handling.length && !f.handling.includes(a.handling)) return false;
    if (f.disposition && a.disposition !== f.disposition) return false;
    if (f.order_type && a.order_type !== f.order_type) return false;
    if (kinds(f).length && !kinds(f).includes(a.kind || "zone")) return false;
    if (f.subject) {
      const s = f.subject.toLowerCase();
      const ref = (a.subject_reference || "").toLowerCase();
      const name = (a.subject_name || "").toLowerCase();
      if (!ref.includes(s) && !name.includes(s)) return false;
    }
    const start = since(f);
    if (start && new Date(a.closed_at || a.last_at) < new Date(start)) return false;
    if (f.to && new Date(a.first_at) > new Date(f.to)) return false;
    return true;
  }

  function order(alerts) {
    return alerts.sort((a, b) => (RANK[a.handling] - RANK[b.handling]) ||
      (new Date(b.first_at) - new Date(a.first_at)) || (b.id - a.id));
  }

  async function loadList() {
    const ticket = ++state.loadTicket;
    const f = state.filters = readFilters();
    state.arrived = new Map();
    Z.say("queue-summary", "Loading alerts…");
    let found;
    try {
      found = await Z.api("GET", "/alerts", undefined, { params: params(f) });
    } catch (err) {
      if (ticket === state.loadTicket) Z.say("queue-summary", `Could not load the alerts: ${err.message}`, "error");
      return;
    }
    if (ticket !== state.loadTicket) return;
    const kept = state.chosen !== null ? state.alerts.get(state.chosen) : null;
    state.alerts = new Map(found.map((a) => [a.id, a]));
    if (kept && !state.alerts.has(kept.id)) state.alerts.set(kept.id, kept);
    for (const [id, alert] of state.arrived) state.alerts.set(id, alert);  // newer than the list
    state.listLoaded = true;
    refresh();
    drawOrderZones();
    // The map shows what the filters found (a chosen alert keeps the map on itself).
    const placed = state.shown.filter(located);
    if (state.chosen === null && placed.length) {
      Z.fit(map, L.latLngBounds(placed.map((a) => [a.lat, a.lon])), 15);
    }
  }

  let filterTimer = null;
  const filterForm = $("filters");
  filterForm.addEventListener("submit", (e) => { e.preventDefault(); loadList(); });
  filterForm.addEventListener("change", (e) => {
    if (e.target.id === "f-subject") return;
    loadList();
  });
  $("f-subject").addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(loadList, 350);
  });
  filterForm.addEventListener("reset", () => setTimeout(loadList, 0));

  // -- the queue -------------------------------------------------------------------------------

  // Flags a fix carries (zones.feeds.filters), as the desk names them.
  const FLAG = { jump: "Impossible jump", invalid: "Marked invalid by the device" };

  function flagBadges(flags) {
    return (flags || []).flatMap((f) => [" ", badge("quality", FLAG[f] || f)]);
  }

  function badge(kind, text) {
    return el("span", { class: `badge ${kind}` }, text);
  }

  function flagBadge() {
    return el("span", { class: "badge flagged" }, el("span", { "aria-hidden": "true" }, "⚑ "),
      "Flagged");
  }

  function ageText(alert, now) {
    return `${Z.age(alert.first_at, now)} ago`;
  }

  function queueItem(alert, now) {
    const isFlagged = flagged(alert, now);
    const classes = ["queue-item", alert.handling];
    if (isFlagged) classes.push("flagged");
    if (alert.id === state.chosen) classes.push("chosen");
    const button = el("button", {
      type: "button", class: classes.join(" "), "aria-current": alert.id === state.chosen ? "true" : null,
      dataset: { id: String(alert.id) },
    },
    el("span", { class: "qi-top" },
      badge(alert.handling, HANDLING[alert.handling]),
      alert.severity === "warning" ? badge("warning", "Warning, not a breach") : null,
      isDevice(alert) ? badge("device", "Device") : null,
      isFlagged ? flagBadge() : null,
      state.fresh.has(alert.id) ? badge("new", "New") : null,
      el("span", { class: "qi-age" }, el("span", { class: "visually-hidden" }, "opened "),
        el("span", { class: "age" }, ageText(alert, now)))),
    el("span", { class: "qi-subject" },
      el("strong", {}, alert.subject_reference || `subject ${alert.subject_id}`), " ",
      alert.subject_name || ""),
    el("span", { class: "qi-zone" },
      titleOf(alert),
      alert.order_reference ? el("span", { class: "muted" }, ` · ${alert.order_reference}`) : null,
      alert.device_id ? el("span", { class: "muted" }, ` · device ${alert.device_id}`) : null,
      alert.status === "open"
        ? el("span", { class: "qi-inside" }, ` · ${stateText(alert).toLowerCase()}`) : null),
    el("span", { class: "qi-clause" }, alert.clause_text || ""));
    button.addEventListener("click", () => choose(alert.id));
    return el("li", {}, button);
  }

  function summary(alerts, now) {
    const count = (h) => alerts.filter((a) => a.handling === h).length;
    const late = alerts.filter((a) => flagged(a, now)).length;
    const parts = [`${alerts.length} alert${alerts.length === 1 ? "" : "s"} shown`];
    if (alerts.length) {
      parts.push(`${count("unhandled")} unhandled` + (late ? ` (${late} flagged)` : ""));
      if (count("acknowledged")) parts.push(`${count("acknowledged")} acknowledged`);
      if (count("resolved")) parts.push(`${count("resolved")} resolved`);
    }
    return parts.join(", ");
  }

  function renderQueue() {
    const now = Date.now();
    const list = $("queue");
    const focused = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.dataset.id : null;
    Z.fill(list, state.shown.map((a) => queueItem(a, now)));
    if (!state.shown.length) {
      list.append(el("li", { class: "muted queue-empty" }, "No alert matches the filters."));
    }
    if (focused) {
      const again = list.querySelector(`button[data-id="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
    Z.say("queue-summary", summary(state.shown, now));
    flagState = flagSignature(now);
  }

  function refresh() {
    if (!state.filters) return;
    state.shown = order([...state.alerts.values()].filter((a) => matches(a, state.filters)));
    renderQueue();
    drawMarkers();
  }

  let flagState = "";
  function flagSignature(now) {
    return state.shown.map((a) => flagged(a, now) ? "1" : "0").join("");
  }

  // Ages tick on; an alert that crosses the flag time is flagged at once.
  setInterval(() => {
    const now = Date.now();
    if (flagSignature(now) !== flagState) {
      renderQueue();
      drawMarkers();
      return;
    }
    for (const button of $("queue").querySelectorAll("button.queue-item")) {
      const alert = state.alerts.get(Number(button.dataset.id));
      if (alert) button.querySelector(".age").textContent = ageText(alert, now);
    }
    if (state.chosen !== null && state.alerts.has(state.chosen)) {
      renderBadges(state.alerts.get(state.chosen));
    }
  }, 5000);

  // -- the chosen alert ------------------------------------------------------------------------

  let chooseTicket = 0;

  async function choose(id) {
    const ticket = ++chooseTicket;
    const before = state.chosen;
    state.chosen = id;
    state.fresh.delete(id);
    if (before !== id) {
      Z.say("act-status", "");
      Z.say("detail-status", `Loading alert ${id}…`);
    }
    for (const b of $("queue").querySelectorAll("button.queue-item")) {
      const on = Number(b.dataset.id) === id;
      if (on) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
      b.classList.toggle("chosen", on);
    }
    const url = new URL(window.location.href);
    url.searchParams.set("alert", String(id));
    window.history.replaceState(null, "", url.pathname + url.search);
    let alert, evidence, history;
    try {
      [alert, evidence, history] = await Promise.all([
        Z.api("GET", `/alerts/${id}`),
        Z.api("GET", `/alerts/${id}/evidence`),
        Z.api("GET", `/alerts/${id}/history`),
      ]);
    } catch (err) {
      if (ticket !== chooseTicket) return;
      $("detail-body").hidden = true;
      $("detail-empty").hidden = false;
      Z.say("detail-status", err.status === 404 ? `There is no alert ${id}.`
        : `Could not load alert ${id}: ${err.message}`, "error");
      return;
    }
    if (ticket !== chooseTicket) return;
    state.alerts.set(id, alert);
    renderDetail(alert);
    renderEvidence(alert, evidence);
    renderHistory(history);
    loadDeliveries(id);
    Z.say("detail-status", "");
    drawMarkers();
    const zone = await drawChosenZone(alert);
    if (ticket !== chooseTicket) return;
    const bounds = L.latLngBounds(located(alert) ? [[alert.lat, alert.lon]] : []);
    if (evidenceLayer.getLayers().length) bounds.extend(evidenceLayer.getBounds());
    if (zone) bounds.extend(zone.getBounds());
    if (bounds.isValid()) Z.fit(map, bounds, 17);
  }

  async function drawChosenZone(alert) {
    const feature = alert.zone_id ? await getZone(alert.zone_id, alert.zone_version) : null;
    chosenZoneLayer.clearLayers();
    if (!feature || state.chosen !== alert.id) return null;
    const layer = L.geoJSON(feature, {
      style: Object.assign({}, Z.ZONE_STYLE, { weight: 4, fillOpacity: 0.3 }),
      interactive: false,
    });
    chosenZoneLayer.addLayer(layer);
    return layer;
  }

  function fact(term, ...value) {
    return [el("dt", {}, term), el("dd", {}, ...value)];
  }

  function renderBadges(alert) {
    Z.fill($("detail-badges"),
      badge(alert.handling, HANDLING[alert.handling]), " ",
      flagged(alert) ? [flagBadge(), " "] : null,
      badge(alert.status, stateText(alert)), " ",
      alert.late ? badge("late", "Late data") : null,
      flagBadges(alert.flags),
      el("span", { class: "muted" }, ` opened ${ageText(alert)}`));
  }

  function renderDetail(alert) {
    $("detail-empty").hidden = true;
    $("detail-body").hidden = false;
    Z.fill($("detail-heading"), `Alert ${alert.id}: `, alert.subject_reference || "",
      alert.subject_name ? ` (${alert.subject_name})` : "");
    renderBadges(alert);
    $("detail-explanation").textContent = alert.explanation;
    const order = alert.order_reference
      ? `${alert.order_reference} (${ORDER_TYPE[alert.order_type] || alert.order_type})` : null;
    Z.fill($("detail-facts"),
      fact("Subject", alert.subject_reference || "", " ", alert.subject_name || ""),
      isDevice(alert) ? fact("Kind", KIND[alert.kind] || titleOf(alert)) : null,
      order ? fact("Order", order) : null,
      alert.clause_text ? fact(`Clause ${alert.clause_number ?? ""}`, alert.clause_text) : null,
      alert.zone_id ? fact("Zone", `${alert.zone_name || ""}, version ${alert.zone_version}`,
        alert.buffer_m ? ` (with a ${Z.metres(alert.buffer_m)} buffer)` : "") : null,
      alert.device_id ? fact("Device", alert.device_id) : null,
      fact("Assigned to", alert.assigned_to || "nobody yet"),
      fact("Disposition", alert.disposition ? DISPOSITION[alert.disposition] : "not resolved"));
    Z.fill($("detail-stay"), ...(isDevice(alert) ? deviceFacts(alert) : [
      fact("First seen", Z.localTime(alert.first_at)),
      fact("Last seen", Z.localTime(alert.last_at)),
      alert.status === "open"
        ? fact("Now", "Still inside: no observation since shows the subject outside")
        : fact("Left", alert.closed_at ? `by ${Z.localTime(alert.closed_at)}` : "yes"),
      fact("Observations", `${alert.observation_count}` +
        (alert.late ? " (some arrived late)" : "")),
      fact("Deepest", alert.deepest_m < 0 ? `${Z.metres(alert.deepest_m)} inside the zone`
        : `${Z.metres(alert.deepest_m)} from the zone, within its buffer`)]));
    renderActions(alert);
  }

  function deviceFacts(alert) {
    const d = alert.detail || {};
    const ended = alert.closed_at ? Z.localTime(alert.closed_at) : "";
    if (alert.kind === "communication_loss") {
      const fill = d.backfill;
      return [
        fact("Silent since", Z.localTime(alert.first_at)),
        fact("Allowed silence", `${d.silence_minutes} minutes`),
        fact("Last known position", d.last_observed_at ? Z.localTime(d.last_observed_at)
          : d.no_device ? "none: no device is assigned" : "none"),
        fact("Now", alert.status === "open" ? "Still silent" : `Fixes received again ${ended}`),
        fact("Back-fill", fill ? `${fill.count} fix${fill.count === 1 ? "" : "es"} from the gap, ` +
          `observed ${Z.localTime(fill.first_observed_at)} to ${Z.localTime(fill.last_observed_at)}`
          : "none has arrived"),
      ];
    }
    return [
      fact("First raised", Z.localTime(alert.first_at)),
      fact("Last raised", Z.localTime(alert.last_at)),
      fact("Now", alert.status === "open" ? "Alarm repeating" : `Ended ${ended}`),
      fact("Fixes", `${alert.observation_count}` + (alert.late ? " (some arrived late)" : "")),
    ];
  }

  function verdictText(e, alert) {
    if (!e.status) {
      return alert && alert.kind === "communication_loss"
        ? "the last fix received before the silence" : "the fix that carried the alarm";
    }
    const where = e.status === "inside" ? `inside, ${Z.metres(e.distance_m)} from the edge`
      : e.status === "buffer" ? `within the buffer, ${Z.metres(e.distance_m)} from the zone`
      : `outside, ${Z.metres(e.distance_m)} away`;
    const disc = e.disc_fraction_inside !== null && e.disc_fraction_inside !== undefined
      ? `, ${Math.round(e.disc_fraction_inside * 100)}% of the disc inside` : "";
    return `${where}; evidence ${e.evidence}${disc}`;
  }

  function evidenceSource(e) {
    if (e.kind === "fix") return `GPS fix${e.device_id ? ` from device ${e.device_id}` : ""}`;
    return `Sighting by ${SOURCE[e.source] || e.source || "unknown source"}` +
      (e.source_detail ? `: ${e.source_detail}` : "");
  }

  function renderEvidence(alert, items) {
    evidenceLayer.clearLayers();
    const list = $("detail-evidence");
    if (!items.length) {
      Z.fill(list, el("li", { class: "muted" }, "No observation is recorded for this alert."));
      return;
    }
    Z.fill(list, items.map((e, i) => el("li", {},
      el("span", { class: "ev-when" }, `${i + 1}. `, e.observed_local || Z.localTime(e.observed_at)),
      e.late ? [" ", badge("late", "Late")] : null,
      flagBadges(e.flags),
      el("span", { class: "ev-source" }, evidenceSource(e)),
      el("span", { class: "ev-meta" },
        e.accuracy_m !== null ? `accuracy ±${Z.metres(e.accuracy_m)}` : "accuracy not given",
        e.reporter ? ` · reported by ${e.reporter}` : "",
        ` · received ${Z.localClock(e.received_at)}`),
      el("span", { class: "ev-verdict" }, verdictText(e, alert)))));
    for (const [i, e] of items.entries()) {
      if (e.accuracy_m) {
        evidenceLayer.addLayer(L.circle([e.lat, e.lon], {
          radius: e.accuracy_m, color: "#0b5cad", weight: 1, fillOpacity: 0.12,
          interactive: false,
        }));
      }
      const point = L.circleMarker([e.lat, e.lon], {
        radius: 6, color: "#fff", weight: 2, fillColor: "#0b5cad", fillOpacity: 1,
      });
      Z.popup(point, el("div", {},
        el("strong", {}, `Observation ${i + 1}`), el("br"),
        e.observed_local || Z.localTime(e.observed_at), el("br"),
        evidenceSource(e), el("br"),
        e.accuracy_m !== null ? `accuracy ±${Z.metres(e.accuracy_m)}` : "accuracy not given",
        el("br"), verdictText(e, alert)));
      point.bindTooltip(el("span", {}, `${i + 1}: ${Z.localClock(e.observed_at)}`),
        { direction: "top", className: "evidence-label" });
      evidenceLayer.addLayer(point);
    }
  }

  function renderHistory(items) {
    const list = $("detail-history");
    if (!items.length) {
      Z.fill(list, el("li", { class: "muted" }, "Nobody has acted on this alert yet."));
      return;
    }
    Z.fill(list, items.map((a) => el("li", { class: `history-item ${a.action}` },
      el("span", { class: "hi-head" },
        el("strong", {}, ACTION[a.action] || a.action),
        a.assignee ? ` to ${a.assignee}` : "",
        a.disposition ? `: ${DISPOSITION[a.disposition]}` : "",
        ` by ${a.by}`),
      el("span", { class: "hi-when" }, a.at_local || Z.localTime(a.at)),
      a.note ? el("span", { class: "hi-note" }, a.note) : null)));
  }

  const EVENT = { opened: "opened", closed: "closed", handled: "handling" };

  function deliveryText(d) {
    const what = EVENT[d.event] || d.event;
    if (d.status === "delivered") return `${what}: delivered ${Z.localTime(d.delivered_at)}`;
    const tries = d.attempts ? `, ${d.attempts} tries, last: ${d.last_result}` : "";
    const state = d.status === "failing" ? "FAILING, still retried" : "waiting";
    return `${what}: ${state}${tries}` + (d.webhook_enabled ? "" : " (webhook disabled)");
  }

  // Which webhooks were told of the alert, and whether it reached them: one line each.
  async function loadDeliveries(id) {
    const list = $("detail-deliveries");
    let items;
    try {
      items = await Z.api("GET", `/alerts/${id}/deliveries`);
    } catch (err) {
      Z.fill(list, el("li", { class: "muted" }, `Notifications unknown: ${err.message}`));
      return;
    }
    if (state.chosen !== id) return;
    if (!items.length) {
      Z.fill(list, el("li", { class: "muted" }, "No webhook is told of this alert."));
      return;
    }
    const byHook = new Map();
    for (const d of items) {
      if (!byHook.has(d.webhook)) byHook.set(d.webhook, []);
      byHook.get(d.webhook).push(d);
    }
    Z.fill(list, [...byHook].map(([hook, ds]) => el("li", {
      class: ds.some((d) => d.status === "failing") ? "history-item failing" : "history-item",
    }, el("strong", {}, hook), ": ", ds.map(deliveryText).join("; "))));
  }

  async function reloadChosen(id) {
    try {
      const [alert, evidence, history] = await Promise.all([
        Z.api("GET", `/alerts/${id}`),
        Z.api("GET", `/alerts/${id}/evidence`),
        Z.api("GET", `/alerts/${id}/history`),
      ]);
      if (state.chosen !== id) return;
      state.alerts.set(id, alert);
      renderDetail(alert);
      renderEvidence(alert, evidence);
      renderHistory(history);
      loadDeliveries(id);
    } catch (err) {
      Z.say("detail-status", `Could not refresh alert ${id}: ${err.message}`, "error");
    }
  }

  // -- acting on it ----------------------------------------------------------------------------

  const actions = $("actions");
  const buttons = actions ? {
    acknowledge: $("act-acknowledge"), note: $("act-note-add"), assign: $("act-assign"),
    resolve: $("act-resolve"), reopen: $("act-reopen"),
  } : {};
  let acting = false;

  function renderActions(alert) {
    if (!actions) return;
    const h = alert.handling;
    const allowed = {
      acknowledge: h === "unhandled", note: true, assign: true, resolve: h !== "resolved",
      reopen: h === "resolved",
    };
    for (const [name, button] of Object.entries(buttons)) {
      if (button) button.disabled = acting || !allowed[name];
    }
  }

  function need(field, message) {
    Z.say("act-status", message, "error");
    $(field).focus();
  }

  async function act(action) {
    const id = state.chosen;
    if (id === null || acting) return;
    const note = $("act-note").value.trim();
    const body = { action };
    if (note) body.note = note;
    if (action === "note" && !note) return need("act-note", "Write the note first.");
    if (action === "reopen" && !note) return need("act-note", "Say in the note why it is reopened.");
    if (action === "assign") {
      const who = $("act-assignee").value;
      if (!who) return need("act-assignee", "Choose whom to assign it to.");
      body.assignee = who;
    }
    if (action === "resolve") {
      const how = $("act-disposition").value;
      if (!how) return need("act-disposition", "Choose a disposition: how did it end?");
      body.disposition = how;
    }
    acting = true;
    renderActions(state.alerts.get(id));
    Z.say("act-status", "Saving…");
    try {
      const done = await Z.api("POST", `/alerts/${id}/actions`, body);
      $("act-note").value = "";
      if (action === "resolve") $("act-disposition").value = "";
      if (action === "assign") $("act-assignee").value = "";
      state.alerts.set(id, done.alert);
      acting = false;
      Z.say("act-status", `${ACTION[action]}: saved in the alert's history.`, "ok");
      refresh();
      await reloadChosen(id);
    } catch (err) {
      acting = false;
      renderActions(state.alerts.get(id));
      Z.say("act-status", err.message, "error");
      const field = { note: "act-note", assignee: "act-assignee", disposition: "act-disposition" };
      if (err.field && field[err.field]) $(field[err.field]).focus();
    }
  }

  if (actions) {
    actions.addEventListener("submit", (e) => e.preventDefault());
    for (const [name, button] of Object.entries(buttons)) {
      if (button) button.addEventListener("click", () => act(name));
    }
    Z.api("GET", "/users").then((users) => {
      const select = $("act-assignee");
      for (const u of users) {
        select.append(el("option", { value: u.username }, `${u.username} (${u.role.replace("_", " ")})`));
      }
    }).catch(() => {});
  }

  // -- live alerts -----------------------------------------------------------------------------

  const soundBox = $("sound");
  const SOUND_KEY = "zones.desk.sound";
  soundBox.checked = localStorage.getItem(SOUND_KEY) !== "off";
  soundBox.addEventListener("change", () => {
    localStorage.setItem(SOUND_KEY, soundBox.checked ? "on" : "off");
  });
  let audio = null;

  // Browsers let a page make sound only after the user has touched it.
  function wakeAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audio) audio = new Context();
    else if (audio.state === "suspended") audio.resume();
  }
  document.addEventListener("pointerdown", wakeAudio);
  document.addEventListener("keydown", wakeAudio);

  /** Two short rising tones, made here: no sound file. */
  function chime() {
    if (!soundBox.checked) return;
    soundBox.dataset.played = String(Number(soundBox.dataset.played || 0) + 1);
    if (!audio || audio.state !== "running") return;
    const t = audio.currentTime;
    [[0, 880], [0.18, 1320]].forEach(([delay, pitch]) => {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.type = "sine";
      tone.frequency.value = pitch;
      gain.gain.setValueAtTime(0.0001, t + delay);
      gain.gain.exponentialRampToValueAtTime(0.3, t + delay + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + delay + 0.16);
      tone.connect(gain).connect(audio.destination);
      tone.start(t + delay);
      tone.stop(t + delay + 0.2);
    });
  }

  function live(text, kind) {
    const node = $("live-state");
    node.textContent = text;
    node.className = "live-state" + (kind ? " " + kind : "");
  }

  let source = null;
  let retry = 2000;

  function onAlert(message) {
    const event = JSON.parse(message.data);
    state.lastEventId = Math.max(state.lastEventId || 0, event.event_id);
    const alert = event.alert;
    if (alert.stage && alert.stage !== "alert") {
      // A late fix joined this stay to another (merged): it is no longer an alert of its own.
      state.alerts.delete(alert.id);
      state.arrived.delete(alert.id);
      if (state.listLoaded) refresh();
      return;
    }
    const known = state.alerts.has(alert.id);
    state.alerts.set(alert.id, alert);
    state.arrived.set(alert.id, alert);
    if (!state.listLoaded) return;  // the list, loaded next, has it
    const shown = matches(alert, state.filters);
    if (event.kind === "opened" && !known && shown) {
      state.fresh.add(alert.id);
      chime();
      Z.say("desk-announce", `New alert ${alert.id}: ${alert.subject_reference || ""} ` +
        (isDevice(alert) ? `${titleOf(alert).toLowerCase()}` : `in ${titleOf(alert)}`) +
        `, ${Z.localClock(alert.first_at)}.`, "problem");
    }
    refresh();
    if (shown && !known) drawOrderZones();
    if (alert.id === state.chosen) {
      renderDetail(alert);
      if (!acting) reloadChosen(alert.id);
    }
  }

  function connect() {
    const url = config.api + "/alerts/stream" +
      (state.lastEventId !== null ? `?after=${state.lastEventId}` : "");
    source = new EventSource(url);
    source.addEventListener("alert", onAlert);
    source.addEventListener("ready", (message) => {
      const ready = JSON.parse(message.data);
      if (state.lastEventId === null) state.lastEventId = ready.last_event_id;
      retry = 2000;
      live("Live: new alerts appear here as they are raised.", "ok");
      if (!state.listLoaded) loadList();  // after subscribing, so nothing falls between
    });
    source.addEventListener("signed_out", () => {
      source.close();
      live("Signed out: live alerts stopped.", "error");
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    });
    source.addEventListener("error", () => {
      if (!state.listLoaded && state.loadTicket === 0) loadList();
      if (source.readyState === EventSource.CLOSED) {
        live("Live alerts interrupted: reconnecting…", "error");
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 30000);
      } else {
        live("Live alerts interrupted: reconnecting…", "error");
      }
    });
  }

  // -- start -----------------------------------------------------------------------------------

  state.filters = readFilters();
  connect();
  setTimeout(() => { if (state.loadTicket === 0) loadList(); }, 3000);  // stream slow to answer
  if (config.alert) choose(config.alert);
  Z.nameControls();
})();
