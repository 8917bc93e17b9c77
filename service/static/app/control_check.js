/* The control room's sighting check (/check).
 *
 * Pick a subject, give the place (map click, latitude and longitude, OS grid reference or a
 * named place) and the time (UK clock; a time in an hour the clocks skipped or repeated is
 * asked about, never guessed), say who saw the subject, and check: the answer says breach or
 * not, of which order and clause, how far inside, how sure. Or start from the place: who is
 * barred from it. Everything comes from the public API and reaches the page as text.
 */
"use strict";

(function () {
  const Z = window.Zones;
  const { el, fill, api } = Z;
  const TZ = "Europe/London";
  const m = Z.map();
  const $ = (id) => document.getElementById(id);
  const CLOCK_SKEW_MS = 5 * 60 * 1000;
  const LONGEST_WINDOW_MS = 24 * 3600 * 1000;
  const HEADLINES = {
    breach: "Breach",
    possible_breach: "Possible breach",
    no_breach: "No breach",
    nothing_in_force: "Nothing to judge against",
  };
  const HIGHLIGHT_STYLE = { color: "#5c0011", weight: 5, fillColor: "#d6604d", fillOpacity: 0.45 };
  const PLACE_COLOUR = "#0b5cad";

  const state = {
    subject: null, // SubjectOut
    place: null, // {lon, lat, via: "map"|"lonlat"|"grid_ref"|"named", square, name}
    accuracyFrom: null, // "operator" | "grid_ref" | null
    pending: Promise.resolve(), // a place being looked up (a grid reference)
    gridLooked: "", // the grid reference last looked up
    times: {}, // input id -> {value, options, chosen}
    zoneLayers: new Map(), // zone id -> Leaflet layer of the subject's zone
    highlighted: null,
    subjectTicket: 0,
  };

  // -- the map -------------------------------------------------------------------------------

  // Everything is drawn in Leaflet's overlay pane (custom panes were left unpainted after
  // moves by headless Chromium's software compositor): the faint library goes to the back
  // each time it is redrawn, so the subject's zones and the reported place stay on top.
  const bufferLayer = L.featureGroup().addTo(m);
  const subjectLayer = L.featureGroup().addTo(m);
  const placeLayer = L.featureGroup().addTo(m);
  const extraLayer = L.featureGroup().addTo(m); // a verdict's zone that is not the subject's own
  const context = Z.contextLayers(m, { labelZoom: 16 });
  Z.nameControls();

  /** The subject's zones have labels of their own: their faint library copies keep none. */
  function quietContext(layer) {
    if (!(layer instanceof L.GeoJSON) || !context.hasLayer(layer)) return;
    layer.bringToBack();
    if (!layer.getTooltip()) return;
    const first = layer.getLayers()[0];
    if (first && first.feature && state.zoneLayers.has(first.feature.id)) layer.unbindTooltip();
  }
  m.on("layeradd", (event) => quietContext(event.layer));

  m.on("click", (event) => {
    const at = event.latlng.wrap();
    setPlace({ lon: at.lng, lat: at.lat, via: "map" });
  });

  // -- metres on the map ---------------------------------------------------------------------

  const WGS84_A = 6378137;
  const WGS84_E2 = 0.00669437999014;

  /** Metres per degree of longitude and of latitude at ``lat`` (WGS 84). */
  function metresPerDegree(lat) {
    const phi = (lat * Math.PI) / 180;
    const s = Math.sin(phi);
    const w = Math.sqrt(1 - WGS84_E2 * s * s);
    const prime = WGS84_A / w;
    const meridian = (WGS84_A * (1 - WGS84_E2)) / (w * w * w);
    return { x: (Math.PI / 180) * prime * Math.cos(phi), y: (Math.PI / 180) * meridian };
  }

  /**
   * The four corners ([lat, lon]) of the square a grid reference names. The British
   * National Grid's north is turned from true north by the meridian convergence (about
   * 1.7 degrees at Cambridge), so the square is drawn turned by it.
   */
  function gridSquareCorners(square) {
    const k = metresPerDegree(square.lat);
    const rad = Math.PI / 180;
    const gamma = Math.atan(Math.tan((square.lon + 2) * rad) * Math.sin(square.lat * rad));
    const half = square.size_m / 2;
    return [[-half, -half], [half, -half], [half, half], [-half, half]].map(([gx, gy]) => {
      const east = gx * Math.cos(gamma) + gy * Math.sin(gamma);
      const north = -gx * Math.sin(gamma) + gy * Math.cos(gamma);
      return [square.lat + north / k.y, square.lon + east / k.x];
    });
  }

  function polygonsOf(geometry) {
    if (!geometry) return [];
    if (geometry.type === "Polygon") return [geometry.coordinates];
    if (geometry.type === "MultiPolygon") return geometry.coordinates;
    return [];
  }

  /**
   * The outline of a zone grown by ``distance`` metres, as Leaflet rings ([lat, lon]), for
   * drawing only (the verdicts come from the server): the contour at ``distance`` of the
   * signed distance to the zone, sampled on a grid in local metres (marching squares).
   */
  function bufferRings(geometry, distance) {
    const rings = polygonsOf(geometry).flat();
    if (!rings.length || !(distance > 0)) return [];
    let minLon = Infinity, minLat = Infinity, maxLon = -Infinity, maxLat = -Infinity;
    for (const ring of rings) {
      for (const [lon, lat] of ring) {
        minLon = Math.min(minLon, lon); maxLon = Math.max(maxLon, lon);
        minLat = Math.min(minLat, lat); maxLat = Math.max(maxLat, lat);
      }
    }
    const lon0 = (minLon + maxLon) / 2, lat0 = (minLat + maxLat) / 2;
    const k = metresPerDegree(lat0);
    const local = rings.map((ring) => ring.map(([lon, lat]) => [(lon - lon0) * k.x, (lat - lat0) * k.y]));
    const segs = [];
    for (const ring of local) {
      for (let i = 0; i + 1 < ring.length; i++) segs.push([...ring[i], ...ring[i + 1]]);
    }
    const n = segs.length;
    const ax = new Float64Array(n), ay = new Float64Array(n), bx = new Float64Array(n), by = new Float64Array(n);
    segs.forEach((s, i) => { ax[i] = s[0]; ay[i] = s[1]; bx[i] = s[2]; by[i] = s[3]; });

    const halfW = ((maxLon - minLon) / 2) * k.x, halfH = ((maxLat - minLat) / 2) * k.y;
    const budget = Math.max(2500, Math.min(40000, 2e7 / Math.max(n, 1))); // grid points
    const spanW = 2 * (halfW + distance), spanH = 2 * (halfH + distance);
    const cell = Math.max(Math.sqrt((spanW * spanH) / budget), 0.05);
    const x0 = -halfW - distance - 2 * cell, y0 = -halfH - distance - 2 * cell;
    const nx = Math.ceil((spanW + 4 * cell) / cell) + 1, ny = Math.ceil((spanH + 4 * cell) / cell) + 1;

    const value = new Float64Array(nx * ny); // signed distance minus the buffer: < 0 inside
    for (let j = 0; j < ny; j++) {
      const y = y0 + j * cell;
      for (let i = 0; i < nx; i++) {
        const x = x0 + i * cell;
        let best = Infinity, inside = false;
        for (let s = 0; s < n; s++) {
          const dx = bx[s] - ax[s], dy = by[s] - ay[s];
          const len = dx * dx + dy * dy;
          let t = len > 0 ? ((x - ax[s]) * dx + (y - ay[s]) * dy) / len : 0;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const ex = ax[s] + t * dx - x, ey = ay[s] + t * dy - y;
          const d = ex * ex + ey * ey;
          if (d < best) best = d;
          if ((ay[s] > y) !== (by[s] > y) && x < ax[s] + ((y - ay[s]) * dx) / dy) inside = !inside;
        }
        const d = Math.sqrt(best);
        value[j * nx + i] = (inside ? -d : d) - distance;
      }
    }

    // Marching squares: each crossing of the contour is a point on a grid edge, keyed by the
    // edge; segments join those points, and chains of segments make the rings.
    const points = new Map();
    const links = new Map();
    const at = (i, j) => value[j * nx + i];
    function edgePoint(key, i1, j1, i2, j2) {
      if (!points.has(key)) {
        const f1 = at(i1, j1), f2 = at(i2, j2);
        const t = f1 / (f1 - f2);
        points.set(key, [x0 + (i1 + t * (i2 - i1)) * cell, y0 + (j1 + t * (j2 - j1)) * cell]);
      }
      return key;
    }
    function link(a, b) {
      if (!links.has(a)) links.set(a, []);
      if (!links.has(b)) links.set(b, []);
      links.get(a).push(b);
      links.get(b).push(a);
    }
    for (let j = 0; j + 1 < ny; j++) {
      for (let i = 0; i + 1 < nx; i++) {
        const v0 = at(i, j), v1 = at(i + 1, j), v2 = at(i + 1, j + 1), v3 = at(i, j + 1);
        const c = (v0 < 0 ? 1 : 0) | (v1 < 0 ? 2 : 0) | (v2 < 0 ? 4 : 0) | (v3 < 0 ? 8 : 0);
        if (c === 0 || c === 15) continue;
        const e = [
          () => edgePoint(2 * (j * nx + i), i, j, i + 1, j), // bottom
          () => edgePoint(2 * (j * nx + i + 1) + 1, i + 1, j, i + 1, j + 1), // right
          () => edgePoint(2 * ((j + 1) * nx + i), i, j + 1, i + 1, j + 1), // top
          () => edgePoint(2 * (j * nx + i) + 1, i, j, i, j + 1), // left
        ];
        const centreInside = v0 + v1 + v2 + v3 < 0;
        const pairs = {
          1: [[3, 0]], 2: [[0, 1]], 3: [[3, 1]], 4: [[1, 2]], 6: [[0, 2]], 7: [[3, 2]],
          8: [[2, 3]], 9: [[0, 2]], 11: [[1, 2]], 12: [[1, 3]], 13: [[0, 1]], 14: [[3, 0]],
          5: centreInside ? [[0, 1], [2, 3]] : [[3, 0], [1, 2]],
          10: centreInside ? [[3, 0], [1, 2]] : [[0, 1], [2, 3]],
        }[c];
        for (const [p, q] of pairs) link(e[p](), e[q]());
      }
    }
    const seen = new Set();
    const out = [];
    for (const start of links.keys()) {
      if (seen.has(start)) continue;
      const ring = [];
      let previous = null, current = start;
      while (current !== undefined && !seen.has(current)) {
        seen.add(current);
        ring.push(points.get(current));
        const next = links.get(current).find((key) => key !== previous && !seen.has(key));
        previous = current;
        current = next;
      }
      if (ring.length > 2) out.push(ring.map(([x, y]) => [lat0 + y / k.y, lon0 + x / k.x]));
    }
    return out;
  }

  // -- small helpers -------------------------------------------------------------------------

  function coordinates(lon, lat) {
    return `${lat.toFixed(6)}, ${lon.toFixed(6)}`;
  }

  const dayFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

  /** "2026-03-02" as "2 Mar 2026". */
  function day(iso) {
    return dayFormat.format(new Date(`${iso}T12:00:00Z`));
  }

  function orderName(type, reference) {
    return `${type} ${reference}`;
  }

  function fieldError(input, box, text) {
    if (text) {
      input.setAttribute("aria-invalid", "true");
      box.textContent = text;
    } else {
      input.removeAttribute("aria-invalid");
      box.textContent = "";
    }
  }

  function problem(err) {
    if (err instanceof Z.ApiError) return err.message;
    return "Something went wrong: " + (err && err.message ? err.message : String(err));
  }

  /**
   * An accessible combobox: typing asks ``search(text)`` for items (after a short pause),
   * arrows move through the list, Enter or a click picks one (``choose(item)``).
   */
  function combobox({ input, list, status, search, render, choose, onType }) {
    let items = [];
    let active = -1;
    let ticket = 0;
    let timer = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      const options = list.querySelectorAll("[role=option]");
      options.forEach((node, i) => node.setAttribute("aria-selected", i === index ? "true" : "false"));
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function pick(index) {
      const item = items[index];
      clearTimeout(timer);
      ticket++; // a search still under way must not reopen the list
      close();
      if (item !== undefined) choose(item);
    }

    function show(found) {
      items = found;
      fill(list, found.map((item, i) => el("li", {
        id: `${list.id}-${i}`, role: "option", "aria-selected": "false", class: "option",
        onmousedown: (event) => event.preventDefault(), // keep the focus in the input
        onclick: () => pick(i),
      }, render(item))));
      if (found.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        highlight(-1);
        Z.say(status, `${found.length} found: use the arrow keys or click to pick.`);
      } else {
        close();
        Z.say(status, "Nothing matches.", "problem");
      }
    }

    input.addEventListener("input", () => {
      if (onType) onType();
      clearTimeout(timer);
      const text = input.value.trim();
      if (!text) {
        ticket++;
        close();
        Z.say(status, "");
        return;
      }
      timer = setTimeout(async () => {
        const mine = ++ticket;
        let found;
        try {
          found = await search(text);
        } catch (err) {
          if (mine === ticket) Z.say(status, problem(err), "problem");
          return;
        }
        if (mine === ticket) show(found);
      }, 120);
    });
    input.addEventListener("keydown", (event) => {
      const open = !list.hidden;
      if (event.key === "ArrowDown" && items.length) {
        event.preventDefault();
        if (!open) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        highlight(Math.min(active + 1, items.length - 1));
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && open) {
        event.preventDefault();
        pick(active >= 0 ? active : 0);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  // -- the subject ---------------------------------------------------------------------------

  const subjectInput = $("subject-input");
  const subjectCard = $("subject-card");

  combobox({
    input: subjectInput,
    list: $("subject-options"),
    status: $("subject-status"),
    search: (text) => api("GET", "/subjects", undefined, { params: { q: text, limit: 12 } }),
    render: (s) => [el("strong", {}, s.reference), " ", el("span", {}, s.name)],
    choose: (s) => chooseSubject(s),
    onType: () => {
      if (state.subject) clearSubject();
    },
  });

  function clearSubject() {
    state.subject = null;
    state.subjectTicket++;
    subjectCard.hidden = true;
    fill(subjectCard);
    bufferLayer.clearLayers();
    subjectLayer.clearLayers();
    extraLayer.clearLayers();
    state.zoneLayers.clear();
    state.highlighted = null;
  }

  function inForceToday(order) {
    const today = Z.localInputValue(new Date()).slice(0, 10);
    return order.status === "active" && order.starts <= today && (!order.ends || order.ends >= today);
  }

  async function chooseSubject(subject) {
    clearSubject();
    const ticket = state.subjectTicket;
    state.subject = subject;
    subjectInput.value = `${subject.reference} ${subject.name}`;
    Z.say("subject-status", `Loading the orders of ${subject.reference}…`);
    fill(subjectCard,
      el("p", { class: "subject-name" }, el("strong", {}, subject.reference), " ", subject.name),
      el("p", { class: "muted" },
        subject.risk_level ? `Risk: ${subject.risk_level}. ` : "",
        subject.photo_ref ? `Photo reference: ${subject.photo_ref}.` : "No photo reference."));
    subjectCard.hidden = false;
    let orders;
    try {
      orders = await api("GET", `/subjects/${subject.id}/orders`);
    } catch (err) {
      if (ticket === state.subjectTicket) Z.say("subject-status", problem(err), "problem");
      return;
    }
    if (ticket !== state.subjectTicket) return;
    const list = el("ul", { class: "order-list" });
    for (const order of orders) {
      const force = order.status !== "active" ? "revoked"
        : inForceToday(order) ? "in force today" : "not in force today";
      list.append(el("li", {},
        el("strong", {}, orderName(order.type, order.reference)),
        ` (${force}; from ${day(order.starts)}${order.ends ? ` to ${day(order.ends)}` : ", no end date"}): `,
        `${order.conditions.length} clause${order.conditions.length === 1 ? "" : "s"}`));
    }
    subjectCard.append(orders.length ? list
      : el("p", { class: "nothing" }, "No orders recorded: a check will find nothing to judge against."));
    Z.say("subject-status", "");
    await drawSubjectZones(orders.filter((o) => o.status === "active"), ticket);
  }

  async function drawSubjectZones(orders, ticket) {
    const buffers = new Map(); // zone id -> set of buffers of the clauses naming it
    for (const order of orders) {
      for (const condition of order.conditions) {
        for (const id of condition.zone_ids) {
          if (!buffers.has(id)) buffers.set(id, new Set());
          if (condition.buffer_m > 0) buffers.get(id).add(condition.buffer_m);
        }
      }
    }
    let features;
    try {
      features = await Promise.all([...buffers.keys()].map((id) => api("GET", `/zones/${id}`)));
    } catch (err) {
      if (ticket === state.subjectTicket) Z.say("subject-status", problem(err), "problem");
      return;
    }
    if (ticket !== state.subjectTicket) return;
    for (const feature of features) {
      for (const distance of buffers.get(feature.id)) {
        const rings = bufferRings(feature.geometry, distance);
        if (rings.length) {
          bufferLayer.addLayer(L.polygon(rings, Object.assign({}, Z.BUFFER_STYLE, { interactive: false })));
        }
      }
      const layer = L.geoJSON(feature, { style: () => Object.assign({}, Z.ZONE_STYLE), interactive: false });
      Z.label(layer, feature.properties.name);
      subjectLayer.addLayer(layer);
      state.zoneLayers.set(feature.id, layer);
    }
    context.eachLayer(quietContext);
    const bounds = L.latLngBounds([]);
    if (subjectLayer.getLayers().length) bounds.extend(subjectLayer.getBounds());
    if (bufferLayer.getLayers().length) bounds.extend(bufferLayer.getBounds());
    if (state.place) bounds.extend([state.place.lat, state.place.lon]);
    Z.fit(m, bounds, 17);
  }

  async function subjectFromAddress() {
    const id = Number(new URLSearchParams(location.search).get("subject"));
    if (!Number.isInteger(id) || id <= 0) return;
    try {
      await chooseSubject(await api("GET", `/subjects/${id}`));
    } catch (err) {
      Z.say("subject-status", problem(err), "problem");
    }
  }

  // -- the place -----------------------------------------------------------------------------

  const gridInput = $("gridref");
  const latInput = $("lat");
  const lonInput = $("lon");
  const namedInput = $("named-place");
  const accuracyInput = $("accuracy");

  function accuracyValue() {
    const text = accuracyInput.value.trim();
    if (text === "") return null;
    const value = Number(text);
    return Number.isFinite(value) && value >= 0 && value <= 100000 ? value : NaN;
  }

  function setPlace(place, options) {
    state.place = place;
    if (place.via !== "lonlat") {
      latInput.value = place.lat.toFixed(6);
      lonInput.value = place.lon.toFixed(6);
    }
    fieldError(latInput, $("lonlat-error"), "");
    lonInput.removeAttribute("aria-invalid");
    if (place.via !== "grid_ref") {
      gridInput.value = "";
      state.gridLooked = "";
      fieldError(gridInput, $("gridref-error"), "");
      if (state.accuracyFrom === "grid_ref") {
        accuracyInput.value = "";
        state.accuracyFrom = null;
      }
    }
    if (place.via !== "named") namedInput.value = "";
    drawPlace();
    if (options && options.fit) {
      const b = L.latLngBounds([[place.lat, place.lon]]);
      placeLayer.eachLayer((layer) => { if (layer.getBounds) b.extend(layer.getBounds()); });
      Z.fit(m, b, 17);
    }
  }

  function describePlace() {
    const place = state.place;
    if (!place) return "No place yet.";
    const where = coordinates(place.lon, place.lat);
    const how = {
      map: `clicked on the map at ${where}`,
      lonlat: `latitude and longitude ${where}`,
      grid_ref: place.square
        ? `grid reference ${place.square.grid_ref} (a ${Z.metres(place.square.size_m)} square), centre ${where}`
        : `grid reference, centre ${where}`,
      named: `${place.name} (its label point, ${where})`,
    }[place.via];
    const accuracy = accuracyValue();
    const sure = accuracy === null ? "no accuracy given: only the point will be judged"
      : Number.isNaN(accuracy) ? "the accuracy is not a number of metres"
      : `accuracy ${Z.metres(accuracy)}`;
    return `Place: ${how}; ${sure}.`;
  }

  function drawPlace() {
    placeLayer.clearLayers();
    const place = state.place;
    Z.say("place-status", describePlace());
    if (!place) return;
    const here = [place.lat, place.lon];
    if (place.square) {
      placeLayer.addLayer(L.polygon(gridSquareCorners(place.square), {
        color: "#1d3557", weight: 2, dashArray: "5 4", fill: false, interactive: false,
      }));
    }
    const accuracy = accuracyValue();
    if (accuracy > 0) {
      placeLayer.addLayer(L.circle(here, {
        radius: accuracy, color: PLACE_COLOUR, weight: 2,
        fillColor: PLACE_COLOUR, fillOpacity: 0.12, interactive: false,
      }));
    }
    placeLayer.addLayer(L.circleMarker(here, {
      radius: 7, color: "#ffffff", weight: 2, fillColor: PLACE_COLOUR,
      fillOpacity: 1, interactive: false,
    }));
  }

  // Two letters and 4 to 10 figures (an even number), spaces optional.
  const GRID_SHAPE = /^[A-HJ-Za-hj-z]{2}\s*(\d+)(?:\s+(\d+))?$/;

  function gridShapeProblem(text) {
    const found = GRID_SHAPE.exec(text);
    if (!found) return "A grid reference is two letters and 4 to 10 figures, e.g. TL 451 583.";
    const digits = found[1] + (found[2] || "");
    if (digits.length < 4 || digits.length > 10 || digits.length % 2) {
      return "A grid reference has 4, 6, 8 or 10 figures, e.g. TL 451 583.";
    }
    if (found[2] !== undefined && found[1].length !== found[2].length) {
      return "The easting and northing of a grid reference have as many figures each.";
    }
    return null;
  }

  function lookUpGridRef() {
    const text = gridInput.value.trim();
    if (!text || text === state.gridLooked) return state.pending;
    state.gridLooked = text;
    const wrong = gridShapeProblem(text);
    if (wrong) {
      fieldError(gridInput, $("gridref-error"), wrong);
      return state.pending;
    }
    fieldError(gridInput, $("gridref-error"), "");
    state.pending = (async () => {
      let square;
      try {
        square = await api("GET", "/gridref", undefined, { params: { ref: text } });
      } catch (err) {
        state.gridLooked = "";
        fieldError(gridInput, $("gridref-error"), problem(err));
        return;
      }
      if (gridInput.value.trim() !== text) return; // typed on since
      if (state.accuracyFrom !== "operator") {
        accuracyInput.value = String(square.accuracy_m);
        state.accuracyFrom = "grid_ref";
      }
      setPlace({ lon: square.lon, lat: square.lat, via: "grid_ref", square, gridRef: text }, { fit: true });
    })();
    return state.pending;
  }

  /**
   * Whether there is a place to use, after any grid reference lookup has finished; a grid
   * reference typed but not found is never quietly replaced by an earlier place.
   */
  async function placeReady(statusId) {
    await state.pending;
    const typed = gridInput.value.trim();
    if (typed && !(state.place && state.place.via === "grid_ref" && state.place.gridRef === typed)) {
      gridInput.focus();
      Z.say(statusId, "The grid reference could not be used: correct it, or clear it to use another place.", "problem");
      return false;
    }
    if (!state.place) {
      gridInput.focus();
      Z.say(statusId, "Give the place: click the map, or type a grid reference, coordinates or a place name.", "problem");
      return false;
    }
    return true;
  }

  gridInput.addEventListener("change", lookUpGridRef);
  gridInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      lookUpGridRef();
    }
  });
  $("gridref-find").addEventListener("click", () => {
    state.gridLooked = ""; // look it up again on request
    lookUpGridRef();
  });

  function placeFromLonLat() {
    let latText = latInput.value.trim();
    let lonText = lonInput.value.trim();
    // "52.2053, 0.1218" pasted into the latitude box: both at once.
    const pair = /^(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)$/.exec(latText);
    if (pair) {
      [latText, lonText] = [pair[1], pair[2]];
      latInput.value = latText;
      lonInput.value = lonText;
    }
    if (!latText || !lonText) return;
    const lat = Number(latText), lon = Number(lonText);
    const error = $("lonlat-error");
    if (!Number.isFinite(lat) || lat < -90 || lat > 90) {
      fieldError(latInput, error, "Latitude is a number of degrees from -90 to 90.");
      return;
    }
    if (!Number.isFinite(lon) || lon < -180 || lon > 180) {
      fieldError(lonInput, error, "Longitude is a number of degrees from -180 to 180.");
      return;
    }
    setPlace({ lon, lat, via: "lonlat" }, { fit: true });
  }

  for (const input of [latInput, lonInput]) {
    input.addEventListener("change", placeFromLonLat);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        placeFromLonLat();
      }
    });
  }

  combobox({
    input: namedInput,
    list: $("named-options"),
    status: $("named-status"),
    search: async (text) => (await api("GET", "/zones", undefined, { params: { q: text, limit: 10 } })).features,
    render: (f) => [el("span", {}, f.properties.name), " ", el("span", { class: "muted" }, `(${f.properties.category})`)],
    choose: (f) => {
      const [lon, lat] = f.properties.label_point;
      setPlace({ lon, lat, via: "named", name: f.properties.name }, { fit: true });
      namedInput.value = f.properties.name;
      Z.say("named-status", "");
    },
  });

  accuracyInput.addEventListener("input", () => {
    state.accuracyFrom = accuracyInput.value.trim() === "" ? null : "operator";
    drawPlace();
  });

  // -- the time ------------------------------------------------------------------------------

  const timeInputs = ["time-at", "time-from", "time-to"].map($);
  const modeAt = $("time-mode-at");

  function setNow() {
    $("time-at").value = Z.localInputValue(new Date());
    timeChanged($("time-at"));
  }

  function setMode() {
    const at = modeAt.checked;
    $("time-at-box").hidden = !at;
    $("time-window-box").hidden = at;
    if (!at && !$("time-from").value && !$("time-to").value) {
      const now = Date.now();
      $("time-from").value = Z.localInputValue(new Date(now - 3600 * 1000));
      $("time-to").value = Z.localInputValue(new Date(now));
      timeInputs.slice(1).forEach(timeChanged);
    }
  }

  /** Ask the API which instants the local time names; cached per input and value. */
  function resolveTime(input) {
    const value = input.value;
    let known = state.times[input.id];
    if (!known || known.value !== value) {
      known = state.times[input.id] = { value, chosen: null, options: null, asked: null };
      if (value) {
        known.asked = api("GET", "/time/local", undefined, {
          params: { local_time: value.length === 16 ? value + ":00" : value, time_zone: TZ },
        }).then((options) => {
          known.options = options;
          if (state.times[input.id] === known) showTimeQuestion(input, known);
          return options;
        }, (err) => {
          if (state.times[input.id] === known) delete state.times[input.id];
          throw err;
        });
      }
    }
    return known;
  }

  function readableLocal(value) {
    const [day, clock] = value.split("T");
    const [y, mo, d] = day.split("-").map(Number);
    const month = new Date(Date.UTC(y, mo - 1, d)).toLocaleString("en-GB", { month: "short", timeZone: "UTC" });
    return `${d} ${month} ${y} ${clock.slice(0, 5)}`;
  }

  function showTimeQuestion(input, known) {
    const box = $(`${input.id}-question`);
    const options = known.options;
    input.removeAttribute("aria-invalid");
    if (!options || options.status === "ok") {
      fill(box);
      return;
    }
    const when = readableLocal(known.value);
    if (options.status === "nonexistent") {
      input.setAttribute("aria-invalid", "true");
      const reason = options.message.split("; check the time")[0];
      fill(box, el("p", { class: "time-problem" },
        `${reason}. Check the time with whoever reported it.`));
      return;
    }
    const name = `${input.id}-choice`;
    fill(box, el("fieldset", { class: "time-choice" },
      el("legend", {}, `Which ${when} was meant?`),
      el("p", { class: "hint" }, `${when} happened twice: the clocks went back an hour. Ask which one.`),
      options.instants.map((instant, i) => el("div", { class: "choice" },
        el("input", {
          type: "radio", name, id: `${name}-${i}`, value: instant,
          onchange: () => { known.chosen = instant; },
        }),
        el("label", { for: `${name}-${i}` }, options.labels[i])))));
  }

  function timeChanged(input) {
    const known = resolveTime(input);
    if (!known.asked) return;
    known.asked.catch((err) => {
      fill($(`${input.id}-question`), el("p", { class: "time-problem" }, problem(err)));
    });
  }

  for (const input of timeInputs) {
    input.addEventListener("change", () => timeChanged(input));
  }
  $("time-now").addEventListener("click", setNow);
  modeAt.addEventListener("change", setMode);
  $("time-mode-window").addEventListener("change", setMode);

  /**
   * The instant an input names, or null after saying what is missing (no time, a skipped
   * hour, or a repeated hour not yet chosen between).
   */
  async function instantOf(input, label) {
    if (!input.value) {
      input.focus();
      Z.say("check-status", `Give the ${label}.`, "problem");
      return null;
    }
    const known = resolveTime(input);
    let options;
    try {
      options = await known.asked;
    } catch (err) {
      Z.say("check-status", problem(err), "problem");
      return null;
    }
    if (options.status === "nonexistent") {
      input.focus();
      Z.say("check-status", `That ${label} never happened on the UK clock: see below it.`, "problem");
      return null;
    }
    if (options.status === "ambiguous") {
      if (!known.chosen) {
        const first = document.querySelector(`input[name="${input.id}-choice"]`);
        if (first) first.focus();
        Z.say("check-status", `${readableLocal(known.value)} happened twice: choose which one was meant, then check again.`, "problem");
        return null;
      }
      return known.chosen;
    }
    return options.instants[0];
  }

  /** {time, time_to} to send, or null after saying what is wrong. */
  async function when() {
    const now = Date.now();
    if (modeAt.checked) {
      const time = await instantOf($("time-at"), "time");
      if (!time) return null;
      if (new Date(time).getTime() - now > CLOCK_SKEW_MS) {
        $("time-at").focus();
        Z.say("check-status", "That time is in the future.", "problem");
        return null;
      }
      return { time };
    }
    const from = await instantOf($("time-from"), "start of the window");
    if (!from) return null;
    const to = await instantOf($("time-to"), "end of the window");
    if (!to) return null;
    const span = new Date(to).getTime() - new Date(from).getTime();
    let wrong = null;
    if (span < 0) wrong = "The window must end after it starts.";
    else if (span > LONGEST_WINDOW_MS) wrong = "A window is at most 24 hours long.";
    else if (new Date(to).getTime() - now > CLOCK_SKEW_MS) wrong = "The end of the window is in the future.";
    if (wrong) {
      $("time-to").focus();
      Z.say("check-status", wrong, "problem");
      return null;
    }
    return span > 0 ? { time: from, time_to: to } : { time: from };
  }

  // -- the check -----------------------------------------------------------------------------

  const checkButton = $("check-button");
  const answerBox = $("answer");

  async function checkSighting() {
    Z.say("check-status", "");
    if (!state.subject) {
      subjectInput.focus();
      Z.say("check-status", "Pick the subject first (or start from the place).", "problem");
      return;
    }
    if (!(await placeReady("check-status"))) return;
    const accuracy = accuracyValue();
    if (Number.isNaN(accuracy)) {
      accuracyInput.focus();
      Z.say("check-status", "The accuracy radius is a number of metres (0 to 100 000).", "problem");
      return;
    }
    const time = await when();
    if (!time) return;
    const source = $("source").value;
    if (!source) {
      $("source").focus();
      Z.say("check-status", "Say who saw the subject.", "problem");
      return;
    }
    const body = Object.assign({ subject_id: state.subject.id, source }, time);
    const detail = $("source-detail").value.trim();
    if (detail) body.source_detail = detail;
    const place = state.place;
    if (place.via === "grid_ref") {
      body.grid_ref = place.square.grid_ref;
      if (state.accuracyFrom === "operator" && accuracy !== null) body.accuracy_m = accuracy;
    } else {
      body.lon = place.lon;
      body.lat = place.lat;
      if (accuracy !== null) body.accuracy_m = accuracy;
    }
    checkButton.disabled = true;
    Z.say("check-status", "Checking…");
    let answer;
    try {
      answer = await api("POST", "/sightings/check", body);
    } catch (err) {
      Z.say("check-status", problem(err), "problem");
      return;
    } finally {
      checkButton.disabled = false;
    }
    Z.say("check-status", `${HEADLINES[answer.outcome] || answer.outcome}: checked and stored as observation ${answer.observation_id}.`);
    showAnswer(answer);
  }

  checkButton.addEventListener("click", checkSighting);

  /** How far from the zone, e.g. "144 m inside its edge". */
  function howFar(v) {
    const d = Z.metres(v.distance_m);
    if (v.status === "inside") return `${d} inside its edge`;
    if (v.status === "buffer") return `${d} outside it, within the ${Z.metres(v.buffer_m)} the clause bars around it`;
    if (v.buffer_m) {
      return `${d} outside it, ${Z.metres(v.distance_m - v.buffer_m)} beyond the ${Z.metres(v.buffer_m)} the clause bars around it`;
    }
    return `${d} outside it`;
  }

  function sureText(v, accuracy) {
    const share = v.disc_fraction_inside === null || v.disc_fraction_inside === undefined
      ? "" : ` ${Math.round(v.disc_fraction_inside * 100)}% of the accuracy disc is inside.`;
    if (!accuracy) return "No accuracy was given: only the reported point was judged.";
    if (v.evidence === "definite") return `Definite: the whole ${Z.metres(accuracy)} accuracy disc lies in the area.${share}`;
    if (v.evidence === "possible") return `Possible: the ${Z.metres(accuracy)} accuracy disc straddles the edge.${share}`;
    return `The whole ${Z.metres(accuracy)} accuracy disc lies outside the area.`;
  }

  function fact(term, ...details) {
    return [el("dt", {}, term), el("dd", {}, ...details)];
  }

  function verdictBlock(v, accuracy, heading) {
    return el("div", { class: `verdict ${v.status}` },
      el("h3", {}, heading),
      el("dl", { class: "facts" },
        fact("Order", `${orderName(v.order_type, v.order_reference)}, clause ${v.clause_number}`),
        fact("Clause", el("q", { class: "clause" }, v.clause_text)),
        fact("Zone", `${v.zone_name} (zone ${v.zone_id}, version ${v.zone_version}) `,
          el("button", { type: "button", class: "secondary small", onclick: () => showZone(v) }, "Show on map")),
        fact(v.status === "outside" ? "How far" : "How far in", howFar(v)),
        fact("How sure", sureText(v, accuracy))));
  }

  function sourceText(answer) {
    const option = [...$("source").options].find((o) => o.value === answer.source);
    return option ? option.textContent : answer.source;
  }

  function showAnswer(answer) {
    const accuracy = answer.position.accuracy_m;
    const breaches = answer.verdicts.filter((v) => v.status !== "outside");
    const top = breaches.length ? breaches : answer.verdicts.slice(0, 1);
    const place = state.place;
    const at = coordinates(answer.position.lon, answer.position.lat);
    let where = at;
    if (answer.position.given_as === "grid_ref" && place && place.square) {
      where = `grid reference ${place.square.grid_ref} (centre ${at})`;
    } else if (place && place.via === "named") {
      where = `${place.name} (${at})`;
    }
    const parts = [
      el("h2", { class: "headline" }, HEADLINES[answer.outcome] || answer.outcome),
      el("p", { class: "summary" }, answer.summary),
    ];
    if (answer.outcome === "nothing_in_force") {
      parts.push(el("p", { class: "nothing" },
        "No order condition of this subject was in force then: there was nothing to judge the sighting against. This is not a finding of no breach."));
    }
    top.forEach((v, i) => {
      let heading = top.length > 1 ? `Breached clause ${i + 1} of ${top.length}` : "Breached clause";
      if (v.status === "outside") heading = v.evidence === "possible" ? "Clause possibly breached" : "Nearest clause";
      parts.push(verdictBlock(v, accuracy, heading));
    });
    if (answer.alert_ids.length) {
      const alerts = el("ul", { class: "alert-links" });
      for (const id of answer.alert_ids) {
        const item = el("li", {}, el("a", { href: `/desk?alert=${encodeURIComponent(id)}` }, `Alert ${id} on the alert desk`));
        alerts.append(item);
        describeAlert(id, item);
      }
      parts.push(el("h3", {}, "Alert"), alerts);
    }
    if (answer.nearest.length) {
      parts.push(el("h3", {}, "Zones of the subject’s clauses within 1 km"),
        el("ul", { class: "nearest" }, answer.nearest.map((v) => el("li", {},
          el("strong", {}, v.zone_name), `: ${howFar(v)}`,
          ` (${orderName(v.order_type, v.order_reference)}, clause ${v.clause_number})`))));
    } else if (answer.judged_against.in_force) {
      parts.push(el("p", { class: "muted" }, "None of the subject’s zones is within 1 km."));
    }
    parts.push(el("h3", {}, "Recorded"), el("dl", { class: "facts" },
      fact("Subject", `${answer.subject.reference} ${answer.subject.name}`),
      fact("When", answer.when.local),
      fact("Where", `${where}${accuracy ? `, accuracy ${Z.metres(accuracy)}` : ", no accuracy"}`),
      fact("Source", sourceText(answer), answer.source_detail ? `: ${answer.source_detail}` : ""),
      fact("Reported by", answer.reporter),
      fact("Stored as", `observation ${answer.observation_id}`,
        answer.duplicate ? " (already stored: this is the same report)" : "",
        answer.late ? " (marked late: reported well after it happened)" : "")));
    answerBox.className = `answer-box answer ${answer.outcome}`;
    fill(answerBox, parts);
    answerBox.hidden = false;
    answerBox.scrollIntoView({ block: "start" });
    highlight(top[0], answer);
  }

  async function describeAlert(id, item) {
    let alert;
    try {
      alert = await api("GET", `/alerts/${id}`);
    } catch (err) {
      return; // the link is there; the detail is a courtesy
    }
    const opened = alert.observation_count === 1;
    item.append(el("span", {},
      opened ? ": opened by this sighting" : `: extended (now ${alert.observation_count} observations since ${Z.localClock(alert.first_at)})`,
      " ", el("span", { class: `badge ${alert.handling}` }, alert.handling)));
  }

  async function zoneLayerOf(v) {
    if (state.zoneLayers.has(v.zone_id)) return state.zoneLayers.get(v.zone_id);
    const feature = await api("GET", `/zones/${v.zone_id}`);
    const layer = L.geoJSON(feature, { style: () => Object.assign({}, Z.ZONE_STYLE), interactive: false });
    Z.label(layer, feature.properties.name);
    extraLayer.addLayer(layer);
    state.zoneLayers.set(v.zone_id, layer);
    context.eachLayer(quietContext);
    return layer;
  }

  async function highlight(v, answer) {
    if (state.highlighted) state.highlighted.setStyle(Object.assign({}, Z.ZONE_STYLE));
    state.highlighted = null;
    const bounds = L.latLngBounds([[answer.position.lat, answer.position.lon]]);
    placeLayer.eachLayer((layer) => { if (layer.getBounds) bounds.extend(layer.getBounds()); });
    if (v) {
      try {
        const layer = await zoneLayerOf(v);
        layer.setStyle(Object.assign({}, HIGHLIGHT_STYLE));
        layer.bringToFront();
        placeLayer.bringToFront(); // the reported place stays on top of the zone
        state.highlighted = layer;
        bounds.extend(layer.getBounds());
      } catch (err) {
        // the answer stands without its zone on the map
      }
    }
    Z.fit(m, bounds, 17);
  }

  async function showZone(v) {
    try {
      const layer = await zoneLayerOf(v);
      Z.fit(m, layer.getBounds(), 17);
    } catch (err) {
      Z.say("check-status", problem(err), "problem");
    }
  }

  // -- starting from the place ---------------------------------------------------------------

  const barredButton = $("barred-button");
  if (barredButton) {
    const reasonInput = $("barred-reason");
    const results = $("barred-results");

    barredButton.addEventListener("click", async () => {
      Z.say("barred-status", "");
      fill(results);
      const reason = reasonInput.value.trim();
      if (reason.length < 3) {
        reasonInput.setAttribute("aria-invalid", "true");
        reasonInput.focus();
        Z.say("barred-status", "Give the reason first (an incident or log reference, at least 3 characters): this search names offenders by place.", "problem");
        return;
      }
      reasonInput.removeAttribute("aria-invalid");
      if (!(await placeReady("barred-status"))) return;
      const time = await when();
      if (!time) {
        Z.say("barred-status", "Give a time the check can use (see above).", "problem");
        return;
      }
      // A window is searched at its middle, as a sighting in it is judged.
      const instant = time.time_to
        ? new Date((new Date(time.time).getTime() + new Date(time.time_to).getTime()) / 2).toISOString()
        : time.time;
      const place = state.place;
      barredButton.disabled = true;
      Z.say("barred-status", "Searching…");
      let found;
      try {
        found = await api("GET", "/places/barred", undefined, {
          params: { lon: place.lon, lat: place.lat, time: instant, reason },
        });
      } catch (err) {
        Z.say("barred-status", problem(err), "problem");
        return;
      } finally {
        barredButton.disabled = false;
      }
      const subjects = new Set(found.barred.map((b) => b.subject.id)).size;
      Z.say("barred-status", found.barred.length
        ? `${subjects} subject${subjects === 1 ? " is" : "s are"} barred from this place ${Z.localTime(found.time)}.`
        : `Nobody is barred from this place ${Z.localTime(found.time)}.`, found.barred.length ? "" : "ok");
      fill(results, found.barred.map((b) => barredItem(b, place)));
    });

    function barredItem(b, place) {
      const v = b.verdict;
      return el("li", { class: "barred" },
        el("p", { class: "subject-name" }, el("strong", {}, b.subject.reference), " ", b.subject.name),
        el("p", { class: "muted" }, b.subject.photo_ref ? `Photo reference: ${b.subject.photo_ref}` : "No photo reference"),
        el("p", {}, `${orderName(v.order_type, v.order_reference)}, clause ${v.clause_number}: `, el("q", { class: "clause" }, v.clause_text)),
        el("p", {}, `Zone: ${v.zone_name}, ${howFar(v)}.`),
        el("button", {
          type: "button", class: "secondary",
          onclick: () => startCheck(b.subject, place),
        }, `Check a sighting of ${b.subject.reference} here`));
    }

    async function startCheck(subject, place) {
      await chooseSubject(subject);
      if (state.place !== place) setPlace(place);
      Z.say("check-status", `Checking a sighting of ${subject.reference} at this place: say who saw them and press “Check the sighting”.`);
      const source = $("source");
      source.scrollIntoView({ block: "center" });
      source.focus();
    }
  }

  // -- start ---------------------------------------------------------------------------------

  setNow();
  setMode();
  drawPlace();
  subjectFromAddress();
})();
