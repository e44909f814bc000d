import { get, post, query } from "../../../shared/api.js";
import { $, h, replace } from "../../../shared/dom.js";
import { dialogForm, dropEmpty, field, input, remindersField, select, timezoneInput, values } from "../forms.js";
import { STATUS, asOf, cellKey, dateTime, day, plural } from "../format.js";
import { errorText, latestOnly, notify, param, setParam, showError, siteFilter, startPage } from "../layout.js";

const PARTICIPANT_STATUSES = [["enrolled", "Enrolled"], ["all", "All"], ["screening", "Screening"],
  ["completed", "Completed"], ["withdrawn", "Withdrawn"]];

function cellTitle(code, cell, tz) {
  const window = `window ${day(cell.first_day)} to ${day(cell.last_day)}`;
  const done = cell.completed_at ? `, answered ${dateTime(cell.completed_at, tz)}` : "";
  const why = cell.missed_reason ? ` (reason: ${cell.missed_reason})` : "";
  return `${code}: ${STATUS[cellKey(cell)].long}${why}${done} (${window})`;
}

function cellElement(row, code) {
  const cell = row.cells[code];
  if (!cell) return h("td", { class: "none" }, h("span", { "aria-label": "no survey" }, "—"));
  const key = cellKey(cell);
  const { symbol, text } = STATUS[key];
  return h("td", { class: `st-${key}`, "data-code": code, "data-status": key },
    h("a", { href: `/dashboard/participant.html?id=${row.participant_id}#a-${code}`, title: cellTitle(code, cell, row.timezone) },
      `${symbol} ${text}`,
      cell.missed_reason ? h("span", { class: "why" }, cell.missed_reason) : null));
}

function legend() {
  return h("ul", { class: "legend", "aria-label": "Legend" }, Object.entries(STATUS).map(([key, s]) =>
    h("li", {}, h("span", { class: `st st-${key}` }, `${s.symbol} ${s.text}`), ` ${s.long}`)),
  h("li", {}, h("span", { class: "st" }, "—"), " Not planned yet (no infusion date)"));
}

function rowElement(row, codes, multiSite) {
  return h("tr", { "data-subject": row.subject_key },
    h("th", { scope: "row" }, h("a", { href: `/dashboard/participant.html?id=${row.participant_id}` }, row.subject_key),
      row.status !== "enrolled" ? h("span", { class: "hint" }, ` (${row.status})`) : null),
    multiSite ? h("td", {}, row.site_code) : null,
    codes.map((code) => cellElement(row, code)));
}

// The first page, then a page more at each "Load more" (the server filters and pages).
function table(data) {
  const multiSite = data.site_choices.length > 1;
  const body = h("tbody", {});
  const count = h("p", { id: "grid-count", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "secondary", id: "load-more" });
  let shown = 0;
  let next = null;
  const add = (page) => {
    body.append(...page.rows.map((row) => rowElement(row, data.codes, multiSite)));
    shown += page.rows.length;
    next = page.next;
    replace(count, `${shown === page.total ? plural(page.total, "participant") : `${shown} of ${plural(page.total, "participant")} shown`}. As of ${asOf(data.as_of)}.`);
    replace(more, `Load ${Math.min(PAGE, page.total - shown)} more`);
    more.hidden = !next;
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      add(await get(gridUrl({ after: next })));
    } catch (error) {
      notify(errorText(error), "error");
    } finally {
      more.disabled = false;
    }
  });
  add(data);
  return [
    count,
    h("div", { class: "table-wrap" }, h("table", { class: "grid", id: "grid" },
      h("caption", { class: "visually-hidden" }, "Survey status by participant and assessment"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Participant"),
        multiSite ? h("th", { scope: "col" }, "Site") : null,
        data.codes.map((code) => h("th", { scope: "col" }, code)))),
      body)),
    h("p", { class: "more" }, more),
  ];
}

async function enrolDialog(me) {
  const reminders = await remindersField();
  const sites = me.sites;
  const zone = timezoneInput(sites[0]?.timezone || "America/New_York");
  let zoneTouched = false;
  zone[0].addEventListener("input", () => { zoneTouched = true; });
  const site = select("site_code", sites.map((s) => [s.code, `${s.code} · ${s.name}`]), sites[0]?.code, {
    onchange: () => { if (!zoneTouched) zone[0].value = sites.find((s) => s.code === site.value)?.timezone || zone[0].value; } });
  return dialogForm({
    title: "Enrol a participant",
    submitLabel: "Enrol",
    wide: true,
    fields: [
      field("Subject key", input("subject_key", { required: true, autocomplete: "off" }), "As on the site's screening log, e.g. GNV-007"),
      field("Site", site),
      field("Language", select("language", [["en", "English"], ["es", "Spanish"]], "en")),
      field("Time zone", zone, "The site's zone unless the participant lives elsewhere; type to search"),
      field("Mobile phone", input("phone", { type: "tel", autocomplete: "off" }), "e.g. (352) 555-0177 or +13525550177; needed for texts"),
      field("Email", input("email", { type: "email", autocomplete: "off" })),
      reminders,
      field("SMS consent", h("input", { type: "checkbox", name: "consent" }), "Consent to survey texts is recorded"),
      field("Where consent was recorded", input("consent_source"), "e.g. ICF v3 signed at screening visit"),
      field("Enrolment date", input("enrolled_on", { type: "date" }), "Leave empty for today"),
    ],
    submit: async (form) => {
      const v = values(form);
      const body = dropEmpty({
        subject_key: v.subject_key, site_code: v.site_code, language: v.language, timezone: v.timezone,
        phone: v.phone, email: v.email, enrolled_on: v.enrolled_on,
        reminder_channels: v.reminder_channels.split(","),
        sms_consent: v.consent ? dropEmpty({ given: true, source: v.consent_source }) : null,
      });
      return post("/api/v1/participants", body);
    },
  });
}

// Rows per page: 100, or the page's ?per= (1 to 500).
const PAGE = Math.min(Math.max(Number.parseInt(param("per"), 10) || 100, 1), 500);
const statusParam = () => (param("status") === "all" ? "" : param("status") || "enrolled");
const filters = () => ({ site: param("site"), status: statusParam(), q: param("q") });
const gridUrl = (extra = {}) => `/api/v1/dashboard/grid${query({ ...filters(), limit: PAGE, ...extra })}`;
let results = null;
const loads = latestOnly();

async function load() {
  const isLatest = loads();
  try {
    const data = await get(gridUrl());
    if (!isLatest()) return; // the filters changed while this page was on its way
    if (!results) {
      results = h("div", { id: "results" });
      replace($("#content"), toolbar(me, data.site_choices), legend(), results);
    }
    replace(results, table(data));
  } catch (error) {
    showError(results || $("#content"), error);
  }
}

function toolbar(me, choices) {
  const status = select("status", PARTICIPANT_STATUSES, param("status") || "enrolled", { id: "status-filter",
    onchange: () => { setParam("status", status.value); load(); } });
  let typing = null;
  const search = input("search", { id: "search", type: "search", value: param("q"), oninput: () => {
    clearTimeout(typing);
    typing = setTimeout(() => { setParam("q", search.value.trim()); load(); }, 250);
  } });
  const csv = () => `/api/v1/dashboard/grid.csv${query(filters())}`;
  const canEnrol = me.role === "coordinator" || me.role === "investigator";
  return h("div", { class: "toolbar" },
    siteFilter(choices, param("site"), (code) => { setParam("site", code); load(); }),
    h("p", { class: "filter" }, h("label", { for: "status-filter" }, "Participants "), status),
    h("p", { class: "filter" }, h("label", { for: "search" }, "Find subject "), search),
    h("a", { class: "button secondary", href: csv(), download: "participant-grid.csv",
      onclick: (event) => { event.currentTarget.href = csv(); } }, "Download CSV"),
    canEnrol ? h("button", { type: "button", onclick: async () => {
      const p = await enrolDialog(me);
      if (p) location.assign(`/dashboard/participant.html?id=${p.id}`);
    } }, "Enrol participant") : null);
}

const me = await startPage("grid");
await load();
