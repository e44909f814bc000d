import { get } from "../../../shared/api.js";
import { trendChart } from "../charts.js";
import { $, h, replace } from "../../../shared/dom.js";
import { activityLine, providerSaid } from "../activity.js";
import { EMAIL_FLAGS, NOT_REACHED, STATUS, channelsText, closes, date, dateTime, day, messageStatus, messageText, messageTone, plural, words } from "../format.js";
import { notify, param, showError, startPage } from "../layout.js";
import * as act from "./participant-actions.js";
import { answersSection, changesTable } from "./participant-answers.js";

const id = Number(param("id"));

function fact(label, ...value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, ...value));
}

function smsState(p) {
  if (p.sms_opted_out_at) return h("span", { class: "flag" }, `opted out ${date(p.sms_opted_out_at, p.timezone)}`);
  if (p.phone_flag) return h("span", { class: "flag" }, `number flagged: ${words(p.phone_flag)}`);
  return p.sms_consent ? "consented" : "no consent";
}

// The surveys open now and when each closes: what to chase today.
function surveysNow(tl) {
  const open = openSurveys(tl);
  if (!open.length) return "none open";
  return open.map((e) => h("span", { class: `st st-${e.status} block` },
    `${STATUS[e.status].symbol} ${e.ref.code} ${STATUS[e.status].text}, closes ${closes(e.ref.window_end, tl.timezone)}`));
}

// How many of the participant's devices take push notifications, when push is chosen or on.
function devices(p) {
  const n = p.push_devices || 0;
  if (!n && !(p.reminder_channels || []).includes("push")) return null;
  return ` (${n ? `${plural(n, "device")} with notifications on` : "no device has notifications on"})`;
}

// Whether email can reach the participant, when email is chosen or was stopped.
function emailState(p) {
  if (p.email_flag) return ` (no more email: ${EMAIL_FLAGS[p.email_flag] || p.email_flag})`;
  if (!(p.reminder_channels || []).includes("email")) return null;
  return p.has_email ? null : " (no email address)";
}

function facts(p, tl) {
  return h("dl", { class: "facts" },
    fact("Site", p.site_code),
    fact("Status", p.status, p.withdrawal_reason ? ` (${p.withdrawal_reason})` : ""),
    fact("Surveys now", surveysNow(tl)),
    fact("Enrolled on", p.enrolled_on || "—"),
    fact("Language", p.language === "es" ? "Spanish" : "English"),
    fact("Time zone", p.timezone),
    fact("Phone", p.phone || p.phone_masked || "none"),
    fact("Texts", smsState(p)),
    fact("Daily reminder", p.reminder_time),
    fact("Reminders by", channelsText(p.reminder_channels), devices(p), emailState(p)),
    fact("Protocol version", p.protocol_version || "—"));
}

function button(label, onclick, cls = "secondary") {
  return h("button", { type: "button", class: cls, onclick }, label);
}

// Runs a dialog; when it returns something, says so and reloads the page's data. Without a
// message of its own, a text the dialog returns is the message.
function then(action, message) {
  return async () => {
    const result = await action();
    if (result) {
      if (message || typeof result === "string") notify(message || result);
      await load();
    }
  };
}

const openSurveys = (tl) => tl.events.filter((e) => e.kind === "assessment" && ["open", "in_progress"].includes(e.status));

// "Send reminder now" with nothing open is shown disabled, with the reason beside it.
function remindButton(p, tl) {
  if (openSurveys(tl).length) return button("Send reminder now", then(() => act.remindNow(p)));
  return h("span", { class: "disabled-action" },
    h("button", { type: "button", class: "secondary", disabled: true, "aria-describedby": "remind-why" }, "Send reminder now"),
    h("span", { class: "hint", id: "remind-why" }, " No survey is open, so there is nothing to remind about."));
}

function actions(ctx) {
  const { p, schedule, tl } = ctx;
  if (p.status === "withdrawn") return null;
  const enrolled = p.status === "enrolled";
  return h("div", { class: "actions", role: "group", "aria-label": "Actions" },
    button("Edit contact, language, time zone", then(() => act.editContact(p), "Participant updated.")),
    enrolled ? button("Record or correct an infusion", then(() => act.recordInfusion(p, schedule))) : null,
    enrolled ? button("Schedule a visit", then(() => act.scheduleVisit(p), "Visit scheduled.")) : null,
    enrolled ? remindButton(p, tl) : null,
    enrolled ? button("Issue a new link", then(() => act.issueLink(p))) : null,
    button("Revoke links", then(() => act.revokeLinks(p))),
    button("Withdraw…", then(() => act.withdraw(p), "Participant withdrawn."), "danger"));
}

function scheduleSection(ctx) {
  const { p, schedule, canWrite } = ctx;
  const open = canWrite && p.status === "enrolled";
  return [
    h("h3", {}, "Infusions"),
    h("div", { class: "table-wrap" }, h("table", { id: "infusions" },
      h("thead", {}, h("tr", {}, ["Infusion", "Planned", "Status", "Given (local)", "Note", ...(open ? ["Action"] : [])]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, schedule.infusions.map((i) => h("tr", { "data-number": i.number },
        h("th", { scope: "row" }, `${i.number} · ${i.label}`),
        h("td", {}, i.planned_date || "—"),
        h("td", {}, words(i.status)),
        h("td", {}, i.given_at_local ? i.given_at_local.replace("T", " ").slice(0, 16) : "—"),
        h("td", {}, i.reason || ""),
        open ? h("td", {}, button(i.status === "planned" ? "Record" : "Correct",
          then(() => act.recordInfusion(p, schedule, i.number)), "link")) : null))))),
    h("h3", {}, "Virtual visits"),
    schedule.visits.length ? h("div", { class: "table-wrap" }, h("table", { id: "visits" },
      h("thead", {}, h("tr", {}, ["When (local)", "By", "Status", "Note", ...(open ? ["Action"] : [])].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, schedule.visits.map((v) => h("tr", { "data-visit": v.id },
        h("td", {}, dateTime(v.starts_at_utc, p.timezone)),
        h("td", {}, v.mode),
        h("td", {}, v.status),
        h("td", {}, v.cancel_reason || v.note || ""),
        open ? h("td", {}, v.status === "scheduled" ? h("span", { class: "actions" },
          button("Reschedule", then(() => act.rescheduleVisit(p, v), "Visit rescheduled."), "link"),
          button("Cancel", then(() => act.cancelVisit(p, v), "Visit cancelled."), "link")) : "") : null)))))
      : h("p", {}, "No visits scheduled."),
  ];
}

function eventStatus(e) {
  if (e.kind === "assessment") {
    const key = e.ref.projected ? "expected" : e.status;
    return h("span", { class: `st st-${key}` }, `${STATUS[key].symbol} ${STATUS[key].text}`);
  }
  if (e.kind === "message") {
    return [h("span", { class: `st st-${messageTone(e.status)}` }, messageStatus(e.status)),
      e.ref.needs_review ? h("span", { class: "flag" }, " needs review") : null];
  }
  if (e.kind === "reply" && e.status === "needs review") return h("span", { class: "flag" }, "needs review");
  return e.status ? h("span", { class: "st st-upcoming" }, words(e.status)) : null;
}

// When a text arrived or failed, then why it did not arrive as the provider said ("phone
// unreachable or off (30003)"), else its redacted text or why it was not sent.
function messageDetail(e, timeZone) {
  const when = e.status === "delivered" && e.ref.delivered_at ? `Delivered ${dateTime(e.ref.delivered_at, timeZone)}`
    : ["failed", "undelivered"].includes(e.status) ? `${e.status === "failed" ? "Failed" : "Not delivered"} ${dateTime(e.ref.status_at, timeZone)}`
      : null;
  const why = !e.ref.error_code ? (NOT_REACHED.includes(e.status) && e.ref.status_reason) || messageText(e.detail)
    : e.ref.error_meaning ? providerSaid(e.ref)
    : `error ${e.ref.error_code}${e.ref.status_reason ? `: ${e.ref.status_reason}` : ""}`;
  return [when, why].filter(Boolean).join(" · ");
}

const KINDS = { assessment: "Surveys", infusion: "Infusions", visit: "Visits", message: "Messages",
  activity: "Activity", reply: "Replies", change: "Data changes", enrolment: "Enrolment", withdrawal: "Withdrawal" };
const hiddenKinds = new Set();

function timelineItems(tl) {
  const items = [];
  let nowShown = false;
  const now = () => h("li", { class: "now", id: "now" }, h("time", {}, dateTime(tl.as_of, tl.timezone)), h("span", { class: "kind" }, "now"),
    h("span", {}, "Now"));
  for (const e of tl.events) {
    if (hiddenKinds.has(e.kind)) continue;
    if (!nowShown && e.at > tl.as_of) { items.push(now()); nowShown = true; }
    const when = e.all_day ? date(e.at, tl.timezone) : dateTime(e.at, tl.timezone);
    const extra = e.kind === "assessment"
      ? `Window ${day(e.ref.first_day)} to ${day(e.ref.last_day)}`
        + (e.ref.completed_at ? `; answered ${dateTime(e.ref.completed_at, tl.timezone)}` : "")
        + (e.ref.missed_reason ? `; missed: ${e.ref.missed_reason}` : "")
      : e.kind === "message" ? messageDetail(e, tl.timezone) : e.detail;
    const did = e.kind === "assessment" && e.ref.activity?.length
      ? h("span", { class: "detail activity" }, activityLine(e.ref.activity, tl.timezone)) : null;
    items.push(h("li", { id: e.kind === "assessment" ? `a-${e.ref.code}` : null, class: `k-${e.kind}`, "data-kind": e.kind },
      h("time", { datetime: e.at }, when), h("span", { class: "kind" }, KINDS[e.kind] || e.kind),
      h("span", {}, `${e.title} `, eventStatus(e), extra ? h("span", { class: "detail" }, extra) : null, did)));
  }
  if (!nowShown) items.push(now());
  return items;
}

function timelineSection(tl) {
  const list = h("ol", { class: "timeline", id: "timeline" }, timelineItems(tl));
  const box = h("div", { class: "timeline-box", tabindex: "0", role: "region", "aria-label": "Timeline events" }, list);
  const present = [...new Set(tl.events.map((e) => e.kind))];
  const toggles = h("fieldset", { class: "toggles" }, h("legend", {}, "Show"),
    present.map((kind) => h("label", {}, h("input", { type: "checkbox", checked: !hiddenKinds.has(kind),
      onchange: (event) => {
        if (event.currentTarget.checked) hiddenKinds.delete(kind); else hiddenKinds.add(kind);
        replace(list, timelineItems(tl));
      } }), ` ${KINDS[kind] || kind}`)));
  requestAnimationFrame(() => {
    const mark = list.querySelector("#now");
    if (mark && !location.hash) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 2);
  });
  return [toggles, box];
}

const CHART_GROUPS = [
  ["Pain, disease activity and function", ["pain_nrs", "ptga_vas", "haq_di"]],
  ["PROMIS Global Health", ["promis_gh"]],
  ["RAND-36 scales", ["rand36"]],
];

function chartGroups(trends, timeZone) {
  if (!trends.series.some((s) => s.points.length)) return h("p", {}, "No scores yet.");
  const times = [...trends.series.flatMap((s) => s.points.map((pt) => pt.at)), ...trends.infusions.map((i) => i.at)]
    .map((t) => Date.parse(t));
  const range = times.length ? [Math.min(...times), Math.max(...times)] : null;
  return CHART_GROUPS.map(([title, instruments]) => [
    h("h3", {}, title),
    h("div", { class: "charts" }, trends.series.filter((s) => instruments.includes(s.instrument))
      .map((s) => trendChart(s, trends.infusions, timeZone, range)))]);
}

function section(idName, title, ...body) {
  return h("section", { id: idName, "aria-labelledby": `${idName}-h` }, h("h2", { id: `${idName}-h` }, title), ...body);
}

async function load() {
  const content = $("#content");
  try {
    const base = `/api/v1/participants/${id}`;
    const [p, schedule, tl, trends, answers, changes] = await Promise.all([
      get(base), get(`${base}/schedule`), get(`${base}/timeline`), get(`${base}/trends`),
      get(`${base}/responses`), get(`/api/v1/change-requests?participant_id=${id}`)]);
    const canWrite = tl.access.write;
    const ctx = { p, schedule, tl, canWrite };
    document.title = `${p.subject_key} · Study dashboard`;
    replace($("#title"), `Participant ${p.subject_key}`);
    const onChanged = async (message) => { notify(message); await load(); };
    replace(content,
      facts(p, tl),
      canWrite ? actions(ctx) : h("p", { class: "hint" }, "Read-only access."),
      section("schedule", "Schedule", scheduleSection(ctx)),
      section("trends", "Score trends",
        h("p", { class: "hint" }, "Current scores by survey date; I1 to I6 mark infusions. A hollow point is a corrected score."),
        chartGroups(trends, p.timezone)),
      section("history", "Timeline", timelineSection(tl)),
      section("answers", "Answers", h("p", { class: "hint" }, "Answers are as the participant gave them. A change needs a request approved by an investigator of the site; earlier versions are kept."),
        answersSection(answers, canWrite && p.status !== "screening", onChanged)),
      section("changes", "Data change requests", changesTable(changes, onChanged)));
    if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  } catch (error) {
    showError(content, error);
  }
}

await startPage("participant");
await load();
