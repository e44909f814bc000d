import { get, query } from "../../../shared/api.js";
import { barKey, stackedBars } from "../charts.js";
import { $, h, replace } from "../../../shared/dom.js";
import { BUCKET_LABELS, asOf, plural } from "../format.js";
import { param, setParam, showError, siteFilter, startPage } from "../layout.js";

function percent(counts) {
  return counts.completion_percent === null ? "–" : `${counts.completion_percent}%`;
}

function countsTable(caption, rows, buckets, firstHeader) {
  return h("div", { class: "table-wrap" }, h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, firstHeader),
      buckets.map((b) => h("th", { scope: "col", class: "num" }, BUCKET_LABELS[b])),
      h("th", { scope: "col", class: "num" }, "Completion"))),
    h("tbody", {}, rows.map((row) => h("tr", {},
      h("th", { scope: "row" }, row.label),
      buckets.map((b) => h("td", { class: "num", "data-bucket": b }, String(row.counts[b]))),
      h("td", { class: "num" }, percent(row.counts)))))));
}

function render(data) {
  const { buckets, totals } = data;
  const siteNames = data.sites.map((site) => site.code).join(" and ");
  const people = data.sites.reduce((n, site) => n + site.participants, 0);
  const byCode = data.assessments.map((a) => ({ label: a.code, counts: a.counts }));
  const leftOut = data.left_out.map((p) => `${p.subject_key} (${p.status})`).join(", ");
  return [
    h("p", { class: "lead" }, `${data.study.code}: ${plural(people, "participant")} with surveys at ${siteNames}. `
      + `As of ${asOf(data.as_of)}.`),
    leftOut ? h("p", { class: "hint", id: "left-out" }, `Not in the counts (no survey counted): ${leftOut}.`) : null,
    h("ul", { class: "cards", "aria-label": "Totals" },
      buckets.map((b) => h("li", { "data-bucket": b }, h("span", { class: "n" }, String(totals[b])), BUCKET_LABELS[b])),
      h("li", {}, h("span", { class: "n" }, percent(totals)), "Completion (done of due)")),
    h("h2", {}, "By assessment"),
    barKey(buckets),
    stackedBars({
      rows: byCode, buckets, title: "Surveys by assessment and status",
      description: byCode.map((r) => `${r.label}: ${buckets.map((b) => `${r.counts[b]} ${BUCKET_LABELS[b].toLowerCase()}`).join(", ")}`).join(". "),
    }),
    countsTable("Surveys by assessment", byCode, buckets, "Assessment"),
    h("h2", {}, "By site"),
    countsTable("Surveys by site", data.sites.map((site) => ({ label: `${site.code} · ${site.name} (${plural(site.participants, "participant")})`, counts: site.counts })), buckets, "Site"),
    data.sites.length < 2 ? null : data.sites.map((site) => h("details", { class: "card" },
      h("summary", {}, `${site.code}: each assessment`),
      countsTable(`${site.code} surveys by assessment`, site.assessments.map((a) => ({ label: a.code, counts: a.counts })), buckets, "Assessment"))),
  ];
}

let results = null;

async function load() {
  try {
    const data = await get(`/api/v1/dashboard/overview${query({ site: param("site") })}`);
    if (!results) {
      results = h("div", { id: "results" });
      replace($("#content"), h("div", { class: "toolbar" },
        siteFilter(data.site_choices, param("site"), (code) => { setParam("site", code); load(); })), results);
    }
    replace(results, render(data));
  } catch (error) {
    showError(results || $("#content"), error);
  }
}

await startPage("overview");
await load();
