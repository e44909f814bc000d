import { get, query } from "../../../shared/api.js";
import { $, h, replace } from "../../../shared/dom.js";
import { input, select } from "../forms.js";
import { NOT_REACHED, channelName, dateTime, messageStatus, messageText, messageTone, words } from "../format.js";
import { latestOnly, param, setParam, showError, startPage } from "../layout.js";

const PAGE_SIZE = 50;
const FILTERS = {
  status: ["pending", "sending", "sent", "delivered", "undelivered", "failed", "cancelled", "suppressed", "not_sent"],
  purpose: ["window_opened", "survey_reminder", "last_day", "visit_reminder_24h", "visit_reminder_1h",
    "visit_changed", "visit_cancelled", "help_reply", "opt_out_confirmation", "opt_in_confirmation"],
  channel: ["sms", "push", "email", "web"],
  needs_review: ["true", "false"],
};
const LABELS = { status: "Status", purpose: "Purpose", channel: "Channel", needs_review: "Needs review" };
const SHOW = [["", "What happened (newest first)"], ["true", "Still to go out (soonest first)"]];

// A day typed in the browser's date field, as the instant its local midnight starts.
function dayStart(value, plusDays = 0) {
  if (!value) return "";
  const d = new Date(`${value}T00:00`);
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}

let me = null;
let results = null;

function filters() {
  const out = {};
  for (const name of Object.keys(FILTERS)) if (param(name)) out[name] = param(name);
  for (const name of ["site", "subject_key", "upcoming"]) if (param(name)) out[name] = param(name);
  if (param("from")) out.since = dayStart(param("from"));
  if (param("to")) out.until = dayStart(param("to"), 1);
  return out;
}

function toolbar() {
  const controls = Object.entries(FILTERS).map(([name, options]) => {
    const label = name === "channel" ? channelName : words;
    const control = select(name, [["", "Any"], ...options.map((o) => [o, label(o)])], param(name), {
      id: `f-${name}`, onchange: () => { setParam(name, control.value); setParam("page", ""); load(); } });
    return h("p", { class: "filter" }, h("label", { for: `f-${name}` }, `${LABELS[name]} `), control);
  });
  const sites = me.role === "monitor" ? [] : me.sites;
  const site = sites.length > 1 ? select("site", [["", "All my sites"], ...sites.map((s) => [s.code, s.code])], param("site"), {
    id: "f-site", onchange: () => { setParam("site", site.value); load(); } }) : null;
  const changed = (name, control) => () => { setParam(name, control.value.trim()); setParam("page", ""); load(); };
  const show = select("upcoming", SHOW, param("upcoming"), { id: "f-upcoming" });
  show.onchange = changed("upcoming", show);
  const subject = input("subject_key", { id: "f-subject", value: param("subject_key") || "", autocomplete: "off", size: 9 });
  subject.onchange = changed("subject_key", subject);
  const from = input("from", { id: "f-from", type: "date", value: param("from") || "" });
  from.onchange = changed("from", from);
  const to = input("to", { id: "f-to", type: "date", value: param("to") || "" });
  to.onchange = changed("to", to);
  const csv = () => `/api/v1/messages.csv${query(filters())}`;
  const labelled = (id, text, control) => h("p", { class: "filter" }, h("label", { for: id }, `${text} `), control);
  return h("div", { class: "toolbar" },
    labelled("f-upcoming", "Show", show),
    site ? labelled("f-site", "Site", site) : null, controls,
    labelled("f-subject", "Participant", subject),
    labelled("f-from", "From", from), labelled("f-to", "To", to),
    h("a", { class: "button secondary", href: csv(), download: "message-log.csv",
      onclick: (event) => { event.currentTarget.href = csv(); } }, "Download CSV"));
}

// Why a message did not reach the participant, in words first ("phone unreachable or off
// (30003)", "push service refused: ...; sent by SMS instead"), else what it said; a message
// sent in place of one that could not deliver says so.
function outcome(m, byId) {
  let said;
  if (m.last_error_code) {
    said = m.error_meaning ? `${m.error_meaning} (${m.last_error_code})`
      : `${m.last_error_code}: ${m.last_error_message || m.status_reason || ""}`;
  } else if (NOT_REACHED.includes(m.status) && m.status_reason) {
    said = m.status_reason;
  } else {
    said = messageText(m.body_redacted) || m.status_reason || "";
  }
  if (!m.fallback_of_id) return said;
  const first = byId.get(m.fallback_of_id);
  const instead = `In place of the ${first ? channelName(first.channel).toLowerCase() : "message"} that could not be delivered`;
  return [h("strong", {}, instead), h("br"), said];
}

function messageTable(rows) {
  if (!rows.length) return h("p", {}, "No messages match.");
  const upcoming = param("upcoming") === "true";
  const byId = new Map(rows.map((m) => [m.id, m]));
  return h("div", { class: "table-wrap" }, h("table", { id: "messages" },
    h("thead", {}, h("tr", {}, [upcoming ? "Due" : "When", "Participant", "Site", "Sent", "Channel", "Purpose", "Status", "Attempts", "What happened or text"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((m) => h("tr", { "data-status": m.status, "data-channel": m.channel },
      h("td", {}, dateTime(upcoming ? m.due_at : m.event_at)),
      h("th", { scope: "row" }, h("a", { href: `/dashboard/participant.html?id=${m.participant_id}` }, m.subject_key)),
      h("td", {}, m.site_code),
      h("td", {}, m.sent_at ? dateTime(m.sent_at) : "—"),
      h("td", {}, channelName(m.channel)),
      h("td", {}, words(m.purpose)),
      h("td", {}, h("span", { class: `st st-${messageTone(m.status)}` },
        messageStatus(m.status)), m.needs_review ? h("span", { class: "flag" }, " review") : null),
      h("td", { class: "num" }, String(m.attempts)),
      h("td", {}, outcome(m, byId)))))));
}

function replyTable(rows) {
  if (!rows.length) return h("p", {}, "No replies.");
  return h("div", { class: "table-wrap" }, h("table", { id: "replies" },
    h("thead", {}, h("tr", {}, ["Participant", "Received", "Kind", "Text", "Review"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {},
      h("th", { scope: "row" }, r.participant_id ? h("a", { href: `/dashboard/participant.html?id=${r.participant_id}` }, r.subject_key) : "unknown number"),
      h("td", {}, dateTime(r.received_at)),
      h("td", {}, words(r.kind)),
      h("td", {}, r.body),
      h("td", {}, r.needs_review ? h("span", { class: "flag" }, "needs review") : r.reviewed_by ? `by ${r.reviewed_by}` : "—"))))));
}

const loads = latestOnly();

async function load() {
  const page = Number(param("page") || 1);
  const isLatest = loads();
  try {
    const [messages, replies] = await Promise.all([
      get(`/api/v1/messages${query({ ...filters(), page, page_size: PAGE_SIZE })}`),
      get(`/api/v1/inbound-messages${query({ site: param("site"), page_size: 20 })}`)]);
    if (!isLatest()) return;
    const pager = h("div", { class: "actions" },
      page > 1 ? h("button", { type: "button", class: "secondary", onclick: () => { setParam("page", page - 1); load(); } }, "Previous page") : null,
      messages.length === PAGE_SIZE ? h("button", { type: "button", class: "secondary", onclick: () => { setParam("page", page + 1); load(); } }, "Next page") : null);
    replace(results,
      h("h2", {}, `Messages, page ${page}`), messageTable(messages), pager,
      h("h2", {}, "Latest replies from participants"), replyTable(replies));
  } catch (error) {
    showError(results, error);
  }
}

me = await startPage("messages");
results = h("div", { id: "results" });
replace($("#content"), toolbar(), results);
await load();
