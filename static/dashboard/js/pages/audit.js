// The audit trail, read-only: the chain's status first, then who did what, when and why, each
// change field by field with its reason and e-signature; filters and a CSV of the same.

import { get, getPage, query } from "../../../shared/api.js";
import { $, h, replace } from "../../../shared/dom.js";
import { input, select } from "../forms.js";
import { asOf, plural, words } from "../format.js";
import { latestOnly, param, setParam, showError, startPage } from "../layout.js";

const PAGE_SIZE = 50;
const FOLD_AFTER = 8; // changes with more fields than this start folded

let choices = null;
let results = null;

function filters() {
  const out = {};
  for (const name of ["site", "participant", "user", "action", "from", "to"]) {
    if (param(name)) out[name] = param(name);
  }
  return out;
}

async function showChain() {
  const box = $("#chain");
  try {
    const chain = await get("/api/v1/audit/chain");
    replace(box, h("p", { class: `chain ${chain.intact ? "ok" : "bad"}` },
      h("strong", {}, chain.intact ? "Tamper check passed" : "Tamper check FAILED"),
      ` (pro audit verify): ${chain.summary}`));
  } catch (error) {
    showError(box, error);
  }
}

function labelled(id, text, control) {
  return h("p", { class: "filter" }, h("label", { for: id }, `${text} `), control);
}

// Actions grouped by family: "every participant action" first, then each one.
function actionOptions(actions) {
  const families = new Map();
  for (const action of actions) {
    const family = action.split(".")[0];
    if (!families.has(family)) families.set(family, []);
    families.get(family).push(action);
  }
  return [h("option", { value: "" }, "Any"),
    [...families].map(([family, list]) => h("optgroup", { label: words(family) },
      h("option", { value: family, selected: param("action") === family }, `every ${words(family)} action`),
      list.map((a) => h("option", { value: a, selected: param("action") === a }, words(a.split(".")[1]))))),
  ];
}

function toolbar() {
  const refresh = (name, value) => { setParam(name, value); setParam("page", ""); load(); };
  const changed = (name, control) => () => refresh(name, control.value.trim());
  const site = choices.site_choices.length > 1 ? select("site", [["", "All my sites"],
    ...choices.site_choices.map((s) => [s.code, `${s.code} · ${s.name}`])], param("site"), { id: "f-site" }) : null;
  if (site) site.onchange = async () => { refresh("site", site.value); await start(); };
  const participant = input("participant", { id: "f-participant", value: param("participant"), autocomplete: "off", size: 9, placeholder: "GNV-001" });
  participant.onchange = changed("participant", participant);
  const user = select("user", [["", "Anyone"], ...choices.users.map((u) => [u.id, `${u.name} · ${u.role}`])], param("user"), { id: "f-user" });
  user.onchange = changed("user", user);
  const action = h("select", { name: "action", id: "f-action" }, actionOptions(choices.actions));
  action.onchange = changed("action", action);
  const from = input("from", { id: "f-from", type: "date", value: param("from") });
  from.onchange = changed("from", from);
  const to = input("to", { id: "f-to", type: "date", value: param("to") });
  to.onchange = changed("to", to);
  const csv = () => `/api/v1/audit/events.csv${query(filters())}`;
  return h("div", { class: "toolbar" },
    site ? labelled("f-site", "Site", site) : null,
    labelled("f-participant", "Participant", participant),
    labelled("f-user", "User", user),
    labelled("f-action", "Action", action),
    labelled("f-from", "From", from), labelled("f-to", "To", to),
    h("a", { class: "button secondary", href: csv(), download: "audit-trail.csv",
      onclick: (event) => { event.currentTarget.href = csv(); } }, "Download CSV"));
}

function shown(value) {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function changeList(changes) {
  if (!changes.length) return "—";
  const list = h("ul", { class: "diff" }, changes.map((c) => h("li", {},
    h("code", {}, c.field), " ",
    c.before === null || c.before === undefined ? null : [h("del", {}, shown(c.before)), " → "],
    h("ins", {}, shown(c.after)))));
  if (changes.length <= FOLD_AFTER) return list;
  return h("details", {}, h("summary", {}, plural(changes.length, "field")), list);
}

function signature(sig) {
  if (!sig) return "—";
  return h("span", { class: "signed" }, h("strong", {}, sig.name || "signed"),
    h("span", { class: "detail" }, `“${sig.meaning}”`),
    sig.signed_at ? h("span", { class: "detail" }, asOf(sig.signed_at, choices.timezone)) : null);
}

function when(iso) {
  // "2026-03-01T10:00:00-05:00" as "2026-03-01 10:00:00": the zone is named above the table.
  return h("time", { datetime: iso }, iso.slice(0, 19).replace("T", " "));
}

// "change_request.approve" as "change request · approve".
function actionName(action) {
  return action.split(".").map(words).join(" · ");
}

function subject(e) {
  const what = `${words(e.entity_type)}${e.entity_id ? ` ${e.entity_id}` : ""}`;
  return [e.participant ? h("strong", {}, e.participant) : null, e.participant ? " · " : null,
    e.site && !e.participant ? `${e.site} · ` : null, what];
}

function eventTable(rows) {
  if (!rows.length) return h("p", {}, "No events match.");
  return h("div", { class: "table-wrap" }, h("table", { id: "events", class: "audit" },
    h("thead", {}, h("tr", {}, ["When", "Who", "Action", "About", "Reason", "E-signature", "Changes"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((e) => h("tr", { "data-action": e.action },
      h("td", { class: "when" }, when(e.occurred_at_local), h("span", { class: "detail" }, `#${e.seq ?? "—"}`)),
      h("td", {}, e.who),
      h("th", { scope: "row" }, actionName(e.action)),
      h("td", {}, subject(e)),
      h("td", {}, e.reason || "—"),
      h("td", {}, signature(e.signature)),
      h("td", {}, changeList(e.changes)))))));
}

const loads = latestOnly();

async function load() {
  const page = Number(param("page") || 1);
  const isLatest = loads();
  try {
    const { items: rows, total } = await getPage(`/api/v1/audit/events${query({ ...filters(), page, page_size: PAGE_SIZE })}`);
    if (!isLatest()) return;
    const pager = h("div", { class: "actions" },
      page > 1 ? h("button", { type: "button", class: "secondary", onclick: () => { setParam("page", page - 1); load(); } }, "Previous page") : null,
      page * PAGE_SIZE < total ? h("button", { type: "button", class: "secondary", onclick: () => { setParam("page", page + 1); load(); } }, "Next page") : null);
    replace(results,
      h("h2", {}, `${plural(total, "event")}${total > PAGE_SIZE ? `, page ${page}` : ""}`),
      h("p", { class: "hint" }, `Times and days in ${choices.timezone} (the ${choices.timezone_of}'s time zone).`),
      eventTable(rows), pager);
  } catch (error) {
    if (isLatest()) showError(results, error);
  }
}

async function start() {
  choices = await get(`/api/v1/audit/filters${query({ site: param("site") })}`);
  results = h("div", { id: "results" });
  replace($("#content"), toolbar(), results);
  await load();
}

await startPage("audit");
showChain();
try {
  await start();
} catch (error) {
  showError($("#content"), error);
}
