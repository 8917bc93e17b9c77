/* Helpers of the officer's pages (subjects, orders, zone library): names of orders as people
 * say them, civil dates, errors shown at the field they name, a little flow control.
 *
 * Every text from the API goes into the page through Zones.el / textContent.
 */
"use strict";

window.Officer = (function () {
  const Z = window.Zones;

  const ORDER_TYPES = {
    SHPO: "SHPO (Sexual Harm Prevention Order)",
    SRO: "SRO (Sexual Risk Order)",
    licence: "Licence conditions",
    restraining: "Restraining order",
    other: "Other order",
  };
  const SHORT_TYPES = { SHPO: "SHPO", SRO: "SRO", licence: "Licence", restraining: "Restraining order",
    other: "Order" };

  function typeLabel(type) {
    return ORDER_TYPES[type] || String(type);
  }

  /** An order as people name it: "SHPO SHPO/CAM/2026/0141". */
  function orderName(order) {
    return `${SHORT_TYPES[order.type] || order.type} ${order.reference}`;
  }

  const civil = new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC", day: "numeric", month: "short", year: "numeric",
  });

  /** A civil date ("2026-03-02") as "2 Mar 2026": a date, not an instant, so no time zone. */
  function civilDate(iso) {
    if (!iso) return "";
    const [y, m, d] = iso.split("-").map(Number);
    return civil.format(new Date(Date.UTC(y, m - 1, d)));
  }

  /** Today's civil date in the UK, as "YYYY-MM-DD" (orders are in force by civil date). */
  function today() {
    return Z.localInputValue(new Date()).slice(0, 10);
  }

  /** "in force", "revoked", "not yet in force" or "ended", as on ``day``. */
  function standing(order, day) {
    const d = day || today();
    if (order.status === "revoked") return "revoked";
    if (order.starts > d) return "not yet in force";
    if (order.ends && order.ends < d) return "ended";
    return "in force";
  }

  function standingBadge(order) {
    const text = standing(order);
    const kind = { "in force": "in-force", revoked: "revoked", ended: "ended",
      "not yet in force": "pending" }[text];
    return Z.el("span", { class: `badge order-${kind}` }, text);
  }

  function dates(order) {
    return order.ends
      ? `${civilDate(order.starts)} to ${civilDate(order.ends)}`
      : `from ${civilDate(order.starts)}, until further order`;
  }

  // A field name as the API names places: conditions[1].zone_ids[0], reference, ...
  const FIELD = String.raw`[A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*`;
  const PART = new RegExp(String.raw`;\s+(?=${FIELD}:\s)`);
  const LEADING = new RegExp(String.raw`^(${FIELD}):\s([\s\S]*)$`);

  function plain(message) {
    if (/at least 1 character|Field required/.test(message)) return "This is needed.";
    if (/valid date/.test(message)) return "Give a date (day, month, year).";
    return message;
  }

  /** The problems an API error names: [{field, message}], one per place. */
  function problems(err) {
    if (!(err instanceof Z.ApiError)) return [{ field: null, message: String(err.message || err) }];
    if (err.code !== "validation_error") return [{ field: err.field, message: err.message }];
    return err.message.split(PART).map((part) => {
      const found = LEADING.exec(part);
      if (!found) return { field: err.field, message: part };
      const field = found[1] === "body" ? null : found[1];
      return { field, message: plain(found[2]) };
    });
  }

  /**
   * Show each problem at its field: ``locate(field)`` gives {input, spot} (the element to mark
   * and the element to write into) or null; the rest go to ``formSpot``. Returns the first
   * input marked, to focus.
   */
  function showProblems(list, locate, formSpot) {
    let first = null;
    const loose = [];
    for (const p of list) {
      const place = p.field ? locate(p.field) : null;
      if (!place || !place.spot) {
        loose.push(p.field ? `${p.field}: ${p.message}` : p.message);
        continue;
      }
      const before = place.spot.textContent;
      place.spot.textContent = before ? `${before} ${p.message}` : p.message;
      if (place.input) {
        place.input.setAttribute("aria-invalid", "true");
        first = first || place.input;
      }
    }
    if (loose.length) {
      Z.fill(formSpot, loose.length > 1 ? Z.el("ul", {}, loose.map((t) => Z.el("li", {}, t)))
        : loose[0]);
    }
    return first;
  }

  function clearProblems(root) {
    for (const node of root.querySelectorAll(".field-error, .form-error")) node.textContent = "";
    for (const node of root.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  /** Run ``fn`` when calls have paused for ``ms``. */
  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  /** Map ``items`` through the async ``fn``, at most ``width`` at a time; results in order. */
  async function pooled(items, width, fn) {
    const results = new Array(items.length);
    let next = 0;
    async function worker() {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }
    await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
    return results;
  }

  const zoneCache = new Map();

  /** Zones by id (current versions), fetched once each; a zone that cannot be read is null. */
  async function zones(ids) {
    const wanted = [...new Set(ids)].filter((id) => !zoneCache.has(id));
    await pooled(wanted, 6, async (id) => {
      try {
        zoneCache.set(id, await Z.api("GET", `/zones/${id}`));
      } catch (err) {
        zoneCache.set(id, null);
      }
    });
    return new Map([...new Set(ids)].map((id) => [id, zoneCache.get(id)]));
  }

  /** A message for the next page (shown once, e.g. "Subject saved"), across a navigation. */
  function flashNext(text) {
    try {
      sessionStorage.setItem("officer-flash", text);
    } catch (err) { /* private mode: no message, no harm */ }
  }

  function showFlash(target) {
    let text = null;
    try {
      text = sessionStorage.getItem("officer-flash");
      sessionStorage.removeItem("officer-flash");
    } catch (err) { /* nothing to show */ }
    if (text) Z.say(target, text, "ok");
  }

  function category(value) {
    return String(value || "").replace(/_/g, " ");
  }

  return {
    typeLabel, orderName, civilDate, today, standing, standingBadge, dates, problems,
    showProblems, clearProblems, debounce, pooled, zones, flashNext, showFlash, category,
  };
})();
