/* A subject's track, played back on a time slider.
 *
 * The period's fixes, the versions of the subject's zones that were in force in it, and the
 * period's alerts come from the API. At the slider's time the map shows the last fix so far
 * with its accuracy disc, the trail up to it (fixes in a zone in the breach colour), and each
 * zone as the version then in force. No position is invented between fixes: the marker stays
 * on the last fix, and says how old it is.
 *
 * User text (names, references, clause texts, zone names) goes into the page only through
 * Zones.el / textContent, and into Leaflet only as DOM nodes.
 */
"use strict";

(function () {
  const Z = window.Zones;
  const el = Z.el;
  const $ = (id) => document.getElementById(id);
  const SUBJECT = Z.config.subject_id;
  const HOUR = 3600 * 1000;
  const DAY = 24 * HOUR;
  const LONGEST = 31 * DAY;
  const STALE = 10 * 60 * 1000;  // a last fix older than this is "last known", drawn hollow
  const LIMIT = 50000;
  const STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];  // seconds
  const TRACK_COLOUR = "#0b5cad";
  const BREACH_COLOUR = "#b3261e";
  const SVG_DOTS = 4000;  // more fixes than this are drawn on a canvas

  const state = {
    since: 0, until: 0,        // the period, ms
    t: 0,                      // the slider's time, ms (finer than the slider's steps)
    points: [], times: [], latlngs: [],
    alerts: [], alertsById: new Map(),
    zones: [],                 // [{id, versions: [feature...], drawn: key, layers: Map}]
    index: -2,                 // the last fix at or before t (-1: none yet)
    dotsShown: 0,
    playing: false, lastFrame: 0,
    ticket: 0,
    loaded: false,
  };

  // -- the map -------------------------------------------------------------------------------

  const map = Z.map();
  Z.contextLayers(map);
  for (const [name, z] of [["track-zones", 405], ["track-line", 420], ["track-now", 430]]) {
    map.createPane(name).style.zIndex = z;
  }
  const zoneGroup = L.layerGroup().addTo(map);
  const wholeTrack = L.polyline([], {
    pane: "track-line", color: "#5b6b7a", weight: 2, opacity: 0.7, dashArray: "2 6",
    interactive: false, className: "track-whole",
  }).addTo(map);
  const trail = L.polyline([], {
    pane: "track-line", color: TRACK_COLOUR, weight: 3, opacity: 0.85, interactive: false,
    className: "track-trail",
  }).addTo(map);
  const dotGroup = L.layerGroup().addTo(map);
  let dotRenderer = null;
  const dots = [];
  const disc = L.circle([0, 0], {
    pane: "track-now", radius: 1, color: TRACK_COLOUR, weight: 1, fillOpacity: 0.15,
    interactive: false, className: "track-accuracy",
  });
  const position = L.circleMarker([0, 0], {
    pane: "track-now", radius: 9, color: "#fff", weight: 3, fillColor: TRACK_COLOUR,
    fillOpacity: 1, className: "track-position", interactive: false,
  });
  Z.nameControls();

  // -- times -----------------------------------------------------------------------------------

  function iso(ms) {
    return new Date(ms).toISOString();
  }

  function londonOffset(ms) {
    const p = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) -
      Math.floor(ms / 1000) * 1000;
  }

  /** A datetime-local value read as London civil time: an instant in ms, or NaN. */
  function londonInstant(value) {
    const found = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value || "");
    if (!found) return NaN;
    const [y, m, d, hh, mm, ss] = found.slice(1).map((v) => Number(v || 0));
    const wall = Date.UTC(y, m - 1, d, hh, mm, ss);
    const first = wall - londonOffset(wall);
    return wall - londonOffset(first);
  }

  /** Midnight in London at the start of the civil day holding ``ms``. */
  function londonMidnight(ms) {
    return londonInstant(Z.localInputValue(new Date(ms)).slice(0, 10) + "T00:00");
  }

  const SHORT = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London", weekday: "short", day: "numeric", month: "short",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });

  /** e.g. "Sun 29 Nov, 14:03 GMT": the ends of the timeline. */
  function shortTime(ms) {
    return SHORT.format(new Date(ms));
  }

  function span(ms) {
    const minutes = Math.round(Math.abs(ms) / 60000);
    if (minutes < 1) return `${Math.round(Math.abs(ms) / 1000)} s`;
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.round(hours / 24)} days`;
  }

  /** The period a quick choice names, ending now (or at the end of yesterday). */
  function quickPeriod(choice) {
    const now = Date.now();
    switch (choice) {
      case "hour": return [now - HOUR, now];
      case "3h": return [now - 3 * HOUR, now];
      case "today": return [londonMidnight(now), now];
      case "yesterday": {
        const today = londonMidnight(now);
        return [londonMidnight(today - 12 * HOUR), today];
      }
      case "week": return [now - 7 * DAY, now];
      default: return [now - DAY, now];
    }
  }

  // -- the period chooser ----------------------------------------------------------------------

  const form = $("period-form");
  const choice = $("period");
  const fromInput = $("period-from");
  const toInput = $("period-to");

  function showPeriodInputs(since, until) {
    fromInput.value = Z.localInputValue(new Date(since));
    toInput.value = Z.localInputValue(new Date(until));
  }

  choice.addEventListener("change", () => {
    if (choice.value === "custom") {
      fromInput.focus();
      return;
    }
    const [since, until] = quickPeriod(choice.value);
    showPeriodInputs(since, until);
    load(since, until, null);
  });
  for (const input of [fromInput, toInput]) {
    input.addEventListener("input", () => { choice.value = "custom"; });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    let since, until;
    if (choice.value === "custom") {
      since = londonInstant(fromInput.value);
      until = londonInstant(toInput.value);
    } else {
      [since, until] = quickPeriod(choice.value);
      showPeriodInputs(since, until);
    }
    if (Number.isNaN(since) || Number.isNaN(until)) {
      Z.say("track-status", "Give the start and end of the period, as a date and a time.", "error");
      return;
    }
    if (until <= since) {
      Z.say("track-status", "The period must end after it starts.", "error");
      return;
    }
    if (until - since > LONGEST) {
      Z.say("track-status", "A period is at most 31 days: choose a shorter one.", "error");
      return;
    }
    load(since, until, null);
  });

  // -- the slider ------------------------------------------------------------------------------

  const slider = $("slider");
  const playButton = $("play");
  const speed = $("speed");
  const timeline = $("timeline");
  const cursor = el("div", { class: "tl-cursor" });

  function stepFor(period) {
    const wanted = period / 1000 / 2000;
    return STEPS.find((s) => s >= wanted) || STEPS[STEPS.length - 1];
  }

  function setUpSlider() {
    const step = stepFor(state.until - state.since);
    const min = Math.floor(state.since / 1000 / step) * step;
    const max = Math.ceil(state.until / 1000 / step) * step;
    slider.min = String(min);
    slider.max = String(max);
    slider.step = String(step);
    slider.disabled = false;
    for (const id of ["to-start", "prev-fix", "play", "next-fix"]) $(id).disabled = false;
    $("timeline-start").textContent = shortTime(min * 1000);
    $("timeline-end").textContent = shortTime(max * 1000);
  }

  function sliderRange() {
    return [Number(slider.min) * 1000, Number(slider.max) * 1000];
  }

  function fraction(ms) {
    const [lo, hi] = sliderRange();
    return hi > lo ? Math.min(1, Math.max(0, (ms - lo) / (hi - lo))) : 0;
  }

  /** Move the slider's time to ``ms`` and show the track as it stood then. */
  function go(ms) {
    const [lo, hi] = sliderRange();
    state.t = Math.min(hi, Math.max(lo, ms));
    slider.value = String(Math.round(state.t / 1000));
    show();
  }

  slider.addEventListener("input", () => {
    state.t = Number(slider.value) * 1000;
    show();
  });
  slider.addEventListener("keydown", (event) => {
    if (event.key === "PageUp" || event.key === "PageDown") {
      event.preventDefault();
      jumpFix(event.key === "PageUp" ? 1 : -1);
    }
  });

  /** The last fix at or before ``ms`` (-1 when none). */
  function indexAt(ms) {
    let lo = 0, hi = state.times.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (state.times[mid] <= ms) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  function jumpFix(direction) {
    if (!state.times.length) return;
    const i = indexAt(state.t);
    let target;
    if (direction > 0) target = Math.min(state.times.length - 1, i + 1);
    else target = state.times[i] < state.t ? i : Math.max(0, i - 1);
    if (target < 0) target = 0;
    go(state.times[target]);
  }

  $("to-start").addEventListener("click", () => {
    pause();
    go(sliderRange()[0]);
  });
  $("prev-fix").addEventListener("click", () => jumpFix(-1));
  $("next-fix").addEventListener("click", () => jumpFix(1));

  // -- playing ---------------------------------------------------------------------------------

  function play() {
    const [lo, hi] = sliderRange();
    if (state.t >= hi) state.t = lo;
    state.playing = true;
    state.lastFrame = performance.now();
    playButton.textContent = "Pause";
    playButton.setAttribute("aria-pressed", "true");
    requestAnimationFrame(frame);
  }

  function pause() {
    state.playing = false;
    playButton.textContent = "Play";
    playButton.setAttribute("aria-pressed", "false");
  }

  function frame(now) {
    if (!state.playing) return;
    const elapsed = Math.min(250, now - state.lastFrame);  // a hidden tab does not leap ahead
    state.lastFrame = now;
    const hi = sliderRange()[1];
    go(state.t + elapsed * Number(speed.value));
    if (state.t >= hi) {
      pause();
      return;
    }
    requestAnimationFrame(frame);
  }

  playButton.addEventListener("click", () => (state.playing ? pause() : play()));

  // -- loading ---------------------------------------------------------------------------------

  async function loadSubject() {
    try {
      const subject = await Z.api("GET", `/subjects/${SUBJECT}`);
      Z.fill($("track-subject"),
        el("strong", {}, subject.reference), " · ", subject.name,
        subject.risk_level ? ` · ${subject.risk_level} risk` : null);
      $("track-subject").classList.remove("muted");
      $("track-title").textContent = `Track of ${subject.reference}`;
      document.title = `Track of ${subject.reference} · Exclusion zones`;
    } catch (err) {
      Z.fill($("track-subject"), el("span", { class: "error" }, `The subject could not be read: ${err.message}`));
    }
  }

  async function load(since, until, at) {
    const ticket = ++state.ticket;
    pause();
    Z.say("track-status", "Loading the track…");
    const params = { from: iso(since), to: iso(until) };
    let points, zones, alerts;
    try {
      [points, zones, alerts] = await Promise.all([
        Z.api("GET", `/subjects/${SUBJECT}/track`, undefined, { params: { ...params, limit: LIMIT } }),
        Z.api("GET", `/subjects/${SUBJECT}/zones`, undefined, { params }),
        Z.api("GET", "/alerts", undefined, { params: { ...params, subject_id: SUBJECT, limit: 2000 } }),
      ]);
    } catch (err) {
      if (ticket === state.ticket) Z.say("track-status", `The track could not be read: ${err.message}`, "error");
      return;
    }
    if (ticket !== state.ticket) return;
    state.since = since;
    state.until = until;
    const url = new URL(window.location.href);
    url.searchParams.set("from", params.from);
    url.searchParams.set("to", params.to);
    url.searchParams.delete("at");
    window.history.replaceState(null, "", url.pathname + url.search);

    setTrack(points);
    setAlerts(alerts);
    await setZones(zones.features, ticket);
    if (ticket !== state.ticket) return;
    setUpSlider();
    drawTimeline();
    fitAll();
    state.loaded = true;
    const breaches = points.filter((p) => p.breach).length;
    const truncated = points.length >= LIMIT
      ? ` Only the first ${LIMIT} are shown: choose a shorter period to see the rest.` : "";
    Z.say("track-status",
      `${points.length} ${points.length === 1 ? "fix" : "fixes"}` +
      (breaches ? `, ${breaches} in a zone` : "") +
      `, ${alerts.length} ${alerts.length === 1 ? "stay" : "stays"} from ` +
      `${Z.localTime(params.from)} to ${Z.localTime(params.to)}.${truncated}`,
      truncated ? "error" : null);
    go(at !== null && at !== undefined ? at : sliderRange()[1]);
  }

  function setTrack(points) {
    state.points = points;
    state.times = points.map((p) => Date.parse(p.time));
    state.latlngs = points.map((p) => [p.lat, p.lon]);
    state.index = -2;
    state.dotsShown = 0;
    dotGroup.clearLayers();
    dots.length = 0;
    dotRenderer = points.length > SVG_DOTS ? L.canvas({ pane: "track-line" }) : null;
    wholeTrack.setLatLngs(state.latlngs);
    trail.setLatLngs([]);
    position.remove();
    disc.remove();
  }

  /** The dot of fix ``i`` (made when first shown): click it to move the slider there. */
  function dot(i) {
    if (dots[i]) return dots[i];
    const p = state.points[i];
    const options = {
      pane: "track-line", radius: p.breach ? 5 : 3.5, weight: 1,
      color: "#fff", fillColor: p.breach ? BREACH_COLOUR : TRACK_COLOUR, fillOpacity: 1,
      className: p.breach ? "track-fix breach" : "track-fix",
    };
    if (dotRenderer) options.renderer = dotRenderer;
    const marker = L.circleMarker(state.latlngs[i], options);
    Z.popup(marker, fixCard(p));
    marker.on("click", () => {
      pause();
      go(state.times[i]);
    });
    dots[i] = marker;
    return marker;
  }

  function fixCard(p) {
    const zones = p.alert_ids.map((id) => state.alertsById.get(id)).filter((a) => a && a.zone_id)
      .map(alertTitle);
    return el("div", { class: "track-card" },
      el("strong", {}, Z.localTime(p.time)),
      el("div", {}, p.kind === "sighting" ? "Sighting" : "Fix",
        p.accuracy_m !== null ? `, accurate to ${Z.metres(p.accuracy_m)}` : ", accuracy not given",
        p.late ? " (arrived late)" : ""),
      el("div", { class: p.breach ? "error" : "" },
        p.breach ? `In a zone: ${[...new Set(zones)].join(", ") || "breach"}` : "Outside every zone"));
  }

  /** What an alert is about: a zone version, or a device alert's kind (no zone). */
  function alertTitle(a) {
    if (a.kind && a.kind !== "zone") return a.title || a.kind;
    return `${a.zone_name || "zone " + a.zone_id} v${a.zone_version}`;
  }

  function setAlerts(alerts) {
    state.alerts = alerts.slice().sort((a, b) => Date.parse(a.first_at) - Date.parse(b.first_at));
    state.alertsById = new Map(state.alerts.map((a) => [a.id, a]));
    const list = $("stays");
    const items = state.alerts.map((a) => {
      const end = a.closed_at || a.last_at;
      const device = Boolean(a.kind) && a.kind !== "zone";
      const item = el("li", { class: "track-stay", dataset: { alert: String(a.id) } },
        el("button", {
          type: "button", class: "stay-jump",
          onclick: () => { pause(); go(Date.parse(a.first_at)); },
        },
          el("span", { class: "stay-zone" }, alertTitle(a)),
          el("span", { class: "stay-time" },
            `${Z.localTime(a.first_at)} to ${a.status === "open" ? `now (${device ? "still going on" : "still inside"})` : Z.localClock(end)}`)),
        a.clause_text ? el("div", { class: "stay-clause" },
          `Clause ${a.clause_number ?? "?"} of ${a.order_reference || "an order"}: `,
          el("q", {}, a.clause_text)) : null,
        el("div", { class: "stay-badges" },
          el("span", { class: `badge ${a.status}` },
            a.status === "open" ? (device ? "Open" : "Open stay") : (device ? "Ended" : "Left")),
          " ",
          el("span", { class: `badge ${a.handling}` }, a.handling),
          " ",
          `${a.observation_count} ${a.observation_count === 1 ? "fix" : "fixes"}, ` +
            `${a.evidence ? a.evidence + ", " : ""}alert ${a.id}`,
          a.late ? el("span", { class: "badge late-badge" }, "late") : null,
          a.severity === "warning"
            ? el("span", { class: "badge warning-badge" }, "warning ring, not a breach") : null),
        a.schedule_window
          ? el("div", { class: "stay-clause" }, `Schedule window: ${a.schedule_window}`) : null);
      return item;
    });
    Z.fill(list, items.length ? items : el("li", { class: "muted" }, "No stays in this period."));
    $("stays-summary").textContent = items.length
      ? "Choose a stay to move the slider to when it began." : "";
  }

  async function setZones(features, ticket) {
    zoneGroup.clearLayers();
    const byZone = new Map();
    for (const f of features) {
      if (!byZone.has(f.id)) byZone.set(f.id, { id: f.id, versions: [], drawn: null, layers: new Map() });
      byZone.get(f.id).versions.push(f);
    }
    state.zones = [...byZone.values()];
    for (const zone of state.zones) zone.versions.sort((a, b) => a.properties.version - b.properties.version);
    // Buffers are grown by the server in metres, as the judging grows them: one call per
    // distinct buffer.
    const wanted = new Map();  // buffer_m -> [version feature]
    for (const f of features) {
      for (const c of f.properties.clauses || []) {
        if (c.buffer_m > 0) {
          if (!wanted.has(c.buffer_m)) wanted.set(c.buffer_m, new Set());
          wanted.get(c.buffer_m).add(f);
        }
      }
    }
    const buffers = new Map();  // feature -> [grown geometry]
    try {
      await Promise.all([...wanted.entries()].map(async ([metres, set]) => {
        const list = [...set];
        const grown = await Z.api("POST", "/zones/buffer", {
          buffer_m: metres, geometries: list.map((f) => f.geometry),
        });
        for (const g of grown.features) {
          const f = list[g.properties.index];
          if (!buffers.has(f)) buffers.set(f, []);
          buffers.get(f).push({ geometry: g.geometry, metres });
        }
      }));
    } catch (err) {
      Z.say("track-status", `The buffers could not be drawn: ${err.message}`, "error");
    }
    if (ticket !== state.ticket) return;
    for (const zone of state.zones) {
      for (const f of zone.versions) f.buffers = buffers.get(f) || [];
    }
    listZones();
  }

  /** The version of ``zone`` in force at ``ms``; before its first version was recorded, the
   * first (marked ``early``: drawn as recorded later). */
  function versionAt(zone, ms) {
    for (const f of zone.versions) {
      const made = Date.parse(f.properties.created_at);
      const ended = f.properties.superseded_at ? Date.parse(f.properties.superseded_at) : Infinity;
      if (made <= ms && ms < ended) return { feature: f, early: false };
    }
    const first = zone.versions[0];
    if (ms < Date.parse(first.properties.created_at)) return { feature: first, early: true };
    return null;
  }

  function zoneLayer(f, early) {
    const group = L.featureGroup();
    for (const b of f.buffers) {
      group.addLayer(L.geoJSON({ type: "Feature", geometry: b.geometry, properties: {} }, {
        pane: "track-zones", interactive: false,
        style: Object.assign({}, Z.BUFFER_STYLE, { className: "track-buffer" }),
      }));
    }
    const shape = L.geoJSON({ type: "Feature", geometry: f.geometry, properties: {} }, {
      pane: "track-zones",
      style: Object.assign({}, Z.ZONE_STYLE, early ? { fillOpacity: 0.15, dashArray: "2 5" } : {},
        { className: `track-zone zone-${f.id}-v${f.properties.version}${early ? " early" : ""}` }),
    });
    const name = `${f.properties.name} · v${f.properties.version}`;
    Z.label(shape, name, { className: "zone-label track-zone-label" });
    Z.popup(shape, zoneCard(f, early));
    group.addLayer(shape);
    return group;
  }

  function zoneCard(f, early) {
    const p = f.properties;
    return el("div", { class: "track-card" },
      el("strong", {}, `${p.name}, version ${p.version}`),
      el("div", {}, inForce(p)),
      early ? el("div", { class: "muted" }, "No earlier version was recorded: shown as first recorded.") : null,
      p.reason ? el("div", {}, "Why: ", p.reason) : null,
      (p.clauses || []).map((c) => el("div", { class: "muted" },
        `Clause ${c.clause_number} of ${c.order_reference}` +
          (c.buffer_m > 0 ? ` (buffer ${Z.metres(c.buffer_m)})` : ""))));
  }

  function inForce(p) {
    return `In force from ${Z.localTime(p.created_at)}` +
      (p.superseded_at ? ` until ${Z.localTime(p.superseded_at)}` : " (current)");
  }

  function listZones() {
    const items = state.zones.map((zone) => {
      const latest = zone.versions[zone.versions.length - 1].properties;
      const clauses = latest.clauses || [];
      return el("li", { class: "track-zone-item", dataset: { zone: String(zone.id) } },
        el("strong", {}, latest.name),
        el("ul", { class: "track-versions" }, zone.versions.map((f) => {
          const p = f.properties;
          const made = Date.parse(p.created_at);
          const edit = p.version > 1 && made >= state.since && made <= state.until;
          return el("li", { class: "track-version", dataset: { version: String(p.version) } },
            el("span", {}, `v${p.version}`, p.name !== latest.name ? ` (${p.name})` : "", ": ",
              inForce(p)),
            el("span", { class: "shown-mark" }, " · shown"),
            edit ? el("button", {
              type: "button", class: "secondary small-button",
              onclick: () => { pause(); go(made); },
            }, `Go to the edit to v${p.version}`) : null);
        })),
        clauses.map((c) => el("div", { class: "muted small" },
          `Clause ${c.clause_number} of ${c.order_reference}` +
            (c.buffer_m > 0 ? `, buffer ${Z.metres(c.buffer_m)}: ` : ": "),
          el("q", {}, c.clause_text))));
    });
    Z.fill($("zones"), items.length ? items
      : el("li", { class: "muted" }, "No order of this subject named a zone in this period."));
  }

  function drawTimeline() {
    const [lo, hi] = sliderRange();
    const pieces = [];
    for (const a of state.alerts) {
      const start = fraction(Date.parse(a.first_at));
      const end = fraction(stayEnd(a));
      const piece = el("div", {
        class: `tl-stay${a.status === "open" ? " open" : ""}`, dataset: { alert: String(a.id) },
        title: `${alertTitle(a)}: ${Z.localClock(a.first_at)}`,
      });
      piece.style.left = `${start * 100}%`;
      piece.style.width = `max(4px, ${(end - start) * 100}%)`;
      piece.addEventListener("click", (event) => {
        event.stopPropagation();
        pause();
        go(Date.parse(a.first_at));
      });
      pieces.push(piece);
    }
    state.points.forEach((p, i) => {
      if (!p.breach) return;
      const tick = el("div", { class: "tl-breach" });
      tick.style.left = `${fraction(state.times[i]) * 100}%`;
      pieces.push(tick);
    });
    for (const zone of state.zones) {
      for (const f of zone.versions.slice(1)) {
        const made = Date.parse(f.properties.created_at);
        if (made < lo || made > hi) continue;
        const tick = el("div", { class: "tl-edit", title: `${f.properties.name} edited: v${f.properties.version}` });
        tick.style.left = `${fraction(made) * 100}%`;
        pieces.push(tick);
      }
    }
    Z.fill(timeline, pieces, cursor);
  }

  timeline.addEventListener("click", (event) => {
    const box = timeline.getBoundingClientRect();
    const [lo, hi] = sliderRange();
    go(lo + ((event.clientX - box.left) / box.width) * (hi - lo));
  });

  function fitAll() {
    const bounds = L.latLngBounds([]);
    for (const ll of state.latlngs) bounds.extend(ll);
    for (const zone of state.zones) {
      for (const f of zone.versions) bounds.extend(L.geoJSON(f.geometry).getBounds());
    }
    Z.fit(map, bounds, 17);
  }

  // -- showing the moment ----------------------------------------------------------------------

  function show() {
    const t = state.t;
    const text = Z.localTime(iso(t));
    const clock = $("clock");
    clock.textContent = text;
    clock.setAttribute("datetime", iso(t));
    slider.setAttribute("aria-valuetext", text);
    cursor.style.left = `${fraction(t) * 100}%`;

    const i = indexAt(t);
    if (i !== state.index) {
      state.index = i;
      showTrail(i);
    }
    const stale = i >= 0 && t - state.times[i] > STALE;
    position.setStyle({ fillOpacity: stale ? 0 : 1, color: stale ? TRACK_COLOUR : "#fff" });
    showZones(t);
    showStays(t);
    showFacts(t, i, stale);
  }

  function showTrail(i) {
    trail.setLatLngs(state.latlngs.slice(0, i + 1));
    const want = i + 1;
    for (let k = state.dotsShown; k < want; k++) dotGroup.addLayer(dot(k));
    for (let k = want; k < state.dotsShown; k++) dotGroup.removeLayer(dots[k]);
    state.dotsShown = want;
    if (i < 0) {
      position.remove();
      disc.remove();
      return;
    }
    const p = state.points[i];
    position.setLatLng(state.latlngs[i]);
    position.setStyle({ fillColor: p.breach ? BREACH_COLOUR : TRACK_COLOUR });
    position.addTo(map);
    const element = position.getElement();
    if (element) element.classList.toggle("breach", p.breach);
    if (p.accuracy_m) {
      disc.setLatLng(state.latlngs[i]);
      disc.setRadius(p.accuracy_m);
      disc.setStyle({ color: p.breach ? BREACH_COLOUR : TRACK_COLOUR });
      disc.addTo(map);
    } else disc.remove();
  }

  function showZones(t) {
    for (const zone of state.zones) {
      const found = versionAt(zone, t);
      const key = found ? `${found.feature.properties.version}${found.early ? "e" : ""}` : null;
      if (key === zone.drawn) continue;
      if (zone.drawn !== null) zoneGroup.removeLayer(zone.layers.get(zone.drawn));
      zone.drawn = key;
      if (key !== null) {
        if (!zone.layers.has(key)) zone.layers.set(key, zoneLayer(found.feature, found.early));
        zoneGroup.addLayer(zone.layers.get(key));
      }
      const item = document.querySelector(`.track-zone-item[data-zone="${zone.id}"]`);
      if (item) {
        for (const v of item.querySelectorAll(".track-version")) {
          const shown = found && v.dataset.version === String(found.feature.properties.version);
          v.classList.toggle("current", Boolean(shown));
        }
      }
    }
  }

  function showStays(t) {
    for (const a of state.alerts) {
      const now = Date.parse(a.first_at) <= t && t <= stayEnd(a);
      const item = $("stays").querySelector(`[data-alert="${a.id}"]`);
      if (item) {
        item.classList.toggle("current", now);
        if (now) item.setAttribute("aria-current", "true");
        else item.removeAttribute("aria-current");
      }
      const piece = timeline.querySelector(`[data-alert="${a.id}"]`);
      if (piece) piece.classList.toggle("current", now);
    }
  }

  /** When a stay ended: on exit, or (still inside) the end of the period. */
  function stayEnd(a) {
    if (a.closed_at) return Date.parse(a.closed_at);
    return a.status === "open" ? Math.max(state.until, Date.parse(a.last_at)) : Date.parse(a.last_at);
  }

  function fact(term, ...value) {
    return [el("dt", {}, term), el("dd", {}, ...value)];
  }

  function showFacts(t, i, stale) {
    const facts = $("now-facts");
    if (!state.loaded) return;
    if (i < 0) {
      Z.fill(facts, fact("Position", state.points.length
        ? `No fix yet: the first is at ${Z.localClock(state.points[0].time)}.`
        : "No fixes in this period."));
      return;
    }
    const p = state.points[i];
    const ago = t - state.times[i];
    const stays = p.alert_ids.map((id) => state.alertsById.get(id)).filter(Boolean);
    Z.fill(facts,
      fact(stale ? "Last known fix" : "Last fix", Z.localTime(p.time),
        ago >= 1000 ? ` (${span(ago)} before)` : ""),
      fact("Latitude, longitude", `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}`,
        p.kind === "sighting" ? " (a sighting)" : ""),
      fact("Accuracy", p.accuracy_m !== null ? Z.metres(p.accuracy_m) : "not given"),
      fact("Zones", p.breach
        ? el("span", { class: "error" }, "In a zone: ",
          stays.length ? [...new Set(stays.map(alertTitle))].join(", ")
            : "breach")
        : "Outside every zone"),
      p.late ? fact("Arrived", "late") : null);
  }

  // -- start -----------------------------------------------------------------------------------

  function fromQuery() {
    const q = new URLSearchParams(window.location.search);
    const since = Date.parse(q.get("from") || "");
    const until = Date.parse(q.get("to") || "");
    const at = Date.parse(q.get("at") || "");
    if (!Number.isNaN(since) && !Number.isNaN(until) && until > since && until - since <= LONGEST) {
      return [since, until, Number.isNaN(at) ? null : at, "custom"];
    }
    const [s, u] = quickPeriod("day");
    return [s, u, Number.isNaN(at) ? null : at, "day"];
  }

  const [since, until, at, chosen] = fromQuery();
  choice.value = chosen;
  showPeriodInputs(since, until);
  loadSubject();
  load(since, until, at);
})();
