/* Shared helpers of the workspace pages.
 *
 * Rules every page script keeps:
 * - user text reaches the page only as text: el() and textContent, never innerHTML, and
 *   Leaflet popups and tooltips get DOM elements, not strings;
 * - the pages talk to the public API only (Zones.api), with the page's CSRF token;
 * - times are shown in Europe/London civil time with BST or GMT.
 */
"use strict";

window.Zones = (function () {
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const TZ = "Europe/London";

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Replace the children of ``node``. */
  function fill(node, ...children) {
    node.replaceChildren();
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || {};
      super(error.message || `HTTP ${status}`);
      this.status = status;
      this.code = error.code || "http_error";
      this.field = error.field || null;
      this.location = error.location || null;
    }
  }

  /** Call the API with the session cookie and the page's CSRF token. */
  async function api(method, path, body, options) {
    const headers = { "X-CSRF-Token": config.csrf, Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let url = config.api + path;
    if (options && options.params) {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(options.params)) {
        if (value === null || value === undefined || value === "") continue;
        for (const v of Array.isArray(value) ? value : [value]) query.append(key, v);
      }
      if ([...query].length) url += "?" + query.toString();
    }
    const response = await fetch(url, init);
    if (response.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
      throw new ApiError(401, null);
    }
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  const dateTime = new Intl.DateTimeFormat("en-GB", {
    timeZone: TZ, weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
  });
  const clock = new Intl.DateTimeFormat("en-GB", {
    timeZone: TZ, hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });

  /** An instant as London civil time, e.g. "Sun 29 Nov 2026, 14:03:00 GMT". */
  function localTime(iso) {
    return iso ? dateTime.format(new Date(iso)) : "";
  }

  /** Just the clock time, e.g. "14:03 BST". */
  function localClock(iso) {
    return iso ? clock.format(new Date(iso)) : "";
  }

  /** The wall-clock parts of an instant in London, for a datetime-local input. */
  function localInputValue(date) {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-GB", {
        timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      }).formatToParts(date).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
  }

  /** "42 m" or "1.2 km". */
  function metres(value) {
    const v = Math.abs(Number(value));
    return v >= 1000 ? `${(v / 1000).toFixed(1)} km` : `${Math.round(v)} m`;
  }

  /** How long ago, e.g. "3 min", "2 h 5 min". */
  function age(iso, now) {
    const seconds = Math.max(0, ((now || Date.now()) - new Date(iso).getTime()) / 1000);
    if (seconds < 60) return `${Math.round(seconds)} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return `${hours} h ${minutes % 60} min`;
    return `${Math.floor(hours / 24)} days`;
  }

  /** A message in the page's live region (screen readers hear it). */
  function say(target, text, kind) {
    const node = typeof target === "string" ? document.getElementById(target) : target;
    if (!node) return;
    node.className = "status-line" + (kind ? " " + kind : "");
    node.textContent = text;
  }

  /** The Leaflet map folium made, and other folium objects the page was told about. */
  function folium(name) {
    const variable = config[name];
    return variable ? window[variable] : undefined;
  }

  function map() {
    return folium("map");
  }

  /** A text-only tooltip (label) for a layer: the text is set as text, never parsed. */
  function label(layer, text, options) {
    layer.bindTooltip(el("span", {}, text), Object.assign({
      permanent: true, direction: "center", className: "zone-label",
    }, options || {}));
    return layer;
  }

  /** A popup whose content is a DOM element. */
  function popup(layer, content) {
    layer.bindPopup(content instanceof Node ? content : el("div", {}, content), { maxWidth: 340 });
    return layer;
  }

  const ZONE_STYLE = { color: "#b2182b", weight: 2, fillColor: "#ef8a62", fillOpacity: 0.25 };
  const BUFFER_STYLE = { color: "#b2182b", weight: 1, dashArray: "6 4", fillOpacity: 0.05 };
  const CONTEXT_STYLE = { color: "#5b6b7a", weight: 1, fillColor: "#8fa3b5", fillOpacity: 0.08,
    interactive: false };
  const BOUNDARY_STYLE = { color: "#334455", weight: 2, dashArray: "2 6", fill: false,
    interactive: false };

  /**
   * The zone library and area boundaries as faint context, labelled by name when zoomed
   * in; refreshed as the map moves. Returns the layer group. ``options.skip(id)``: true for
   * zones the page draws itself (not drawn twice, nor labelled twice).
   */
  function contextLayers(m, options) {
    const group = L.layerGroup().addTo(m);
    const labelZoom = (options && options.labelZoom) || 15;
    let pending = 0;
    async function refresh() {
      const ticket = ++pending;
      const b = m.getBounds();
      const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
        .map((v, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, v)).toFixed(6));
      let found;
      try {
        found = await api("GET", "/zones", undefined, { params: { bbox: bbox.join(","), limit: 2000 } });
      } catch (err) {
        return;
      }
      if (ticket !== pending) return;
      group.clearLayers();
      for (const feature of found.features) {
        if (options && options.skip && options.skip(feature.id)) continue;
        const boundary = feature.properties.category === "boundary";
        const layer = L.geoJSON(feature, { style: boundary ? BOUNDARY_STYLE : CONTEXT_STYLE });
        if (!boundary && m.getZoom() >= labelZoom) {
          label(layer, feature.properties.name, { className: "context-label" });
        }
        group.addLayer(layer);
        layer.bringToBack();  // context stays under what the page draws, however late it comes
      }
    }
    m.on("moveend", refresh);
    refresh();
    return group;
  }

  /** Fit the map to a Leaflet bounds, if it is valid (not animated: headless browsers can
   * leave an animated fit half-painted). */
  function fit(m, bounds, maxZoom) {
    if (bounds && bounds.isValid && bounds.isValid()) {
      m.fitBounds(bounds, { padding: [30, 30], maxZoom: maxZoom || 17, animate: false });
    }
  }

  /**
   * Give Leaflet's and plugins' icon-only controls names a screen reader can read
   * (some plugins leave them as empty links).
   */
  function nameControls(root) {
    for (const node of (root || document).querySelectorAll(
      ".leaflet-control a, .leaflet-control button, .leaflet-buttons-control-button")) {
      // Attribution links are real links named by their text: a title there is no name.
      if (node.closest(".leaflet-control-attribution")) continue;
      if (!node.getAttribute("aria-label")) {
        // Geoman puts the title on the button's parent, not on the link itself.
        const titled = node.getAttribute("title") ? node : node.closest("[title]");
        const name = (titled && titled.getAttribute("title")) || node.textContent.trim();
        if (name) node.setAttribute("aria-label", name);
      }
      if (node.tagName === "A" && !node.getAttribute("role")) node.setAttribute("role", "button");
    }
  }

  // An open page keeps its session cookie renewed (the server re-issues it on any request
  // once it is a few minutes old), so an alert desk left open stays signed in all shift; a
  // sign-in that has ended (logged out elsewhere, disabled, past its 12 hours) sends the
  // page to the log-in form through api()'s 401 handling.
  const RENEW_MS = 4 * 60 * 1000;
  if (config.user) {
    setInterval(() => { api("GET", "/auth/session").catch(() => {}); }, RENEW_MS);
  }

  return {
    config, el, fill, api, ApiError, localTime, localClock, localInputValue, metres, age, say,
    folium, map, label, popup, contextLayers, fit, nameControls,
    ZONE_STYLE, BUFFER_STYLE, CONTEXT_STYLE, BOUNDARY_STYLE,
  };
})();

