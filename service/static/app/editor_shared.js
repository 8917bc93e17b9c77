/* What the zone pages share: shapes to and from GeoJSON (circles as geodesic polygons), the
 * zone library as clickable context, problems pinned to the map, dry runs before storing.
 *
 * User text (zone names, categories, messages) reaches the page only through Zones.el,
 * textContent, Zones.label and Zones.popup: never as HTML.
 */
"use strict";

window.ZoneEditor = (function () {
  const Z = window.Zones;
  const CIRCLE_SEGMENTS = 72; // a vertex every 5 degrees
  const NEW_STYLE = { color: "#0b5cad", weight: 3, fillColor: "#4f9be8", fillOpacity: 0.25 };
  const PROBLEM_STYLE = { color: "#b3261e", weight: 4, dashArray: "8 6", fillColor: "#b3261e",
    fillOpacity: 0.3 };
  const LIBRARY_STYLE = { color: "#5b6b7a", weight: 1, fillColor: "#8fa3b5", fillOpacity: 0.12 };
  const LIBRARY_HOVER = { color: "#1d3557", weight: 2, fillOpacity: 0.3 };

  // -- geodesy ---------------------------------------------------------------------------

  /**
   * The point ``metres`` from [lon, lat] along ``bearing`` degrees on the WGS 84 ellipsoid
   * (Vincenty's direct formula): a circle drawn with it keeps its radius in metres on the
   * Earth, as the server measures it, wherever it is.
   */
  function destination(lon, lat, bearing, metres) {
    const a = 6378137, f = 1 / 298.257223563, b = a * (1 - f);
    const rad = Math.PI / 180;
    const alpha1 = bearing * rad, sinAlpha1 = Math.sin(alpha1), cosAlpha1 = Math.cos(alpha1);
    const tanU1 = (1 - f) * Math.tan(lat * rad);
    const cosU1 = 1 / Math.sqrt(1 + tanU1 * tanU1), sinU1 = tanU1 * cosU1;
    const sigma1 = Math.atan2(tanU1, cosAlpha1);
    const sinAlpha = cosU1 * sinAlpha1, cosSqAlpha = 1 - sinAlpha * sinAlpha;
    const uSq = cosSqAlpha * (a * a - b * b) / (b * b);
    const A = 1 + uSq / 16384 * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)));
    const B = uSq / 1024 * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)));
    let sigma = metres / (b * A), previous, cos2SigmaM, sinSigma, cosSigma, n = 0;
    do {
      cos2SigmaM = Math.cos(2 * sigma1 + sigma);
      sinSigma = Math.sin(sigma);
      cosSigma = Math.cos(sigma);
      const deltaSigma = B * sinSigma * (cos2SigmaM + B / 4 * (cosSigma * (-1 + 2 * cos2SigmaM ** 2)
        - B / 6 * cos2SigmaM * (-3 + 4 * sinSigma ** 2) * (-3 + 4 * cos2SigmaM ** 2)));
      previous = sigma;
      sigma = metres / (b * A) + deltaSigma;
    } while (Math.abs(sigma - previous) > 1e-12 && ++n < 200);
    sinSigma = Math.sin(sigma);
    cosSigma = Math.cos(sigma);
    cos2SigmaM = Math.cos(2 * sigma1 + sigma);
    const x = sinU1 * sinSigma - cosU1 * cosSigma * cosAlpha1;
    const lat2 = Math.atan2(sinU1 * cosSigma + cosU1 * sinSigma * cosAlpha1,
      (1 - f) * Math.sqrt(sinAlpha * sinAlpha + x * x));
    const lambda = Math.atan2(sinSigma * sinAlpha1,
      cosU1 * cosSigma - sinU1 * sinSigma * cosAlpha1);
    const C = f / 16 * cosSqAlpha * (4 + f * (4 - 3 * cosSqAlpha));
    const L = lambda - (1 - C) * f * sinAlpha * (sigma + C * sinSigma * (cos2SigmaM
      + C * cosSigma * (-1 + 2 * cos2SigmaM ** 2)));
    const lon2 = ((lon + L / rad + 540) % 360) - 180;
    return [lon2, lat2 / rad];
  }

  /** A circle as a GeoJSON Polygon of CIRCLE_SEGMENTS vertices, anticlockwise. */
  function circlePolygon(center, radius) {
    const ring = [];
    for (let i = 0; i < CIRCLE_SEGMENTS; i++) {
      ring.push(destination(center[0], center[1], 360 - (i * 360) / CIRCLE_SEGMENTS, radius));
    }
    ring.push(ring[0].slice());
    return { type: "Polygon", coordinates: [ring] };
  }

  // -- layers and GeoJSON ----------------------------------------------------------------

  function isCircle(layer) {
    return layer instanceof L.Circle;
  }

  /** A layer's shape as GeoJSON (Polygon or MultiPolygon, full precision). */
  function geometryOf(layer) {
    if (isCircle(layer)) {
      const c = layer.getLatLng();
      return circlePolygon([c.lng, c.lat], layer.getRadius());
    }
    const found = layer.toGeoJSON(false);
    return found.type === "Feature" ? found.geometry
      : found.type === "FeatureCollection" ? found.features[0].geometry : found;
  }

  /** How a layer was drawn, for ``properties.drawing``. */
  function drawingOf(layer) {
    if (isCircle(layer)) {
      const c = layer.getLatLng();
      return { shape: "circle", center: [c.lng, c.lat], radius_m: layer.getRadius() };
    }
    if (layer instanceof L.Rectangle) return { shape: "rectangle" };
    return { shape: "polygon" };
  }

  /**
   * An editable Leaflet layer for a zone Feature: a circle when it was drawn as one (so it
   * can be resized), else a polygon (holes and several parts kept).
   */
  function layerOf(feature, style) {
    const drawing = feature.properties && feature.properties.drawing;
    const options = Object.assign({ pmIgnore: false }, style);
    if (drawing && drawing.shape === "circle" && drawing.center && drawing.radius_m) {
      return L.circle([drawing.center[1], drawing.center[0]],
        Object.assign({ radius: drawing.radius_m }, options));
    }
    const g = feature.geometry;
    const depth = g.type === "Polygon" ? 1 : 2;
    return L.polygon(L.GeoJSON.coordsToLatLngs(g.coordinates, depth), options);
  }

  /**
   * Fit the map to ``bounds`` at once. (Leaflet's animated zoom can leave headless Chromium's
   * software raster half-painted, so the pages jump instead of gliding.)
   */
  function fit(m, bounds, maxZoom) {
    if (bounds && bounds.isValid && bounds.isValid()) {
      m.fitBounds(bounds, { padding: [30, 30], maxZoom: maxZoom || 17, animate: false });
    }
  }

  function boundsOf(layers) {
    const bounds = L.latLngBounds([]);
    for (const layer of layers) {
      if (layer && layer.getBounds) bounds.extend(layer.getBounds());
    }
    return bounds;
  }

  /** True while a Geoman tool is in use: a click then belongs to the tool. */
  function busy(m) {
    const pm = m.pm;
    return !!pm && (pm.globalDrawModeEnabled() || pm.globalEditModeEnabled()
      || pm.globalRemovalModeEnabled() || pm.globalDragModeEnabled()
      || pm.globalCutModeEnabled()
      || (pm.globalRotateModeEnabled && pm.globalRotateModeEnabled()));
  }

  // -- the zone library as context you can click -------------------------------------------

  /**
   * The zone library drawn faintly for the map's view, labelled when zoomed in;
   * ``onPick(feature)`` when one is clicked (unless a Geoman tool is in use; without
   * ``onPick`` it is context only). ``skip(id)`` hides zones the page draws itself.
   */
  function libraryLayer(m, options) {
    const group = L.layerGroup().addTo(m);
    const labelZoom = options.labelZoom || 15;
    let ticket = 0;
    let last = [];

    function draw() {
      group.clearLayers();
      for (const feature of last) {
        if (options.skip && options.skip(feature.id)) continue;
        const boundary = feature.properties.category === "boundary";
        const geometry = feature.geometry;
        const depth = geometry.type === "Polygon" ? 1 : 2;
        const latlngs = L.GeoJSON.coordsToLatLngs(geometry.coordinates, depth);
        const pickable = !boundary && !!options.onPick;
        const layer = L.polygon(latlngs, Object.assign({ pmIgnore: true, snapIgnore: true },
          boundary ? Z.BOUNDARY_STYLE : LIBRARY_STYLE, pickable ? {} : { interactive: false }));
        if (!boundary && m.getZoom() >= labelZoom) {
          Z.label(layer, feature.properties.name, { className: "context-label" });
        }
        if (pickable) {
          if (m.getZoom() < labelZoom) {
            layer.bindTooltip(Z.el("span", {}, `${feature.properties.name}: click to add`),
              { sticky: true, className: "context-label" });
          }
          layer.on("mouseover", () => layer.setStyle(LIBRARY_HOVER));
          layer.on("mouseout", () => layer.setStyle(LIBRARY_STYLE));
          layer.on("click", (event) => {
            if (busy(m)) return;
            L.DomEvent.stop(event);
            options.onPick(feature);
          });
        }
        group.addLayer(layer);
      }
      group.eachLayer((layer) => layer.bringToBack && layer.bringToBack());
    }

    async function refresh() {
      const mine = ++ticket;
      const b = m.getBounds();
      const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
        .map((v, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, v)).toFixed(6));
      let found;
      try {
        found = await Z.api("GET", "/zones", undefined,
          { params: { bbox: bbox.join(","), limit: 2000 } });
      } catch (err) {
        return;
      }
      if (mine !== ticket) return;
      last = found.features;
      draw();
    }

    m.on("moveend", refresh);
    return { group, refresh, redraw: draw };
  }

  // -- problems on the map ----------------------------------------------------------------

  /** A marker at [lon, lat] naming a problem, with the message as a label and a popup. */
  function problemMarker(m, lonlat, message) {
    const icon = L.divIcon({ className: "problem-pin", html: "", iconSize: [24, 24],
      iconAnchor: [12, 12] });
    const marker = L.marker([lonlat[1], lonlat[0]], {
      icon, pmIgnore: true, snapIgnore: true, title: `Problem: ${message}`, zIndexOffset: 1000,
    });
    marker.bindTooltip(Z.el("span", {}, message), {
      permanent: true, direction: "auto", offset: [14, 0], className: "problem-label",
    });
    Z.popup(marker, Z.el("p", {}, message));
    marker.addTo(m);
    const node = marker.getElement();
    if (node) node.setAttribute("aria-label", `Problem: ${message}`);
    return marker;
  }

  /**
   * A refused shape's problem in the page's words: what the server says is wrong (its first
   * clause: the rest is advice for API clients) and how to fix it here.
   */
  function problemText(error) {
    const what = String(error.message || "").split(";")[0].trim();
    const first = what.charAt(0).toUpperCase() + what.slice(1);
    if (error.code === "invalid_geometry" && error.location) {
      return `${first}. Move a vertex with the edit tool so that the edges no longer cross, `
        + "or remove the shape and draw it again.";
    }
    return `${first}.`;
  }

  /** Where to pin a problem the server gave no place for: the middle of the shape. */
  function placeOf(error, layer) {
    if (error && Array.isArray(error.location)) return error.location;
    const c = isCircle(layer) ? layer.getLatLng() : layer.getBounds().getCenter();
    return [c.lng, c.lat];
  }

  // -- the API ------------------------------------------------------------------------------

  /**
   * Dry-run every Feature (``POST /zones/validate``) before any is stored; resolves to one
   * result each: ``{feature}`` as it would be stored, or ``{error}`` (``message``, ``code``,
   * ``field``, ``location``: [lon, lat] or null).
   */
  async function validateAll(features) {
    return Promise.all(features.map(async (feature) => {
      let check;
      try {
        check = await Z.api("POST", "/zones/validate", feature);
      } catch (error) {
        if (!(error instanceof Z.ApiError) || error.status !== 422) throw error;
        return { error }; // a malformed Feature (a name too long, say)
      }
      return check.valid ? { feature: check.feature } : { error: check.error };
    }));
  }

  /** Read a file's shapes (``POST /zones/preview``): nothing is stored. */
  async function preview(file) {
    const form = new FormData();
    form.append("file", file, file.name);
    return Z.api("POST", "/zones/preview", form);
  }

  /**
   * The file chosen in ``#upload-file`` and its shapes, saying how it goes in
   * ``#upload-status``; null when none is chosen or it cannot be read.
   */
  async function readChosenFile() {
    const file = document.getElementById("upload-file").files[0];
    if (!file) {
      Z.say("upload-status", "Choose a file first.", "error");
      return null;
    }
    Z.say("upload-status", `Reading ${file.name}…`);
    try {
      return { file, found: await preview(file) };
    } catch (err) {
      Z.say("upload-status", `${file.name} cannot be read: ${err.message}`, "error");
      return null;
    }
  }

  const ORDER_TYPES = { SHPO: "SHPO", SRO: "SRO", licence: "Licence conditions",
    restraining: "Restraining order", other: "Order" };

  /** An order as people name it: its type, unless its reference already says it. */
  function orderName(order) {
    const type = ORDER_TYPES[order.type] || order.type;
    return order.reference.toUpperCase().startsWith(String(order.type).toUpperCase())
      ? order.reference : `${type} ${order.reference}`;
  }

  /** The order as a ``PUT /orders/{id}`` body, with ``change(condition)`` applied. */
  function orderEdit(order, reason, change) {
    return {
      subject_id: order.subject_id,
      reference: order.reference,
      type: order.type,
      court: order.court,
      starts: order.starts,
      ends: order.ends,
      status: order.status,
      reason,
      conditions: order.conditions.map((c) => Object.assign({
        text: c.text, zone_ids: c.zone_ids.slice(), buffer_m: c.buffer_m, clause_id: c.clause_id,
      }, change(c) || {})),
    };
  }

  /** Geoman's toolbar links carry their names on their containers: give them to the links. */
  function nameTools(root) {
    for (const node of (root || document).querySelectorAll(".leaflet-buttons-control-button")) {
      const holder = node.closest("[title]");
      if (!node.getAttribute("aria-label") && holder) {
        node.setAttribute("aria-label", holder.getAttribute("title"));
      }
    }
    Z.nameControls(root);
  }

  function area(m2) {
    if (m2 === null || m2 === undefined) return "";
    return m2 >= 100000 ? `${(m2 / 10000).toFixed(1)} ha`
      : `${Math.round(m2).toLocaleString("en-GB")} m²`;
  }

  return {
    NEW_STYLE, PROBLEM_STYLE, LIBRARY_STYLE, CIRCLE_SEGMENTS,
    destination, circlePolygon, geometryOf, drawingOf, layerOf, boundsOf, isCircle, fit, busy,
    libraryLayer, problemMarker, problemText, placeOf, validateAll, readChosenFile, orderEdit,
    orderName,
    nameTools, area,
  };
})();
