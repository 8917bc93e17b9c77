/* A subject's authorised visits (listed, recorded, withdrawn with a reason) and the stays
 * the subject's page shows: recent alerts, and the stays that are not alerts (pending ones,
 * not yet confirmed by a clause's stay rules, and authorised ones, covered by a visit).
 *
 * A visit is entered in UK civil time. Each time is resolved to an instant by the API
 * (/time/local): a time in the hour repeated when the clocks go back is asked about (which
 * of the two?), a time in the hour skipped when they go forward is refused; neither is
 * guessed.
 */
"use strict";

(function () {
  const Z = window.Zones;
  const O = window.Officer;
  const $ = (id) => document.getElementById(id);
  const subjectId = Z.config.subject_id;
  const TZ = "Europe/London";
  const form = $("visit-form");
  const FIELDS = ["zone_id", "starts", "ends", "authorised_by", "reason"];

  const stamp = new Intl.DateTimeFormat("en-GB", {
    timeZone: TZ, weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  const sameDay = new Intl.DateTimeFormat("en-GB", { timeZone: TZ, dateStyle: "short" });

  /** A window in UK time: "Sat 5 Dec 2026, 10:00 GMT – 12:00 GMT", the date once if one day. */
  function window_(starts, ends) {
    const a = new Date(starts);
    const b = ends ? new Date(ends) : null;
    if (!b) return `from ${stamp.format(a)}`;
    const to = sameDay.format(a) === sameDay.format(b) ? Z.localClock(ends) : stamp.format(b);
    return `${stamp.format(a)} – ${to}`;
  }

  // -- the visits ------------------------------------------------------------------------------

  function visitItem(v) {
    const withdrawn = Boolean(v.withdrawn_at);
    const item = Z.el("li", { class: `visit-item${withdrawn ? " withdrawn" : ""}`,
      dataset: { visitId: String(v.id) } },
    Z.el("p", { class: "visit-head" },
      Z.el("strong", {}, v.zone_name || `zone ${v.zone_id}`), " ",
      withdrawn ? Z.el("span", { class: "badge visit-withdrawn" }, "withdrawn")
        : Z.el("span", { class: "badge visit-active" }, "authorised")),
    Z.el("p", { class: "visit-when" }, window_(v.starts, v.ends)),
    Z.el("dl", { class: "facts" },
      Z.el("dt", {}, "Authorised by"), Z.el("dd", {}, v.authorised_by),
      Z.el("dt", {}, "Why"), Z.el("dd", { class: "visit-reason" }, v.reason),
      Z.el("dt", {}, "Recorded"), Z.el("dd", {}, `by ${v.recorded_by}, ${Z.localTime(v.recorded_at)}`),
      withdrawn ? Z.el("dt", {}, "Withdrawn") : null,
      withdrawn ? Z.el("dd", {}, `by ${v.withdrawn_by || "?"}, ${Z.localTime(v.withdrawn_at)}`) : null));
    if (!withdrawn) item.append(withdrawControl(v));
    return item;
  }

  /** A "Withdraw" button that opens a small form asking why (no browser dialog). */
  function withdrawControl(v) {
    const key = `withdraw-${v.id}`;
    const what = Z.el("span", { class: "visually-hidden" },
      ` the visit to ${v.zone_name || `zone ${v.zone_id}`}, ${window_(v.starts, v.ends)}`);
    const open = Z.el("button", { type: "button", class: "secondary small danger-outline",
      "aria-expanded": "false", "aria-controls": key }, "Withdraw", what);
    const reason = Z.el("textarea", { id: `${key}-reason`, rows: "2", maxlength: "2000",
      "aria-describedby": `${key}-error` });
    const spot = Z.el("p", { class: "field-error", id: `${key}-error`, "aria-live": "polite" });
    const send = Z.el("button", { type: "submit", class: "danger" }, "Withdraw the visit");
    const keep = Z.el("button", { type: "button", class: "secondary" }, "Keep it");
    const box = Z.el("form", { class: "withdraw-form", id: key, hidden: true, novalidate: true },
      Z.el("div", { class: "field" },
        Z.el("label", { for: `${key}-reason` }, "Why is it withdrawn?"), reason, spot),
      Z.el("div", { class: "form-actions" }, send, keep));
    function toggle(show) {
      box.hidden = !show;
      open.hidden = show;
      open.setAttribute("aria-expanded", String(show));
      (show ? reason : open).focus();
    }
    open.addEventListener("click", () => toggle(true));
    keep.addEventListener("click", () => toggle(false));
    box.addEventListener("submit", async (event) => {
      event.preventDefault();
      spot.textContent = "";
      reason.removeAttribute("aria-invalid");
      if (reason.value.trim().length < 3) {
        spot.textContent = "Say why the visit is withdrawn (a few words at least).";
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
        return;
      }
      send.disabled = true;
      try {
        await Z.api("POST", `/visits/${v.id}/withdraw`, { reason: reason.value.trim() });
      } catch (err) {
        spot.textContent = `Not withdrawn: ${err.message}`;
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
        send.disabled = false;
        return;
      }
      await loadVisits(`The visit to ${v.zone_name} was withdrawn.`);
      loadStays();
      $("visits-heading").setAttribute("tabindex", "-1");
      $("visits-heading").focus();
    });
    return Z.el("div", { class: "withdraw" }, open, box);
  }

  async function loadVisits(message) {
    const visits = await Z.api("GET", `/subjects/${subjectId}/visits`);
    Z.fill($("visit-list"), visits.map(visitItem));
    const live = visits.filter((v) => !v.withdrawn_at).length;
    const count = visits.length
      ? `${visits.length} visit${visits.length === 1 ? "" : "s"} recorded, ${live} not withdrawn.`
      : "No authorised visits recorded.";
    Z.say("visits-status", message ? `${message} ${count}` : count, message ? "ok" : null);
  }

  // -- zones a visit may be to: those of the subject's orders ------------------------------------

  async function loadZones() {
    const orders = await Z.api("GET", `/subjects/${subjectId}/orders`);
    const uses = new Map(); // zone id -> "SHPO X/1 clause 2", ...
    for (const order of orders.filter((o) => o.status !== "revoked")) {
      for (const c of order.conditions) {
        for (const id of c.zone_ids) {
          uses.set(id, [...(uses.get(id) || []), `${O.orderName(order)} clause ${c.number}`]);
        }
      }
    }
    const zones = await O.zones([...uses.keys()]);
    const select = $("visit-zone_id");
    const choices = [...uses.entries()].map(([id, where]) => {
      const f = zones.get(id);
      return { id, name: f ? f.properties.name : `zone ${id}`, where };
    }).sort((a, b) => a.name.localeCompare(b.name));
    Z.fill(select, choices.length
      ? [Z.el("option", { value: "" }, "Pick a zone…"),
        ...choices.map((c) => Z.el("option", { value: String(c.id) }, `${c.name} (${c.where.join("; ")})`))]
      : Z.el("option", { value: "" }, "The subject's orders have no zones yet"));
    select.disabled = !choices.length;
    $("visit-save").disabled = !choices.length;
  }

  // -- recording a visit ----------------------------------------------------------------------

  function spotOf(name) {
    return $(`visit-${name}-error`);
  }

  function locate(field) {
    const name = field.split(/[.[]/)[0];
    if (!FIELDS.includes(name)) return null;
    return { input: $(`visit-${name}`), spot: spotOf(name) };
  }

  /** The instant a local time names, or a problem: {instant} or {problem}, asking when two. */
  async function resolve(name) {
    const input = $(`visit-${name}`);
    const choice = $(`visit-${name}-choice`);
    const picked = choice.querySelector("input:checked");
    if (picked && choice.dataset.for === input.value) return { instant: picked.value };
    if (!input.value) return { problem: "Give a date and a time." };
    const answer = await Z.api("GET", "/time/local", undefined,
      { params: { local_time: input.value, time_zone: TZ } });
    if (answer.status === "ok") {
      choice.replaceChildren();
      return { instant: answer.instants[0] };
    }
    if (answer.status === "nonexistent") {
      choice.replaceChildren();
      return { problem: `${answer.message}.` };
    }
    // Twice on the clock (the clocks went back): ask which, and keep the question.
    choice.dataset.for = input.value;
    Z.fill(choice, Z.el("fieldset", { class: "which-time" },
      Z.el("legend", {}, `That time happened twice, ${answer.labels.join(" and ")}: which?`),
      answer.instants.map((instant, i) => Z.el("span", { class: "choice" },
        Z.el("input", { type: "radio", name: `visit-${name}-which`, id: `visit-${name}-which-${i}`,
          value: instant }),
        Z.el("label", { for: `visit-${name}-which-${i}` }, answer.labels[i])))));
    return { problem: "The clocks went back that night: pick which of the two times.",
      focus: choice.querySelector("input") };
  }

  async function record(event) {
    event.preventDefault();
    O.clearProblems(form);
    const button = $("visit-save");
    button.disabled = true;
    Z.say("visit-form-status", "Recording…");
    try {
      const found = [];
      let first = null;
      const times = {};
      for (const name of ["starts", "ends"]) {
        const got = await resolve(name);
        if (got.problem) {
          found.push({ field: name, message: got.problem });
          first = first || got.focus || null;
        } else times[name] = got.instant;
      }
      if (!$("visit-zone_id").value) found.push({ field: "zone_id", message: "Pick the zone." });
      if (found.length) {
        const marked = O.showProblems(found, locate, $("visit-form-error"));
        Z.say("visit-form-status", "Not recorded: see the problems marked above.", "error");
        (first || marked || $("visit-form-error")).focus();
        return;
      }
      const saved = await Z.api("POST", `/subjects/${subjectId}/visits`, {
        zone_id: Number($("visit-zone_id").value),
        starts: times.starts,
        ends: times.ends,
        authorised_by: $("visit-authorised_by").value.trim(),
        reason: $("visit-reason").value.trim(),
      });
      form.reset();
      for (const name of ["starts", "ends"]) $(`visit-${name}-choice`).replaceChildren();
      Z.say("visit-form-status", "", null);
      await loadVisits(`Visit to ${saved.zone_name} recorded.`);
      loadStays();
    } catch (err) {
      Z.say("visit-form-status", "Not recorded: see the problems marked above.", "error");
      const marked = O.showProblems(O.problems(err), locate, $("visit-form-error"));
      (marked || $("visit-form-error")).focus();
    } finally {
      button.disabled = $("visit-zone_id").disabled;
    }
  }

  for (const name of ["starts", "ends"]) {
    $(`visit-${name}`).addEventListener("change", () => {
      const choice = $(`visit-${name}-choice`);
      if (choice.dataset.for !== $(`visit-${name}`).value) choice.replaceChildren();
    });
  }

  // -- alerts and stays -----------------------------------------------------------------------

  const STAGES = { alert: "alert", pending: "pending", authorised: "authorised", merged: "merged" };

  /** A stay's severity: for an alert, breach or warning; for a stay that is not an alert
   * (pending, authorised), where it was, since it is no breach (yet). */
  function severity(a) {
    const warning = a.severity === "warning";
    const text = a.stage === "alert" ? (warning ? "warning" : "breach")
      : (warning ? "in the warning ring" : "in the zone");
    return Z.el("span", { class: `badge severity-${warning ? "warning" : "breach"}` }, text);
  }

  function spanOf(a) {
    if (a.status === "open") {
      return `${stamp.format(new Date(a.first_at))} – still inside at the last fix, ${Z.localClock(a.last_at)}`;
    }
    return window_(a.first_at, a.closed_at || a.last_at);
  }

  function stayItem(a) {
    const warning = a.severity === "warning";
    return Z.el("li", { class: `stay-item severity-${warning ? "warning" : "breach"}` },
      Z.el("p", { class: "stay-head" },
        severity(a), " ",
        a.stage !== "alert" ? Z.el("span", { class: `badge stage-${STAGES[a.stage] || "other"}` }, a.stage) : null,
        a.stage !== "alert" ? " " : null,
        Z.el("span", { class: `badge ${a.status}` }, a.status === "open" ? "still inside" : "left"), " ",
        Z.el("strong", {}, a.zone_name || `zone ${a.zone_id}`)),
      Z.el("p", { class: "small" }, spanOf(a),
        `, ${a.observation_count} fix${a.observation_count === 1 ? "" : "es"}`),
      Z.el("p", { class: "small muted" },
        `${a.order_type ? `${O.orderName({ type: a.order_type, reference: a.order_reference })}, ` : ""}`
        + `clause ${a.clause_number ?? "?"}`
        + (warning ? ": in the warning ring, not the zone" : "")),
      a.schedule_window ? Z.el("p", { class: "small" }, `Schedule window: ${a.schedule_window}`) : null,
      a.stage === "alert"
        ? Z.el("p", { class: "small" }, Z.el("a", { href: `/desk?alert=${a.id}` }, "On the alert desk",
          Z.el("span", { class: "visually-hidden" }, ` (alert ${a.id})`)))
        : null);
  }

  async function loadStays() {
    const [alerts, quiet] = await Promise.all([
      Z.api("GET", "/alerts", undefined, { params: { subject_id: subjectId, limit: 10 } }),
      Z.api("GET", "/alerts", undefined,
        { params: { subject_id: subjectId, stage: ["pending", "authorised"], limit: 50 } }),
    ]);
    Z.fill($("alert-list"), alerts.map(stayItem));
    Z.say("alerts-status", alerts.length ? `The ${alerts.length} latest.` : "No alerts.");
    Z.fill($("stay-list"), quiet.map(stayItem));
    Z.say("stays-status", quiet.length ? `${quiet.length} stay${quiet.length === 1 ? "" : "s"}.`
      : "None.");
  }

  form.addEventListener("submit", record);
  loadVisits().catch((err) => Z.say("visits-status", `The visits cannot be loaded: ${err.message}`, "error"));
  loadZones().catch((err) => Z.say("visit-form-status", `The zones cannot be loaded: ${err.message}`, "error"));
  loadStays().catch((err) => Z.say("stays-status", `The stays cannot be loaded: ${err.message}`, "error"));
})();
