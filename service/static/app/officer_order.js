/* An order's page: what it says (subject, reference, type, court, dates, status), each
 * condition with its clause, buffer, zones (and a plain warning when it has none), when it
 * applies in plain English (with its dated exceptions), its warning ring and stay rules, the
 * zones on the map labelled by name with their buffers dashed over the library as faint
 * context, and every version: who made it, when (UK time), why, and what it changed.
 */
"use strict";

(function () {
  const Z = window.Zones;
  const O = window.Officer;
  const $ = (id) => document.getElementById(id);
  const m = Z.map();
  const orderId = Z.config.order_id;
  const subjectId = Z.config.subject_id;
  const NO_ZONES = "No zones yet: this clause is judged against nothing.";

  const buffers = L.featureGroup().addTo(m);
  const zonesLayer = L.featureGroup().addTo(m);
  Z.nameControls();

  function fact(term, ...value) {
    return [Z.el("dt", {}, term), Z.el("dd", {}, ...value)];
  }

  function zoneName(zones, id) {
    const f = zones.get(id);
    return f ? f.properties.name : `zone ${id}`;
  }

  function metres(value) {
    return value > 0 ? Z.metres(value) : "none";
  }

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many || `${one}s`}`;
  }

  /** When a stay becomes an alert and when it ends, in words. */
  function stayRules(c) {
    const confirm = c.confirm_fixes <= 1 && !c.confirm_seconds
      ? "an alert at the first fix inside"
      : `an alert after ${plural(c.confirm_fixes, "fix", "fixes")} inside`
        + (c.confirm_seconds ? ` and ${plural(c.confirm_seconds, "second")}` : "");
    const clear = `ends after ${plural(c.clear_fixes, "clear fix", "clear fixes")} in a row`
      + (c.clear_seconds ? ` or ${plural(c.clear_seconds, "second")} clear` : "");
    return `${confirm}; ${clear}`;
  }

  function exceptionText(e) {
    const days = e.first_day === e.last_day ? O.civilDate(e.first_day)
      : `${O.civilDate(e.first_day)} to ${O.civilDate(e.last_day)}`;
    return e.label ? `${e.label}: ${days}` : days;
  }

  function when(c) {
    if (!c.schedule) return Z.el("span", {}, "At all times");
    const exceptions = c.schedule.exceptions || [];
    return Z.el("div", {},
      Z.el("span", { class: "schedule-text" }, c.schedule_text || ""),
      exceptions.length
        ? Z.el("details", { class: "exception-details" },
          Z.el("summary", {}, `${plural(exceptions.length, "dated exception")}`,
            Z.el("span", { class: "visually-hidden" }, ` of clause ${c.number}`)),
          Z.el("ul", { class: "exception-names" }, exceptions.map((e) => Z.el("li", {}, exceptionText(e)))))
        : null);
  }

  // -- what the order says now ----------------------------------------------------------------

  function showFacts(order, subject) {
    Z.fill($("order-title"), O.orderName(order));
    $("order-title").className = "";
    document.title = `${O.orderName(order)} · Exclusion zones`;
    const who = subject
      ? Z.el("a", { href: `/subjects/${subject.id}` }, `${subject.reference} · ${subject.name}`)
      : Z.el("a", { href: `/subjects/${subjectId}` }, `subject ${subjectId}`);
    if (subject) Z.fill($("subject-link"), `${subject.reference} · ${subject.name}`);
    Z.fill($("order-facts"),
      fact("Subject", who),
      fact("Reference", order.reference),
      fact("Type", O.typeLabel(order.type)),
      fact("Court", order.court || Z.el("span", { class: "muted" }, "not recorded")),
      fact("In force", O.dates(order)),
      fact("Status", O.standingBadge(order),
        order.status === "revoked" ? " (judged against nothing)" : ""),
      fact("Version", `${order.version}, `, order.created_by ? `by ${order.created_by}, ` : "",
        Z.localTime(order.created_at)));
  }

  function conditionItem(order, c, zones) {
    const zoneList = c.zone_ids.length
      ? Z.el("ul", { class: "zone-names" }, c.zone_ids.map((id) => {
        const f = zones.get(id);
        return Z.el("li", {}, Z.el("a", { href: `/zones/${id}` }, zoneName(zones, id)),
          f ? Z.el("span", { class: "muted" }, ` (${O.category(f.properties.category)})`) : null);
      }))
      : null;
    return Z.el("li", { class: "clause-item" },
      Z.el("h3", {}, `Clause ${c.number}`),
      Z.el("p", { class: "clause-text" }, c.text),
      Z.el("dl", { class: "facts" },
        fact("Buffer", metres(c.buffer_m)),
        fact("Zones", zoneList || Z.el("span", { class: "muted" }, "none")),
        fact("Applies", when(c)),
        fact("Warning ring", c.warning_m > 0 ? `${Z.metres(c.warning_m)} beyond the buffer` : "none"),
        fact("Stays", stayRules(c)),
        fact("Working tag", c.tag_required
          ? `required: ${plural(c.silence_minutes, "minute")} without a fix raises a communication-loss alert`
          : "not required")),
      c.zone_ids.length || c.tag_required ? null : Z.el("p", { class: "warning" }, NO_ZONES),
      Z.el("p", { class: "small" },
        Z.el("a", { href: `/orders/${order.id}/clauses/${c.clause_id}/zones` },
          "Draw or pick zones",
          Z.el("span", { class: "visually-hidden" }, ` for clause ${c.number}`))));
  }

  // -- the map --------------------------------------------------------------------------------

  async function drawMap(order, zones) {
    zonesLayer.clearLayers();
    buffers.clearLayers();
    const clausesOf = new Map(); // zone id -> clause numbers
    for (const c of order.conditions) {
      for (const id of c.zone_ids) clausesOf.set(id, [...(clausesOf.get(id) || []), c.number]);
    }
    // The rest of the library, faintly; the order's own zones are drawn (and named) below.
    Z.contextLayers(m, { skip: (id) => clausesOf.has(id) && Boolean(zones.get(id)) });
    for (const [id, numbers] of clausesOf) {
      const f = zones.get(id);
      if (!f) continue;
      const layer = L.geoJSON(f, { style: Z.ZONE_STYLE });
      Z.label(layer, f.properties.name);
      Z.popup(layer, Z.el("div", {},
        Z.el("strong", {}, f.properties.name),
        Z.el("div", {}, `${numbers.length > 1 ? "Clauses" : "Clause"} ${numbers.join(", ")}`),
        Z.el("a", { href: `/zones/${id}` }, "Versions of this zone")));
      zonesLayer.addLayer(layer);
    }
    const grown = order.conditions.filter((c) => c.buffer_m > 0 && c.zone_ids.some((id) => zones.get(id)));
    await O.pooled(grown, 3, async (c) => {
      const shapes = c.zone_ids.map((id) => zones.get(id)).filter(Boolean).map((f) => f.geometry);
      try {
        const answer = await Z.api("POST", "/zones/buffer", { buffer_m: c.buffer_m, geometries: shapes });
        for (const f of answer.features) {
          buffers.addLayer(L.geoJSON(f, { style: Z.BUFFER_STYLE, interactive: false }));
        }
      } catch (err) {
        Z.say("order-status", `The buffer of clause ${c.number} cannot be drawn: ${err.message}`,
          "error");
      }
    });
    zonesLayer.bringToFront();
    const bounds = zonesLayer.getBounds();
    if (buffers.getLayers().length) bounds.extend(buffers.getBounds());
    Z.fit(m, bounds, 17);
  }

  // -- versions -------------------------------------------------------------------------------

  function wording(label, text, kind) {
    return Z.el("div", { class: `wording ${kind}` },
      Z.el("span", { class: "wording-label" }, label), Z.el("p", { class: "clause-text" }, text));
  }

  function change(text, ...more) {
    return Z.el("li", {}, text, ...more);
  }

  function changes(before, after, zones) {
    const out = [];
    const simple = [
      ["reference", "Reference", (v) => v],
      ["type", "Type", (v) => O.typeLabel(v)],
      ["court", "Court", (v) => v || "none"],
      ["starts", "In force from", (v) => O.civilDate(v)],
      ["ends", "Until", (v) => (v ? O.civilDate(v) : "further order")],
      ["status", "Status", (v) => v],
    ];
    for (const [key, label, show] of simple) {
      if (before[key] !== after[key]) {
        out.push(change(`${label}: ${show(before[key])} → ${show(after[key])}`));
      }
    }
    const old = new Map(before.conditions.map((c) => [c.clause_id, c]));
    const now = new Map(after.conditions.map((c) => [c.clause_id, c]));
    for (const c of after.conditions) {
      const was = old.get(c.clause_id);
      if (!was) {
        out.push(change(`Clause ${c.number} added:`, wording("Wording", c.text, "added")));
        continue;
      }
      if (was.text !== c.text) {
        out.push(change(`Clause ${c.number} re-worded:`,
          wording("Before", was.text, "before"), wording("Now", c.text, "after")));
      }
      if (was.number !== c.number) out.push(change(`Clause ${was.number} is now clause ${c.number}.`));
      if (was.buffer_m !== c.buffer_m) {
        out.push(change(`Clause ${c.number} buffer: ${metres(was.buffer_m)} → ${metres(c.buffer_m)}`));
      }
      if (JSON.stringify(was.schedule || null) !== JSON.stringify(c.schedule || null)) {
        out.push(change(`Clause ${c.number} applies: ${was.schedule_text || "at all times"} → `
          + `${c.schedule_text || "at all times"}`));
      }
      if ((was.warning_m || 0) !== (c.warning_m || 0)) {
        out.push(change(`Clause ${c.number} warning ring: ${metres(was.warning_m || 0)} → `
          + `${metres(c.warning_m || 0)}`));
      }
      if (was.confirm_fixes !== undefined && stayRules(was) !== stayRules(c)) {
        out.push(change(`Clause ${c.number} stays: ${stayRules(was)} → ${stayRules(c)}`));
      }
      const added = c.zone_ids.filter((z) => !was.zone_ids.includes(z));
      const dropped = was.zone_ids.filter((z) => !c.zone_ids.includes(z));
      if (added.length || dropped.length) {
        const parts = [];
        if (added.length) parts.push(`added ${added.map((z) => zoneName(zones, z)).join(", ")}`);
        if (dropped.length) parts.push(`removed ${dropped.map((z) => zoneName(zones, z)).join(", ")}`);
        out.push(change(`Clause ${c.number} zones: ${parts.join("; ")}.`));
      }
    }
    for (const c of before.conditions) {
      if (!now.has(c.clause_id)) {
        out.push(change(`Clause ${c.number} removed:`, wording("Wording", c.text, "removed")));
      }
    }
    return out.length ? out : [change("No change in what the order says.")];
  }

  function versionItem(v, previous, zones, current) {
    return Z.el("li", { class: "version-item" },
      Z.el("h3", {}, `Version ${v.version}`, current ? " (current)" : ""),
      Z.el("dl", { class: "facts" },
        fact("By", v.created_by || Z.el("span", { class: "muted" }, "not recorded")),
        fact("When", Z.localTime(v.created_at)),
        fact("Why", v.reason || Z.el("span", { class: "muted" }, "no reason recorded"))),
      previous
        ? Z.el("ul", { class: "changes", "aria-label": `Changes in version ${v.version}` },
          changes(previous, v, zones))
        : Z.el("p", { class: "small" }, `Recorded with ${v.conditions.length} condition`
          + `${v.conditions.length === 1 ? "" : "s"}.`));
  }

  // -- loading --------------------------------------------------------------------------------

  async function load() {
    O.showFlash("flash");
    const [order, versions, subject] = await Promise.all([
      Z.api("GET", `/orders/${orderId}`),
      Z.api("GET", `/orders/${orderId}/versions`),
      Z.api("GET", `/subjects/${subjectId}`).catch(() => null),
    ]);
    const ids = versions.flatMap((v) => v.conditions.flatMap((c) => c.zone_ids));
    const zones = await O.zones(ids.concat(order.conditions.flatMap((c) => c.zone_ids)));
    showFacts(order, subject);
    Z.fill($("order-conditions"), order.conditions.map((c) => conditionItem(order, c, zones)));
    Z.fill($("order-versions"), versions.map((v, i) => versionItem(v, versions[i - 1], zones, i === versions.length - 1))
      .reverse());
    await drawMap(order, zones);
    Z.nameControls();
  }

  load().catch((err) => Z.say("order-status", `The order cannot be loaded: ${err.message}`, "error"));
})();
