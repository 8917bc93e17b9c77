/* Find a subject: the table follows what is typed (part of a reference or a name). The
 * search stays in the address (?q=), so going back to the list finds the same subjects.
 */
"use strict";

(function () {
  const Z = window.Zones;
  const O = window.Officer;
  const $ = (id) => document.getElementById(id);
  const SHOWN = 200;
  const input = $("subject-search");
  let ticket = 0;

  function orders(s) {
    if (!s.orders) return Z.el("span", { class: "muted" }, "none");
    return `${s.orders} (${s.orders_in_force} in force)`;
  }

  function row(s) {
    return Z.el("tr", {},
      Z.el("td", {}, Z.el("a", { href: `/subjects/${s.id}` }, s.reference)),
      Z.el("td", {}, s.name),
      Z.el("td", {}, s.risk_level || Z.el("span", { class: "muted" }, "not assessed")),
      Z.el("td", {}, s.unit || ""),
      Z.el("td", {}, orders(s)));
  }

  async function search() {
    const q = input.value.trim();
    const mine = ++ticket;
    const url = new URL(location.href);
    if (q) url.searchParams.set("q", q);
    else url.searchParams.delete("q");
    history.replaceState(null, "", url);
    let found;
    try {
      found = await Z.api("GET", "/subjects", undefined,
        { params: { q: q.slice(0, 100), limit: SHOWN + 1 } });
    } catch (err) {
      if (mine === ticket) Z.say("subject-count", `The search failed: ${err.message}`, "error");
      return;
    }
    if (mine !== ticket) return; // a later search is on its way
    const more = found.length > SHOWN;
    const shown = found.slice(0, SHOWN);
    Z.fill($("subject-rows"), shown.length ? shown.map(row)
      : Z.el("tr", {}, Z.el("td", { colspan: "5", class: "muted" },
        q ? "No subject's reference or name contains that." : "No subjects recorded yet.")));
    const what = q ? `matching “${q}”` : "recorded";
    Z.say("subject-count", more
      ? `The first ${SHOWN} subjects ${what}: type more to narrow the list.`
      : `${shown.length} subject${shown.length === 1 ? "" : "s"} ${what}.`);
  }

  // What was typed before this script ran is kept; only a search in the address replaces it.
  const asked = new URLSearchParams(location.search).get("q");
  if (asked !== null && !input.value) input.value = asked;
  input.addEventListener("input", O.debounce(search, 200));
  search();
})();
