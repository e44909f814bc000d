// Study-wide reports: settled surveys week by week (all sites and each site), and each score's
// distribution per assessment. Every chart has its numbers in a table and a CSV behind it.

import { get, query } from "../../../shared/api.js";
import { barKey, boxPlot, weeklyColumns } from "../charts.js";
import { $, h, replace } from "../../../shared/dom.js";
import { asOf, day } from "../format.js";
import { param, setParam, showError, siteFilter, startPage } from "../layout.js";

const PARTS = { completed: "Completed", missed: "Missed" };

function rate(row) {
  return row.rate_percent === null ? "–" : `${row.rate_percent}%`;
}

function num(value) {
  return value === null || value === undefined ? "–" : String(+Number(value).toFixed(2));
}

function downloadLink(path, name) {
  const url = () => `${path}${query({ site: param("site") })}`;
  return h("a", { class: "button secondary", href: url(), download: name,
    onclick: (event) => { event.currentTarget.href = url(); } }, "Download CSV");
}

function weekTable(caption, weeks, byWeek) {
  const settled = weeks.filter((w) => byWeek.has(w.week));
  return h("div", { class: "table-wrap" }, h("table", { class: "weekly" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {},
      ["Week", "Starts"].map((t) => h("th", { scope: "col" }, t)),
      ["Due", "Completed", "Missed", "Rate"].map((t) => h("th", { scope: "col", class: "num" }, t)))),
    h("tbody", {}, settled.length ? settled.map((w) => {
      const r = byWeek.get(w.week);
      return h("tr", { "data-week": w.week },
        h("th", { scope: "row" }, w.week), h("td", {}, day(w.starts)),
        h("td", { class: "num" }, String(r.due)), h("td", { class: "num" }, String(r.completed)),
        h("td", { class: "num" }, String(r.missed)), h("td", { class: "num" }, rate(r)));
    }) : h("tr", {}, h("td", { colspan: 6 }, "Nothing due yet.")))));
}

function totals(byWeek) {
  const sum = { due: 0, completed: 0, missed: 0 };
  for (const r of byWeek.values()) for (const k of Object.keys(sum)) sum[k] += r[k];
  return sum;
}

function weeklyFigure(data, series, code, wide) {
  const byWeek = new Map(data.rows.filter((r) => r.site_code === series.site && r.assessment_code === (code || null))
    .map((r) => [r.week, r]));
  const sum = totals(byWeek);
  const what = code || "all assessments";
  const headline = sum.due
    ? `${sum.completed} of ${sum.due} due completed (${Math.round((100 * sum.completed) / sum.due)}%), ${sum.missed} missed`
    : "nothing due yet";
  const title = `${series.label}: ${what} by week`;
  const chart = weeklyColumns({ weeks: data.weeks, rows: byWeek, title, width: wide ? 760 : 440,
    description: `${headline}. ${[...byWeek.values()].map((r) => `${r.week}: ${r.completed} of ${r.due}`).join("; ")}` });
  const table = weekTable(`${series.label}, ${what}: settled surveys by week`, data.weeks, byWeek);
  return h("figure", { class: wide ? "chart wide" : "chart", "data-site": series.site || "all" },
    h("figcaption", {}, series.label, h("span", { class: "hint" }, ` · ${headline}`)),
    chart,
    wide ? table : h("details", {}, h("summary", {}, "Values"), table));
}

function renderCompletion(data, code) {
  const single = data.sites.length === 1;
  const all = { site: null, label: single ? `${data.sites[0].code} · ${data.sites[0].name}` : "All sites" };
  const select = h("select", { id: "assessment-filter", onchange: () => { setParam("assessment", select.value); load(); } },
    h("option", { value: "" }, "All assessments"),
    data.codes.map((c) => h("option", { value: c, selected: c === code }, c)));
  return [
    h("div", { class: "toolbar" },
      h("p", { class: "filter" }, h("label", { for: "assessment-filter" }, "Assessment "), select),
      downloadLink("/api/v1/dashboard/reports/completion.csv", "completion-by-week.csv")),
    barKey(Object.keys(PARTS), PARTS),
    weeklyFigure(data, all, code, true),
    single ? null : h("div", { class: "charts wide-cards" },
      data.sites.map((site) => weeklyFigure(data, { site: site.code, label: `${site.code} · ${site.name}` }, code, false))),
    h("p", { class: "hint" }, `${data.rule} As of ${asOf(data.as_of)}.`),
  ];
}

function scoreFigure(series) {
  const rows = series.assessments;
  return h("figure", { class: "chart", "data-series": `${series.instrument}.${series.key}` },
    h("figcaption", {}, series.label.replace(/^RAND-36: /, ""),
      h("span", { class: "hint" }, `${series.instrument === "rand36" ? " · RAND-36" : ""}${series.unit ? ` · ${series.unit}` : ""}`
        + ` · ${series.higher_is_better ? "higher" : "lower"} is better`)),
    boxPlot(series),
    h("div", { class: "table-wrap" }, h("table", {},
      h("caption", {}, `${series.label} per assessment`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Assessment"),
        ["n", "Median", "Q1", "Q3", "Min", "Max", "Unscored"].map((t) => h("th", { scope: "col", class: "num" }, t)))),
      h("tbody", {}, rows.length ? rows.map((a) => h("tr", { "data-code": a.assessment_code },
        h("th", { scope: "row" }, a.assessment_code),
        [a.n, a.median, a.q1, a.q3, a.low, a.high, a.not_scored].map((v, i) =>
          h("td", { class: "num" }, i === 0 || i === 6 ? String(v) : num(v)))))
        : h("tr", {}, h("td", { colspan: 8 }, "No scores yet."))))));
}

function renderScores(data) {
  return [
    h("div", { class: "toolbar" }, downloadLink("/api/v1/dashboard/reports/scores.csv", "score-distributions.csv")),
    h("p", { class: "hint" }, "Boxes span the first to third quartile, the thick line is the median, whiskers reach the "
      + "lowest and highest score; n is the number of participants scored."),
    h("div", { class: "charts wide-cards" }, data.series.map(scoreFigure)),
    h("p", { class: "hint" }, `${data.rule} As of ${asOf(data.as_of)}.`),
  ];
}

let sections = null;

async function load() {
  const site = param("site");
  try {
    const [completion, scores] = await Promise.all([
      get(`/api/v1/dashboard/reports/completion${query({ site })}`),
      get(`/api/v1/dashboard/reports/scores${query({ site })}`),
    ]);
    const code = completion.codes.includes(param("assessment")) ? param("assessment") : "";
    if (!sections) {
      sections = { completion: h("div", { id: "completion" }), scores: h("div", { id: "scores" }) };
      replace($("#content"),
        h("div", { class: "toolbar" }, siteFilter(completion.site_choices, site, (c) => { setParam("site", c); load(); })),
        h("h2", {}, "Completion by week"),
        h("p", { class: "lead" }, "Surveys whose window closed each week: completed or missed."),
        sections.completion,
        h("h2", {}, "Scores by assessment"),
        h("p", { class: "lead" }, "Each score across participants, per assessment."),
        sections.scores);
    }
    replace(sections.completion, renderCompletion(completion, code));
    replace(sections.scores, renderScores(scores));
  } catch (error) {
    showError(sections ? sections.completion : $("#content"), error);
  }
}

await startPage("reports");
await load();
