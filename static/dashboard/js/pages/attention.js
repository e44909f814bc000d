import { get, post, put, query } from "../../../shared/api.js";
import { $, h, replace } from "../../../shared/dom.js";
import { dialogForm, field, input, reasonField, select, values } from "../forms.js";
import { asOf, closes, dateTime, plural } from "../format.js";
import { errorText, notify, param, setParam, showError, siteFilter, startPage } from "../layout.js";
import { reminderQueued } from "./participant-actions.js";

let me = null;
let results = null;
let reasons = [];

function canWrite(item) {
  return (me.role === "coordinator" || me.role === "investigator")
    && me.sites.some((site) => site.code === item.site_code);
}

async function remindNow(item, button) {
  button.disabled = true;
  try {
    const result = await post(`/api/v1/participants/${item.participant_id}/remind-now`,
      { reason: `Attention list: ${item.detail}` });
    reminderQueued(item.subject_key, result);
  } catch (error) {
    notify(`${item.subject_key}: ${errorText(error)}`, "bad");
    button.disabled = false;
  }
}

async function resolveMessage(item) {
  const done = await dialogForm({
    title: `Resolve message for ${item.subject_key}`,
    intro: item.detail,
    submitLabel: "Resolve",
    fields: [
      field("What the provider's log shows", select("outcome", [["", "Not interrupted while sending"],
        ["sent", "It was sent"], ["not_sent", "It was not sent"], ["resend", "Send it again"]], ""),
      "Only for a message interrupted while sending"),
      reasonField(),
    ],
    submit: (form) => {
      const v = values(form);
      return post(`/api/v1/messages/${item.message_id}/resolve`, v.outcome ? v : { reason: v.reason });
    },
  });
  if (done) { notify(`Message for ${item.subject_key} resolved.`); load(); }
}

async function resolveReply(item) {
  const done = await dialogForm({
    title: `Reply from ${item.subject_key}`,
    intro: "Read the reply on the participant page before deciding. Stopping texts applies at once.",
    submitLabel: "Resolve",
    fields: [
      field("The participant asked to stop texts", h("input", { type: "checkbox", name: "apply_opt_out" })),
      reasonField(),
    ],
    submit: (form) => post(`/api/v1/inbound-messages/${item.message_id}/resolve`, values(form)),
  });
  if (done) { notify(`Reply from ${item.subject_key} resolved.`); load(); }
}

async function recordReason(item) {
  const done = await dialogForm({
    title: `Why ${item.subject_key} missed ${item.assessment_code}`,
    intro: `${item.detail}. Recording the reason takes it off this list; it shows on the grid and timeline and goes to the EDC.`,
    submitLabel: "Record reason",
    fields: [
      field("Reason", select("reason", reasons.map((r) => [r.code, r.label]), reasons[0]?.code, { required: true })),
      field("Other reason", input("text", { maxlength: 500, autocomplete: "off" }), "Only for “Other”"),
    ],
    submit: (form) => {
      const v = values(form);
      return put(`/api/v1/participants/${item.participant_id}/assessments/${item.assessment_code}/missed-reason`,
        v.reason === "other" ? { reason: v.reason, text: v.text } : { reason: v.reason });
    },
  });
  if (done) { notify(`${item.subject_key} ${item.assessment_code}: reason recorded.`); load(); }
}

function actionFor(item) {
  if (!canWrite(item)) return null;
  if (item.kind === "missed") {
    return h("button", { type: "button", class: "secondary", onclick: () => recordReason(item) }, "Record reason…");
  }
  if (item.kind === "closing_soon") {
    return h("button", { type: "button", class: "secondary", onclick: (e) => remindNow(item, e.currentTarget) },
      "Send reminder now");
  }
  if (item.kind === "message_review") {
    return h("button", { type: "button", class: "secondary", onclick: () => resolveMessage(item) }, "Resolve…");
  }
  if (item.kind === "possible_opt_out") {
    return h("button", { type: "button", class: "secondary", onclick: () => resolveReply(item) }, "Resolve…");
  }
  return null;
}

function section(kind, heading, action, items) {
  const id = `k-${kind}`;
  return h("section", { "aria-labelledby": id, "data-kind": kind },
    h("h2", { id }, heading, h("span", { class: "count" }, `(${items.length})`)),
    h("p", { class: "next" }, `Next step: ${action}`),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Participant", "Site", "What", "When", "Action"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, items.map((item) => h("tr", { "data-subject": item.subject_key },
        h("th", { scope: "row" }, h("a", { href: `/dashboard/participant.html?id=${item.participant_id}` }, item.subject_key)),
        h("td", {}, item.site_code),
        h("td", {}, item.detail),
        h("td", {}, item.at ? (item.kind === "closing_soon" ? closes(item.at, item.timezone) : dateTime(item.at, item.timezone)) : "—"),
        h("td", {}, actionFor(item) || h("a", { href: `/dashboard/participant.html?id=${item.participant_id}` }, "Open participant"))))))));
}

function render(data) {
  const byKind = Object.fromEntries(data.kinds.map((k) => [k.kind, []]));
  for (const item of data.items) byKind[item.kind].push(item);
  const present = data.kinds.filter((k) => byKind[k.kind].length);
  const clear = data.kinds.filter((k) => !byKind[k.kind].length);
  return [
    h("p", {}, `${plural(data.items.length, "item")} as of ${asOf(data.as_of)}.`),
    present.length ? present.map((k) => section(k.kind, k.heading, k.action, byKind[k.kind]))
      : h("p", { class: "all-clear" }, "Nothing needs attention right now."),
    present.length && clear.length ? h("p", { class: "checked", id: "checked" },
      `Also checked, nothing to do: ${clear.map((k) => k.heading).join("; ")}.`) : null,
  ];
}

async function load() {
  try {
    const data = await get(`/api/v1/dashboard/attention${query({ site: param("site") })}`);
    reasons = data.missed_reasons;
    if (!results) {
      results = h("div", { id: "results", class: "attention" });
      const csv = () => `/api/v1/dashboard/attention.csv${query({ site: param("site") })}`;
      replace($("#content"), h("div", { class: "toolbar" },
        siteFilter(data.site_choices, param("site"), (code) => { setParam("site", code); load(); }),
        h("a", { class: "button secondary", href: csv(), download: "attention-list.csv",
          onclick: (event) => { event.currentTarget.href = csv(); } }, "Download CSV")), results);
    }
    replace(results, render(data));
  } catch (error) {
    showError(results || $("#content"), error);
  }
}

me = await startPage("attention");
await load();
