/* When a condition applies, as a part of the order form: "at all times" (no schedule) or a
 * schedule of weekly windows on the local wall clock of an IANA time zone, with dated
 * exceptions (typed, or read from an iCalendar file such as GOV.UK's bank holidays) and
 * optional first and last dates. Also the condition's warning ring and stay rules.
 *
 * The JSON given in (what the API returned) comes back out unchanged unless the officer
 * changes it, so an edit keeps what it does not touch. The server decides what is valid;
 * its refusal names a place (schedule.windows[1].start) that locate() turns into the input
 * and the spot to write the message next to.
 */
"use strict";

window.OfficerSchedule = (function () {
  const Z = window.Zones;
  const DEFAULT_TZ = "Europe/London";
  const DAYS = [["mon", "Mon", "Monday"], ["tue", "Tue", "Tuesday"], ["wed", "Wed", "Wednesday"],
    ["thu", "Thu", "Thursday"], ["fri", "Fri", "Friday"], ["sat", "Sat", "Saturday"],
    ["sun", "Sun", "Sunday"]];
  const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"];
  const RULES = {
    warning_m: 0, confirm_fixes: 1, confirm_seconds: 0, clear_fixes: 1, clear_seconds: 0,
    silence_minutes: 15,
  };
  let zoneList = null;

  /** The time zones the browser knows, for the time zone field's suggestions (once a page). */
  function timeZones() {
    if (zoneList) return zoneList.id;
    let names = [DEFAULT_TZ];
    try {
      if (Intl.supportedValuesOf) names = Intl.supportedValuesOf("timeZone");
    } catch (err) { /* an old browser: Europe/London alone is offered */ }
    zoneList = Z.el("datalist", { id: "schedule-time-zones" },
      names.map((name) => Z.el("option", { value: name })));
    document.body.append(zoneList);
    return zoneList.id;
  }

  function errorSpot(id) {
    return Z.el("p", { class: "field-error", id, "aria-live": "polite" });
  }

  function hidden(text) {
    return Z.el("span", { class: "visually-hidden" }, text);
  }

  /**
   * The "when it applies" part of one condition. ``prefix`` makes ids unique; ``label(text)``
   * gives a visually hidden "(condition n)" to add to names that repeat across conditions.
   */
  function editor(prefix, schedule, label) {
    const id = (part) => `${prefix}-${part}`;
    const windows = [];
    const exceptions = [];
    let keys = 0;
    const self = {};

    const always = Z.el("input", { type: "radio", name: id("when"), id: id("always"), value: "always" });
    const timed = Z.el("input", { type: "radio", name: id("when"), id: id("timed"), value: "timed" });
    const tz = Z.el("input", { type: "text", id: id("tz"), list: timeZones(), autocomplete: "off",
      spellcheck: "false", maxlength: "64", "aria-describedby": `${id("tz-hint")} ${id("tz-error")}` });
    const fromDate = Z.el("input", { type: "date", id: id("from"), "aria-describedby": id("from-error") });
    const untilDate = Z.el("input", { type: "date", id: id("until"), "aria-describedby": id("until-error") });
    const windowList = Z.el("ol", { class: "window-list" });
    const exceptionList = Z.el("ol", { class: "exception-list" });
    const noExceptions = Z.el("p", { class: "muted small" }, "No dated exceptions.");
    const file = Z.el("input", { type: "file", id: id("ics"), accept: ".ics,text/calendar",
      "aria-describedby": `${id("ics-hint")} ${id("ics-error")}` });
    const status = Z.el("p", { class: "status-line", role: "status", id: id("status") });
    const spots = {
      schedule: errorSpot(id("error")),
      timezone: errorSpot(id("tz-error")),
      from_date: errorSpot(id("from-error")),
      until_date: errorSpot(id("until-error")),
      windows: errorSpot(id("windows-error")),
      exceptions: errorSpot(id("exceptions-error")),
      ics: errorSpot(id("ics-error")),
    };
    const addWindowButton = Z.el("button", { type: "button", class: "secondary small" },
      "Add a weekly window", label(""));
    const addExceptionButton = Z.el("button", { type: "button", class: "secondary small" },
      "Add a dated exception", label(""));

    const body = Z.el("div", { class: "schedule-body", id: id("body") },
      Z.el("div", { class: "field tz-field" },
        Z.el("label", { for: id("tz") }, "Time zone", label("")), tz,
        Z.el("p", { class: "muted small", id: id("tz-hint") },
          "A tz database name. Windows are local wall-clock times there, so 08:00 stays 08:00 "
          + "when the clocks change."),
        spots.timezone),
      Z.el("fieldset", { class: "windows-box" },
        Z.el("legend", {}, "Weekly windows", label("")),
        Z.el("p", { class: "muted small" },
          "An end at or before the start runs past midnight into the next day (22:00 to 06:00)."),
        windowList, spots.windows, addWindowButton),
      Z.el("fieldset", { class: "exceptions-box" },
        Z.el("legend", {}, "Dated exceptions: days on which no window starts", label("")),
        noExceptions, exceptionList, spots.exceptions,
        Z.el("div", { class: "exception-actions" }, addExceptionButton,
          Z.el("div", { class: "field file-field" },
            Z.el("label", { for: id("ics") }, "Import from an iCalendar file (.ics)", label("")),
            file,
            Z.el("p", { class: "muted small", id: id("ics-hint") },
              "Each event becomes an exception, e.g. the bank holidays file from gov.uk."),
            spots.ics)),
        status),
      Z.el("div", { class: "field-row" },
        Z.el("div", { class: "field" },
          Z.el("label", { for: id("from") }, "Starts applying on ",
            Z.el("span", { class: "muted" }, "(optional)"), label("")), fromDate, spots.from_date),
        Z.el("div", { class: "field" },
          Z.el("label", { for: id("until") }, "Stops applying after ",
            Z.el("span", { class: "muted" }, "(optional)"), label("")),
          untilDate, spots.until_date)));

    self.node = Z.el("fieldset", { class: "schedule-box", id: id("box") },
      Z.el("legend", {}, "When it applies", label("")),
      Z.el("div", { class: "when-choice" },
        Z.el("span", { class: "choice" }, always, Z.el("label", { for: id("always") }, "At all times")),
        Z.el("span", { class: "choice" }, timed,
          Z.el("label", { for: id("timed") }, "Only at set times (a weekly schedule)"))),
      spots.schedule, body);

    function showMode() {
      body.hidden = !timed.checked;
    }

    // -- weekly windows -----------------------------------------------------------------------

    function renumberWindows() {
      windows.forEach((w, i) => {
        w.legend.replaceChildren(`Window ${i + 1}`, label(""));
        w.remove.disabled = windows.length === 1;
        w.remove.replaceChildren(`Remove window ${i + 1}`, label(""));
      });
    }

    function addWindow(data) {
      const key = ++keys;
      const wid = (part) => id(`w${key}-${part}`);
      const w = { key };
      const days = new Set(data ? data.days : WEEKDAYS);
      w.days = DAYS.map(([value, short, long]) => Z.el("input", { type: "checkbox", id: wid(value), value,
        checked: days.has(value), title: long }));
      w.start = Z.el("input", { type: "time", id: wid("start"), required: true,
        "aria-describedby": wid("start-error") });
      w.end = Z.el("input", { type: "time", id: wid("end"), required: true,
        "aria-describedby": `${wid("end-hint")} ${wid("end-error")}` });
      w.start.value = data ? data.start : "08:00";
      w.end.value = data ? (data.end === "24:00" ? "00:00" : data.end) : "16:00";
      w.spots = { days: errorSpot(wid("days-error")), start: errorSpot(wid("start-error")),
        end: errorSpot(wid("end-error")), window: errorSpot(wid("error")) };
      w.legend = Z.el("legend", {});
      w.remove = Z.el("button", { type: "button", class: "secondary small danger-outline" });
      const overnight = Z.el("p", { class: "muted small", id: wid("end-hint") });
      const note = () => {
        overnight.textContent = w.start.value && w.end.value && w.end.value <= w.start.value
          ? (w.end.value === "00:00" ? "Until midnight." : "Ends the next day.") : "";
      };
      w.start.addEventListener("input", note);
      w.end.addEventListener("input", note);
      note();
      w.node = Z.el("li", {}, Z.el("fieldset", { class: "window-box" }, w.legend,
        Z.el("fieldset", { class: "days-box", "aria-describedby": wid("days-error") },
          Z.el("legend", {}, "Days"),
          Z.el("div", { class: "day-choices" }, DAYS.map(([value, short], i) => Z.el("span", { class: "choice" },
            w.days[i], Z.el("label", { for: wid(value) }, short)))),
          w.spots.days),
        Z.el("div", { class: "window-times" },
          Z.el("div", { class: "field" }, Z.el("label", { for: wid("start") }, "Starts at"), w.start,
            w.spots.start),
          Z.el("div", { class: "field" }, Z.el("label", { for: wid("end") }, "Ends at"), w.end,
            overnight, w.spots.end),
          w.remove),
        w.spots.window));
      w.remove.addEventListener("click", () => {
        const at = windows.indexOf(w);
        windows.splice(at, 1);
        w.node.remove();
        renumberWindows();
        windows[Math.min(at, windows.length - 1)].start.focus();
        Z.say(status, `Window ${at + 1} removed.`);
      });
      windows.push(w);
      windowList.append(w.node);
      renumberWindows();
      return w;
    }

    // -- dated exceptions ---------------------------------------------------------------------

    function renumberExceptions() {
      exceptions.forEach((x, i) => {
        for (const node of x.node.querySelectorAll("[data-nth]")) node.textContent = ` (exception ${i + 1})`;
      });
      noExceptions.hidden = exceptions.length > 0;
    }

    function addException(data) {
      const key = ++keys;
      const xid = (part) => id(`x${key}-${part}`);
      const nth = () => Z.el("span", { class: "visually-hidden", dataset: { nth: "" } });
      const x = { key };
      x.first = Z.el("input", { type: "date", id: xid("first"), "aria-describedby": xid("first-error") });
      x.last = Z.el("input", { type: "date", id: xid("last"), "aria-describedby": xid("last-error") });
      x.label = Z.el("input", { type: "text", id: xid("label"), maxlength: "200", autocomplete: "off",
        "aria-describedby": xid("label-error") });
      x.first.value = data ? data.first_day : "";
      x.last.value = data ? data.last_day : "";
      x.label.value = data ? data.label || "" : "";
      // A one-day exception: the last day follows the first until it is set apart.
      x.first.addEventListener("change", () => {
        if (!x.last.value || x.last.value < x.first.value) x.last.value = x.first.value;
      });
      x.spots = { first_day: errorSpot(xid("first-error")), last_day: errorSpot(xid("last-error")),
        label: errorSpot(xid("label-error")), row: errorSpot(xid("error")) };
      x.remove = Z.el("button", { type: "button", class: "secondary small danger-outline" }, "Remove",
        nth(), label(""));
      x.node = Z.el("li", { class: "exception-row" },
        Z.el("div", { class: "field" }, Z.el("label", { for: xid("first") }, "First day", nth()), x.first,
          x.spots.first_day),
        Z.el("div", { class: "field" }, Z.el("label", { for: xid("last") }, "Last day", nth()), x.last,
          x.spots.last_day),
        Z.el("div", { class: "field grow" }, Z.el("label", { for: xid("label") }, "What it is", nth()),
          x.label, x.spots.label),
        x.remove, x.spots.row);
      x.remove.addEventListener("click", () => {
        const at = exceptions.indexOf(x);
        exceptions.splice(at, 1);
        x.node.remove();
        renumberExceptions();
        const near = exceptions[Math.min(at, exceptions.length - 1)];
        (near ? near.first : addExceptionButton).focus();
        Z.say(status, `Exception ${at + 1} removed.`);
      });
      exceptions.push(x);
      exceptionList.append(x.node);
      renumberExceptions();
      return x;
    }

    async function importFile() {
      const chosen = file.files && file.files[0];
      spots.ics.textContent = "";
      file.removeAttribute("aria-invalid");
      if (!chosen) return;
      Z.say(status, `Reading ${chosen.name}…`);
      let found;
      try {
        found = await Z.api("POST", "/schedules/exceptions", { icalendar: await chosen.text() });
      } catch (err) {
        spots.ics.textContent = `${chosen.name} cannot be read: ${err.message}`;
        file.setAttribute("aria-invalid", "true");
        Z.say(status, "Nothing imported.", "error");
        return;
      }
      const have = new Set(exceptions.map((x) => `${x.first.value}|${x.last.value}|${x.label.value}`));
      let added = 0;
      for (const e of found) {
        const k = `${e.first_day}|${e.last_day}|${e.label}`;
        if (have.has(k)) continue;
        have.add(k);
        addException(e);
        added += 1;
      }
      const already = found.length - added;
      Z.say(status, `${added} exception${added === 1 ? "" : "s"} added from ${chosen.name}`
        + (already ? ` (${already} already listed).` : "."), "ok");
      file.value = "";
    }

    // -- in and out ---------------------------------------------------------------------------

    self.value = function () {
      if (!timed.checked) return null;
      return {
        timezone: tz.value.trim(),
        windows: windows.map((w) => ({
          days: DAYS.filter((d, i) => w.days[i].checked).map((d) => d[0]),
          start: w.start.value,
          end: w.end.value,
        })),
        exceptions: exceptions.map((x) => ({
          first_day: x.first.value, last_day: x.last.value, label: x.label.value.trim(),
        })),
        from_date: fromDate.value || null,
        until_date: untilDate.value || null,
      };
    };

    /** The input and message spot for a place under ``schedule`` (e.g. "windows[1].start"). */
    self.locate = function (rest) {
      if (!rest) return { input: timed.checked ? tz : always, spot: spots.schedule };
      const w = /^windows\[(\d+)\](?:\.(\w+)(?:\[(\d+)\])?)?/.exec(rest);
      if (w) {
        const win = windows[Number(w[1])];
        if (!win) return { input: addWindowButton, spot: spots.windows };
        if (w[2] === "days") {
          const box = w[3] !== undefined ? win.days[Number(w[3])] : null;
          return { input: box || win.days[0], spot: win.spots.days };
        }
        if (w[2] === "start" || w[2] === "end") return { input: win[w[2]], spot: win.spots[w[2]] };
        return { input: win.start, spot: win.spots.window };
      }
      const x = /^exceptions\[(\d+)\](?:\.(\w+))?/.exec(rest);
      if (x) {
        const row = exceptions[Number(x[1])];
        if (!row) return { input: addExceptionButton, spot: spots.exceptions };
        const inputs = { first_day: row.first, last_day: row.last, label: row.label };
        if (inputs[x[2]]) return { input: inputs[x[2]], spot: row.spots[x[2]] };
        return { input: row.first, spot: row.spots.row };
      }
      const name = rest.split(/[.[]/)[0];
      const simple = { timezone: tz, from_date: fromDate, until_date: untilDate,
        windows: addWindowButton, exceptions: addExceptionButton };
      if (simple[name]) return { input: simple[name], spot: spots[name] };
      return { input: tz, spot: spots.schedule };
    };

    self.spots = spots;

    // -- start --------------------------------------------------------------------------------

    always.addEventListener("change", showMode);
    timed.addEventListener("change", () => {
      showMode();
      if (timed.checked && !windows.length) addWindow(null);
    });
    addWindowButton.addEventListener("click", () => {
      const w = addWindow(null);
      w.days[0].focus();
      Z.say(status, `Window ${windows.length} added.`);
    });
    addExceptionButton.addEventListener("click", () => {
      addException(null).first.focus();
      Z.say(status, `Exception ${exceptions.length} added.`);
    });
    file.addEventListener("change", importFile);

    tz.value = (schedule && schedule.timezone) || DEFAULT_TZ;
    fromDate.value = (schedule && schedule.from_date) || "";
    untilDate.value = (schedule && schedule.until_date) || "";
    if (schedule) {
      for (const w of schedule.windows || []) addWindow(w);
      for (const e of schedule.exceptions || []) addException(e);
    }
    (schedule ? timed : always).checked = true;
    renumberExceptions();
    showMode();
    return self;
  }

  // -- the warning ring and the stay rules ------------------------------------------------------

  function isDefault(condition) {
    return !condition || (!condition.tag_required &&
      Object.entries(RULES).every(([k, v]) => (condition[k] ?? v) === v));
  }

  /** The warning ring and the rules that make a stay an alert and end it. */
  function rules(prefix, condition, label) {
    const id = (part) => `${prefix}-${part}`;
    const self = { inputs: {}, spots: {} };
    function number(name, text, hint, min, max) {
      const input = Z.el("input", { type: "number", id: id(name), min: String(min), max: String(max),
        step: name === "warning_m" ? "any" : "1", inputmode: name === "warning_m" ? "decimal" : "numeric",
        "aria-describedby": `${hint ? id(`${name}-hint`) : ""} ${id(`${name}-error`)}`.trim() });
      const value = condition && condition[name] !== undefined ? condition[name] : RULES[name];
      input.value = String(value);
      self.inputs[name] = input;
      self.spots[name] = errorSpot(id(`${name}-error`));
      return Z.el("div", { class: "field rule-field" },
        Z.el("label", { for: id(name) }, text, label("")), input,
        hint ? Z.el("p", { class: "muted small", id: id(`${name}-hint`) }, hint) : null,
        self.spots[name]);
    }
    const summary = Z.el("summary", {}, "Warning ring and stay rules; working tag", label(""));
    self.tag = Z.el("input", { type: "checkbox", id: id("tag_required") });
    self.tag.checked = Boolean(condition && condition.tag_required);
    self.node = Z.el("details", { class: "rules-box", open: !isDefault(condition) }, summary,
      number("warning_m", "Warning ring (metres beyond the buffer)",
        "Stays in this ring are warnings, not breaches; 0 for none.", 0, 50000),
      Z.el("fieldset", { class: "rule-row" },
        Z.el("legend", {}, "A stay becomes an alert after"),
        number("confirm_fixes", "Fixes inside", null, 1, 1000),
        number("confirm_seconds", "and seconds inside", "0: at once.", 0, 86400)),
      Z.el("fieldset", { class: "rule-row" },
        Z.el("legend", {}, "A stay ends after"),
        number("clear_fixes", "Clear fixes in a row", null, 1, 1000),
        number("clear_seconds", "or seconds clear", "0: by the count alone.", 0, 86400)),
      Z.el("fieldset", { class: "rule-row" },
        Z.el("legend", {}, "Working tag"),
        Z.el("div", { class: "field rule-field" }, self.tag, " ",
          Z.el("label", { for: id("tag_required") }, "The clause requires a working tag", label(""))),
        number("silence_minutes", "Minutes without a fix before a communication-loss alert",
          null, 1, 10080)));

    /** The rules as numbers (a blank is the default), and what cannot be read as one. */
    self.value = function () {
      const out = {};
      const bad = [];
      for (const [name, fallback] of Object.entries(RULES)) {
        const input = self.inputs[name];
        const raw = input.value.trim();
        if (input.validity.badInput) bad.push(name);
        out[name] = raw === "" ? fallback : Number(raw);
      }
      out.tag_required = self.tag.checked;
      return { value: out, bad };
    };

    self.locate = function (name) {
      if (!self.inputs[name]) return null;
      self.node.open = true;
      return { input: self.inputs[name], spot: self.spots[name] };
    };
    return self;
  }

  return { editor, rules, DAYS };
})();
