/* The order form: new (POST /orders) or an edit (PUT /orders/{id}: a new version, with a
 * reason). Conditions can be added, removed and reordered; each holds its clause word for
 * word, a buffer, zones picked from the library by typing part of a name (shown as
 * removable chips), when it applies (officer_schedule.js), its warning ring and stay rules.
 * An edited condition keeps its clause_id, so a re-worded clause stays the same clause, and
 * everything it held that the officer leaves alone is sent back as it was loaded. A refused
 * field is shown next to the field the API names.
 */
"use strict";

(function () {
  const Z = window.Zones;
  const O = window.Officer;
  const S = window.OfficerSchedule;
  const $ = (id) => document.getElementById(id);
  const orderId = Z.config.order_id;
  const subjectId = Z.config.subject_id;
  const form = $("order-form");
  const list = $("condition-list");
  const cards = []; // in the order shown
  let nextKey = 1;
  let loaded = null; // the order being edited, as loaded

  // -- one condition --------------------------------------------------------------------------

  function chip(card, zone) {
    const remove = Z.el("button", { type: "button", class: "chip-remove" },
      Z.el("span", { "aria-hidden": "true" }, "×"),
      Z.el("span", { class: "visually-hidden" }, `Remove ${zone.name}`));
    remove.addEventListener("click", () => {
      card.zones = card.zones.filter((z) => z.id !== zone.id);
      showChips(card);
      Z.say("conditions-status", `${zone.name} removed from condition ${number(card)}.`);
      card.zoneInput.focus();
    });
    return Z.el("li", { class: "chip", dataset: { zoneId: String(zone.id) } },
      Z.el("span", { class: "chip-name" }, zone.name), // no link: leaving would lose the form
      zone.category ? Z.el("span", { class: "chip-category" }, O.category(zone.category)) : null,
      remove);
  }

  function showChips(card) {
    Z.fill(card.chips, card.zones.map((z) => chip(card, z)));
    card.chips.hidden = !card.zones.length;
    card.noZones.hidden = card.zones.length > 0;
  }

  function number(card) {
    return cards.indexOf(card) + 1;
  }

  function renumber() {
    cards.forEach((card, i) => {
      const n = i + 1;
      Z.fill(card.heading, `Condition ${n}`);
      for (const node of card.node.querySelectorAll("[data-which]")) {
        node.textContent = ` (condition ${n})`;
      }
      card.up.disabled = i === 0;
      card.down.disabled = i === cards.length - 1;
      card.remove.disabled = cards.length === 1;
    });
  }

  /** "(condition n)" for a screen reader, where a name repeats in every condition. */
  function which(card) {
    const at = card ? cards.indexOf(card) : -1;
    return Z.el("span", { class: "visually-hidden", dataset: { which: "" } },
      at >= 0 ? ` (condition ${at + 1})` : "");
  }

  function move(card, by) {
    const from = cards.indexOf(card);
    const to = from + by;
    if (to < 0 || to >= cards.length) return;
    cards.splice(from, 1);
    cards.splice(to, 0, card);
    list.replaceChildren(...cards.map((c) => c.node));
    renumber();
    (by < 0 ? (card.up.disabled ? card.down : card.up) : (card.down.disabled ? card.up : card.down))
      .focus();
    Z.say("conditions-status", `Condition moved to place ${to + 1}.`);
  }

  function removeCard(card) {
    const at = cards.indexOf(card);
    cards.splice(at, 1);
    card.node.remove();
    renumber();
    const near = cards[Math.min(at, cards.length - 1)];
    if (near) near.text.focus();
    Z.say("conditions-status", card.clauseId
      ? "Condition removed: the new version leaves this clause out (earlier versions keep it)."
      : "Condition removed.");
  }

  function addCard(condition, zonesById) {
    const key = nextKey++;
    const id = (part) => `cond-${key}-${part}`;
    const card = {
      key,
      clauseId: condition ? condition.clause_id : null,
      zones: condition ? condition.zone_ids.map((zid) => {
        const f = zonesById && zonesById.get(zid);
        return f ? { id: zid, name: f.properties.name, category: f.properties.category }
          : { id: zid, name: `zone ${zid}`, category: null };
      }) : [],
    };
    card.heading = Z.el("h2", { id: id("heading"), class: "condition-heading" });
    card.up = Z.el("button", { type: "button", class: "secondary small" }, "Move up", which());
    card.down = Z.el("button", { type: "button", class: "secondary small" }, "Move down", which());
    card.remove = Z.el("button", { type: "button", class: "secondary small danger-outline" },
      "Remove", which());
    card.text = Z.el("textarea", { id: id("text"), rows: "3", maxlength: "4000",
      "aria-describedby": id("text-error") });
    card.text.value = condition ? condition.text : "";
    card.buffer = Z.el("input", { id: id("buffer"), type: "number", min: "0", max: "50000",
      step: "any", inputmode: "decimal", "aria-describedby": `${id("buffer-hint")} ${id("buffer-error")}` });
    card.buffer.value = condition ? String(condition.buffer_m) : "0";
    card.zoneInput = Z.el("input", { id: id("zone"), type: "text", role: "combobox",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id("options"),
      autocomplete: "off", spellcheck: "false", placeholder: "Part of a zone's name",
      "aria-describedby": `${id("zone-hint")} ${id("zones-error")}` });
    card.options = Z.el("ul", { id: id("options"), class: "options", role: "listbox",
      "aria-label": "Zones found", hidden: true });
    card.chips = Z.el("ul", { class: "chips", "aria-label": "Zones picked" });
    card.noZones = Z.el("p", { class: "warning small" },
      "No zones yet: this clause is judged against nothing until zones are picked here or "
      + "drawn on the order's page.");
    const label = () => which(card);
    card.schedule = S.editor(id("schedule"), condition ? condition.schedule : null, label);
    card.rules = S.rules(id("rules"), condition, label);
    card.spots = {
      card: Z.el("p", { class: "field-error", id: id("error") }),
      text: Z.el("p", { class: "field-error", id: id("text-error") }),
      buffer: Z.el("p", { class: "field-error", id: id("buffer-error") }),
      zones: Z.el("p", { class: "field-error", id: id("zones-error") }),
    };
    card.node = Z.el("li", { class: "condition-card", id: id("card"),
      "aria-labelledby": id("heading") },
      Z.el("div", { class: "condition-head" }, card.heading,
        Z.el("span", { class: "muted small" }, card.clauseId
          ? `clause ${condition.number} as recorded` : "new clause"),
        Z.el("span", { class: "card-actions" }, card.up, card.down, card.remove)),
      card.spots.card,
      Z.el("div", { class: "field" },
        Z.el("label", { for: id("text") }, "Clause text, word for word"), card.text,
        card.spots.text),
      Z.el("div", { class: "field buffer-field" },
        Z.el("label", { for: id("buffer") }, "Buffer (metres)"), card.buffer,
        Z.el("p", { class: "muted small", id: id("buffer-hint") },
          "For “not within 200 metres of …”, 200; otherwise 0."),
        card.spots.buffer),
      Z.el("div", { class: "field combo" },
        Z.el("label", { for: id("zone") }, "Add a zone from the library"), card.zoneInput,
        card.options),
      Z.el("p", { class: "muted small", id: id("zone-hint") },
        "Type part of a name, then pick with the arrow keys and Enter, or click."),
      card.chips, card.noZones, card.spots.zones,
      card.schedule.node, card.rules.node);
    card.up.addEventListener("click", () => move(card, -1));
    card.down.addEventListener("click", () => move(card, 1));
    card.remove.addEventListener("click", () => removeCard(card));
    picker(card);
    cards.push(card);
    list.append(card.node);
    showChips(card);
    renumber();
    return card;
  }

  // -- picking zones from the library ---------------------------------------------------------

  function picker(card) {
    const input = card.zoneInput;
    let found = [];
    let active = -1;
    let ticket = 0;

    function close() {
      card.options.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(i) {
      active = i;
      [...card.options.children].forEach((node, j) => {
        if (node.getAttribute("role") === "option") {
          node.setAttribute("aria-selected", j === i ? "true" : "false");
        }
      });
      const node = card.options.children[i];
      if (node && node.id) {
        input.setAttribute("aria-activedescendant", node.id);
        node.scrollIntoView({ block: "nearest" });
      }
    }

    function pick(i) {
      const feature = found[i];
      if (!feature) return;
      const p = feature.properties;
      if (!card.zones.some((z) => z.id === feature.id)) {
        card.zones.push({ id: feature.id, name: p.name, category: p.category });
        showChips(card);
        Z.say("conditions-status", `${p.name} added to condition ${number(card)}.`);
      }
      input.value = "";
      close();
      input.focus();
    }

    async function search() {
      const q = input.value.trim();
      const mine = ++ticket;
      if (!q) {
        close();
        return;
      }
      let answer;
      try {
        answer = await Z.api("GET", "/zones", undefined, { params: { q: q.slice(0, 100), limit: 8 } });
      } catch (err) {
        if (mine === ticket) Z.say("conditions-status", `The zone search failed: ${err.message}`, "error");
        return;
      }
      if (mine !== ticket || input.value.trim() !== q) return;
      found = answer.features;
      const picked = new Set(card.zones.map((z) => z.id));
      Z.fill(card.options, found.length ? found.map((f, i) => {
        const already = picked.has(f.id);
        const option = Z.el("li", { class: "option", role: "option", id: `cond-${card.key}-opt-${i}`,
          "aria-selected": "false", "aria-disabled": already ? "true" : null },
        Z.el("span", { class: "option-name" }, f.properties.name),
        Z.el("span", { class: "option-detail" },
          ` ${O.category(f.properties.category)}, zone ${f.id}${already ? ", already picked" : ""}`));
        option.addEventListener("mousedown", (e) => e.preventDefault()); // keep the focus
        option.addEventListener("click", () => pick(i));
        return option;
      }) : Z.el("li", { class: "option-none" }, "No zone's name contains that."));
      card.options.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
      if (found.length) highlight(0);
    }

    const later = O.debounce(search, 200);
    input.addEventListener("input", later);
    input.addEventListener("keydown", (e) => {
      const open = !card.options.hidden && found.length;
      if (e.key === "ArrowDown" && open) {
        e.preventDefault();
        highlight(Math.min(found.length - 1, active + 1));
      } else if (e.key === "ArrowUp" && open) {
        e.preventDefault();
        highlight(Math.max(0, active - 1));
      } else if (e.key === "Enter") {
        e.preventDefault(); // Enter here picks a zone; it never sends the form
        if (open && active >= 0) pick(active);
      } else if (e.key === "Escape" && !card.options.hidden) {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 150));
  }

  // -- sending --------------------------------------------------------------------------------

  function orDefault(value) {
    const text = value.trim();
    return text === "" ? null : text;
  }

  function body() {
    const status = document.querySelector("input[name=order-status]:checked");
    const out = {
      subject_id: subjectId,
      reference: $("order-reference").value.trim(),
      type: $("order-type").value,
      court: orDefault($("order-court").value),
      starts: $("order-starts").value || null,
      ends: $("order-ends").value || null,
      conditions: cards.map((card) => {
        const raw = card.buffer.value.trim();
        const condition = {
          text: card.text.value, // verbatim: as typed, line breaks and all
          zone_ids: card.zones.map((z) => z.id),
          buffer_m: raw === "" ? 0 : Number(raw),
          schedule: card.schedule.value(),
          ...card.rules.value().value,
        };
        if (card.clauseId) condition.clause_id = card.clauseId;
        return condition;
      }),
    };
    if (orderId) {
      out.reason = $("order-reason").value.trim();
      out.status = status ? status.value : "active";
    }
    return out;
  }

  /** What the browser can tell before asking: blank clauses, unreadable buffers. */
  function ownChecks() {
    const found = [];
    if (!$("order-reference").value.trim()) found.push({ field: "reference", message: "This is needed." });
    if (!$("order-starts").value) {
      found.push({ field: "starts", message: "Give the date the order is in force from." });
    } else if ($("order-ends").value && $("order-ends").value < $("order-starts").value) {
      found.push({ field: "ends", message: "The order cannot end before it is in force." });
    }
    cards.forEach((card, i) => {
      if (!card.text.value.trim()) {
        found.push({ field: `conditions[${i}].text`, message: "Give the clause, word for word." });
      }
      if (card.buffer.validity.badInput || Number(card.buffer.value) < 0) {
        found.push({ field: `conditions[${i}].buffer_m`, message: "Give a number of metres (0 or more)." });
      }
      for (const name of card.rules.value().bad) {
        found.push({ field: `conditions[${i}].${name}`, message: "Give a whole number." });
      }
    });
    if (orderId && $("order-reason").value.trim().length < 3) {
      found.push({ field: "reason", message: "Say why the order is changed (a few words at least)." });
    }
    return found;
  }

  const SIMPLE = { reference: "order-reference", type: "order-type", court: "order-court",
    starts: "order-starts", ends: "order-ends", reason: "order-reason", status: "order-status-active" };

  function locate(field) {
    const at = /^conditions\[(\d+)\](?:\.(\w+)(?:\[(\d+)\])?)?/.exec(field);
    if (at) {
      const card = cards[Number(at[1])];
      if (!card) return { input: null, spot: $("order-conditions-error") };
      const part = at[2];
      if (part === "text") return { input: card.text, spot: card.spots.text };
      if (part === "buffer_m") return { input: card.buffer, spot: card.spots.buffer };
      if (part === "schedule") {
        return card.schedule.locate(field.slice(at[0].length).replace(/^\./, ""));
      }
      const rule = part ? card.rules.locate(part) : null;
      if (rule) return rule;
      if (part === "zone_ids") {
        const zone = at[3] !== undefined ? card.zones[Number(at[3])] : null;
        if (zone) {
          const node = card.chips.querySelector(`[data-zone-id="${zone.id}"]`);
          if (node) node.classList.add("problem");
        }
        return { input: card.zoneInput, spot: card.spots.zones };
      }
      return { input: card.text, spot: card.spots.card };
    }
    if (field === "conditions") return { input: $("add-condition"), spot: $("order-conditions-error") };
    const name = field.split(/[.[]/)[0];
    if (SIMPLE[name] && $(SIMPLE[name])) {
      return { input: $(SIMPLE[name]), spot: $(`order-${name}-error`) };
    }
    return null;
  }

  function complain(found) {
    const first = O.showProblems(found, locate, $("order-form-error"));
    Z.say("order-status-line", "Not saved: see the problems marked above.", "error");
    (first || $("order-form-error")).focus();
  }

  async function save(event) {
    event.preventDefault();
    O.clearProblems(form);
    for (const node of form.querySelectorAll(".chip.problem")) node.classList.remove("problem");
    const own = ownChecks();
    if (own.length) {
      complain(own);
      return;
    }
    const button = $("order-save");
    button.disabled = true;
    Z.say("order-status-line", "Saving…");
    try {
      const saved = orderId
        ? await Z.api("PUT", `/orders/${orderId}`, body())
        : await Z.api("POST", "/orders", body());
      O.flashNext(orderId ? `Version ${saved.version} saved.` : `Order ${saved.reference} recorded.`);
      window.location.assign(`/orders/${saved.id}`);
    } catch (err) {
      complain(O.problems(err));
      button.disabled = false;
    }
  }

  // -- loading --------------------------------------------------------------------------------

  async function showSubject() {
    try {
      const s = await Z.api("GET", `/subjects/${subjectId}`);
      Z.fill($("order-form-subject"), "Subject: ",
        Z.el("a", { href: `/subjects/${subjectId}` }, `${s.reference} · ${s.name}`));
      Z.fill($("subject-link"), `${s.reference} · ${s.name}`);
    } catch (err) {
      Z.fill($("order-form-subject"), `Subject ${subjectId}`);
    }
  }

  async function load() {
    await showSubject();
    if (!orderId) {
      addCard(null);
      $("order-reference").focus();
      return;
    }
    loaded = await Z.api("GET", `/orders/${orderId}`);
    Z.fill($("order-form-heading"), `Edit ${O.orderName(loaded)}`);
    document.title = `Edit ${O.orderName(loaded)} · Exclusion zones`;
    $("order-reference").value = loaded.reference;
    $("order-type").value = loaded.type;
    $("order-court").value = loaded.court || "";
    $("order-starts").value = loaded.starts;
    $("order-ends").value = loaded.ends || "";
    const revoke = new URLSearchParams(location.search).get("revoke") === "1";
    $(revoke || loaded.status === "revoked" ? "order-status-revoked" : "order-status-active").checked = true;
    const zones = await O.zones(loaded.conditions.flatMap((c) => c.zone_ids));
    for (const c of loaded.conditions) addCard(c, zones);
    if (revoke) $("order-reason").focus();
  }

  $("add-condition").addEventListener("click", () => {
    const card = addCard(null);
    card.text.focus();
    Z.say("conditions-status", `Condition ${cards.length} added.`);
  });
  form.addEventListener("submit", save);
  load().catch((err) => Z.say("order-status-line", `The order cannot be loaded: ${err.message}`,
    "error"));
})();
