/* A subject's details as a form (new: POST, recorded: PUT), travel mode included, and, for a
 * recorded subject, the orders on them with a link to each (their visits and stays are
 * officer_visits.js's). A refused field (a reference already used, say) is shown at that
 * field.
 */
"use strict";

(function () {
  const Z = window.Zones;
  const O = window.Officer;
  const $ = (id) => document.getElementById(id);
  const subjectId = Z.config.subject_id;
  const form = $("subject-form");
  // Every field SubjectIn takes: a PUT replaces the subject, so each is sent back as it is.
  const FIELDS = ["reference", "name", "risk_level", "travel_mode", "officer", "unit", "photo_ref"];
  const input = (name) => $(`subject-${name}`);

  function setRisk(value) {
    const select = input("risk_level");
    if (value && ![...select.options].some((o) => o.value === value)) {
      select.append(Z.el("option", { value }, value)); // a level recorded some other way
    }
    select.value = value || "";
  }

  function fill(subject) {
    for (const name of FIELDS) {
      if (name === "risk_level") setRisk(subject.risk_level);
      else if (name === "travel_mode") input(name).value = subject.travel_mode || "walking";
      else input(name).value = subject[name] || "";
    }
    Z.fill($("subject-title"), `${subject.reference} · ${subject.name}`);
    $("subject-title").className = "";
    document.title = `${subject.reference} · Exclusion zones`;
  }

  function body() {
    const out = {};
    for (const name of FIELDS) {
      const value = input(name).value.trim();
      out[name] = value === "" && !["reference", "name", "travel_mode"].includes(name) ? null : value;
    }
    return out;
  }

  function locate(field) {
    const name = field.split(/[.[]/)[0];
    if (!FIELDS.includes(name)) return null;
    return { input: input(name), spot: $(`subject-${name}-error`) };
  }

  /** Another subject already holding ``reference`` (asked before saving, so that the usual
   * mistake is named at once, with a link to that subject); the API's 409 still decides. */
  async function holder(reference) {
    const found = await Z.api("GET", "/subjects", undefined,
      { params: { q: reference.slice(0, 100), limit: 5 } });
    return found.find((s) => s.reference === reference && s.id !== subjectId) || null;
  }

  function taken(other) {
    const spot = $("subject-reference-error");
    Z.fill(spot, `A subject with reference ${other.reference} already exists: `,
      Z.el("a", { href: `/subjects/${other.id}` }, `${other.reference} · ${other.name}`), ".");
    input("reference").setAttribute("aria-invalid", "true");
    Z.say("subject-status", "Not saved: see the problem marked above.", "error");
    input("reference").focus();
  }

  async function save(event) {
    event.preventDefault();
    O.clearProblems(form);
    Z.say("subject-status", "Saving…");
    const button = $("subject-save");
    button.disabled = true;
    try {
      const reference = input("reference").value.trim();
      const other = reference ? await holder(reference) : null;
      if (other) {
        taken(other);
        return;
      }
      const saved = subjectId
        ? await Z.api("PUT", `/subjects/${subjectId}`, body())
        : await Z.api("POST", "/subjects", body());
      if (!subjectId) {
        O.flashNext(`Subject ${saved.reference} recorded.`);
        window.location.assign(`/subjects/${saved.id}`);
        return;
      }
      fill(saved);
      Z.say("subject-status", `Saved at ${Z.localClock(new Date().toISOString())}.`, "ok");
    } catch (err) {
      Z.say("subject-status", "Not saved: see the problem marked above.", "error");
      const first = O.showProblems(O.problems(err), locate, $("subject-form-error"));
      (first || $("subject-form-error")).focus();
    } finally {
      button.disabled = false;
    }
  }

  function orderCard(order) {
    const zoneless = order.conditions.filter((c) => !c.zone_ids.length && !c.tag_required).length;
    return Z.el("li", { class: "order-card" },
      Z.el("h3", {}, Z.el("a", { href: `/orders/${order.id}` }, O.orderName(order))),
      Z.el("p", {}, O.standingBadge(order), " ", O.dates(order)),
      Z.el("p", { class: "muted small" },
        `${O.typeLabel(order.type)}${order.court ? `, ${order.court}` : ""}; `
        + `${order.conditions.length} condition${order.conditions.length === 1 ? "" : "s"}; `
        + `version ${order.version}`),
      zoneless ? Z.el("p", { class: "warning small" },
        `${zoneless} condition${zoneless === 1 ? " has" : "s have"} no zones yet.`) : null,
      Z.el("p", { class: "small" },
        Z.el("a", { href: `/orders/${order.id}/edit` }, "Edit"), " · ",
        Z.el("a", { href: `/orders/${order.id}` }, "Conditions, map and versions")));
  }

  async function loadOrders() {
    const orders = await Z.api("GET", `/subjects/${subjectId}/orders`);
    Z.fill($("order-list"), orders.map(orderCard));
    Z.say("orders-status", orders.length
      ? `${orders.length} order${orders.length === 1 ? "" : "s"}.`
      : "No orders recorded for this subject yet.");
  }

  async function load() {
    O.showFlash("flash");
    if (!subjectId) {
      input("reference").focus();
      return;
    }
    fill(await Z.api("GET", `/subjects/${subjectId}`));
    await loadOrders();
  }

  form.addEventListener("submit", save);
  load().catch((err) => Z.say("subject-status", `The subject cannot be loaded: ${err.message}`,
    "error"));
})();
