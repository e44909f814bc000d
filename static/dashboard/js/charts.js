// Charts drawn as inline SVG by our own code: stacked bars (overview), score trends, and the
// reports' weekly columns and box plots.
// Each chart has a title and a text summary for screen readers, and its numbers in a table.

import { h, s, uid } from "../../shared/dom.js";
import { BUCKET_LABELS, date, day, shortDate } from "./format.js";

// Round tick steps: 1, 2, 2.5, 5 times a power of ten, at most `count` intervals.
export function niceTicks(min, max, count = 5) {
  const span = max - min || 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(+v.toFixed(10));
  return ticks;
}

export function stackedBars({ rows, buckets, title, description }) {
  const width = 760;
  const barHeight = 22;
  const gap = 8;
  const left = 90;
  const right = 60;
  const top = 6;
  const height = top + rows.length * (barHeight + gap) + 4;
  const titleId = uid("bars-title");
  const descId = uid("bars-desc");
  const max = Math.max(1, ...rows.map((r) => buckets.reduce((sum, b) => sum + (r.counts[b] || 0), 0)));
  const scale = (width - left - right) / max;
  const svg = s("svg", { class: "bars", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-labelledby": `${titleId} ${descId}` },
  s("title", { id: titleId }, title),
  s("desc", { id: descId }, description));
  rows.forEach((row, i) => {
    const y = top + i * (barHeight + gap);
    svg.append(s("text", { x: left - 8, y: y + barHeight / 2 + 4, "text-anchor": "end" }, row.label));
    let x = left;
    let total = 0;
    for (const bucket of buckets) {
      const n = row.counts[bucket] || 0;
      total += n;
      if (!n) continue;
      const w = n * scale;
      svg.append(s("rect", { x, y, width: w, height: barHeight, class: `sw-${bucket}`, fill: BAR_FILL[bucket],
        stroke: "#ffffff", "stroke-width": 1 }, s("title", {}, `${row.label}: ${n} ${BUCKET_LABELS[bucket].toLowerCase()}`)));
      x += w;
    }
    svg.append(s("text", { x: x + 6, y: y + barHeight / 2 + 4 }, String(total)));
  });
  return svg;
}

const BAR_FILL = { on_time: "#2f855a", late: "#d69e2e", missed: "#c53030", open: "#2b6cb0", upcoming: "#cbd2d9",
  completed: "#2f855a" };

export function barKey(buckets, labels = BUCKET_LABELS) {
  return h("ul", { class: "key", "aria-hidden": "true" }, buckets.map((b) =>
    h("li", {}, h("span", { class: `swatch sw-${b}` }), labels[b])));
}

function timeTicks(t0, t1, count = 5) {
  const ticks = [];
  for (let i = 0; i <= count; i += 1) ticks.push(t0 + ((t1 - t0) * i) / count);
  return ticks;
}

function format(value) {
  return value === null || value === undefined ? "no score" : String(+Number(value).toFixed(2));
}

// One score over time, infusions marked. `series.points`: {at, value, reason, version, assessment_code}.
// `range` ([first, last] in ms) gives every chart of a page the same time axis.
export function trendChart(series, infusions, timeZone, range = null) {
  const width = 440;
  const height = 210;
  const m = { left: 40, right: 14, top: 22, bottom: 28 };
  const titleId = uid("trend-title");
  const descId = uid("trend-desc");
  const points = series.points.map((p) => ({ ...p, t: Date.parse(p.at) }));
  const valued = points.filter((p) => p.value !== null && p.value !== undefined);
  const marks = infusions.map((i) => ({ ...i, t: Date.parse(i.at) }));
  const times = range || [...points.map((p) => p.t), ...marks.map((i) => i.t)];
  const day = 86400000;
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (!times.length) { t0 = Date.now() - 30 * day; t1 = Date.now(); }
  if (t1 - t0 < 14 * day) { t0 -= 7 * day; t1 += 7 * day; }
  const pad = (t1 - t0) * 0.04;
  t0 -= pad; t1 += pad;
  const x = (t) => m.left + ((t - t0) / (t1 - t0)) * (width - m.left - m.right);
  const y = (v) => height - m.bottom - ((v - series.min) / (series.max - series.min)) * (height - m.top - m.bottom);

  const latest = valued.at(-1);
  const summary = valued.length
    ? `${valued.length} scores from ${date(valued[0].at, timeZone)} to ${date(latest.at, timeZone)}; `
      + `first ${format(valued[0].value)}, latest ${format(latest.value)} (${latest.assessment_code}). `
      + `${series.higher_is_better ? "Higher" : "Lower"} is better. ${marks.length} infusions marked.`
    : "No scores yet.";
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${titleId} ${descId}` },
    s("title", { id: titleId }, series.label),
    s("desc", { id: descId }, summary));

  for (const v of niceTicks(series.min, series.max, 5)) {
    svg.append(s("line", { class: "gridline", x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }),
      s("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, String(v)));
  }
  svg.append(s("line", { class: "axis", x1: m.left, x2: width - m.right, y1: height - m.bottom, y2: height - m.bottom }));
  for (const t of timeTicks(t0 + pad, t1 - pad, 4)) {
    svg.append(s("text", { x: x(t), y: height - 8, "text-anchor": "middle" }, shortDate(new Date(t).toISOString(), timeZone)));
  }
  for (const mark of marks) {
    svg.append(s("line", { class: "inf", x1: x(mark.t), x2: x(mark.t), y1: m.top - 4, y2: height - m.bottom }),
      s("text", { class: "inf-label", x: x(mark.t), y: m.top - 8, "text-anchor": "middle" }, `I${mark.number}`));
  }
  if (!valued.length) {
    svg.append(s("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "No scores yet"));
  }
  const path = valued.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  if (valued.length > 1) svg.append(s("path", { class: "line", d: path }));
  for (const p of valued) {
    const corrected = p.version > 1;
    svg.append(s("circle", { class: corrected ? "pt corrected" : "pt", cx: x(p.t), cy: y(p.value), r: corrected ? 5 : 3.5 },
      s("title", {}, `${p.assessment_code}, ${date(p.at, timeZone)}: ${format(p.value)}${corrected ? ` (corrected, version ${p.version})` : ""}`)));
  }

  const table = h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Date"), h("th", { scope: "col" }, "Survey"),
      h("th", { scope: "col", class: "num" }, "Score"))),
    h("tbody", {}, points.map((p) => h("tr", {},
      h("td", {}, date(p.at, timeZone)), h("td", {}, p.assessment_code),
      h("td", { class: "num", "data-code": p.assessment_code },
        p.value === null ? `none (${p.reason})` : format(p.value),
        p.version > 1 ? h("span", { class: "changed" }, ` corrected v${p.version}`) : null)))));
  return h("figure", { class: "chart", "data-series": `${series.instrument}.${series.key}` },
    h("figcaption", {}, series.label.replace(/^RAND-36: /, ""),
      series.unit ? h("span", { class: "hint" }, ` · ${series.unit}`) : null),
    svg,
    h("details", {}, h("summary", {}, "Values"), table));
}

function svgFrame(kind, width, height, title, description) {
  const titleId = uid(`${kind}-title`);
  const descId = uid(`${kind}-desc`);
  return s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${titleId} ${descId}` },
    s("title", { id: titleId }, title),
    s("desc", { id: descId }, description));
}

function yAxis(svg, ticks, y, left, right, format = String) {
  for (const v of ticks) {
    svg.append(s("line", { class: "gridline", x1: left, x2: right, y1: y(v), y2: y(v) }),
      s("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)));
  }
}

// Settled surveys per week as stacked columns (completed below, missed above), a column per
// week. `weeks`: [{week, starts}]; `rows`: week -> {completed, missed, due, rate_percent}.
export function weeklyColumns({ weeks, rows, title, description, width = 760, height = 230 }) {
  const m = { left: 40, right: 12, top: 14, bottom: 34 };
  const max = Math.max(1, ...weeks.map((w) => rows.get(w.week)?.due || 0));
  const ticks = niceTicks(0, max, Math.min(max, 5)).filter((v) => Number.isInteger(v));
  const top = Math.max(max, ticks.at(-1));
  const band = (width - m.left - m.right) / Math.max(1, weeks.length);
  const y = (v) => height - m.bottom - (v / top) * (height - m.top - m.bottom);
  const svg = svgFrame("weekly", width, height, title, description);
  yAxis(svg, ticks, y, m.left, width - m.right);
  svg.append(s("line", { class: "axis", x1: m.left, x2: width - m.right, y1: y(0), y2: y(0) }));
  const every = Math.ceil(weeks.length / Math.floor((width - m.left - m.right) / 56));
  weeks.forEach((w, i) => {
    const x = m.left + i * band;
    const r = rows.get(w.week);
    if (i % every === 0) {
      svg.append(s("text", { x: x + band / 2, y: height - m.bottom + 14, "text-anchor": "middle" }, day(w.starts).replace(/, \d{4}$/, "")),
        s("line", { class: "axis", x1: x + band / 2, x2: x + band / 2, y1: y(0), y2: y(0) + 4 }));
    }
    if (!r) return;
    const w0 = Math.max(2, band * 0.7);
    const x0 = x + (band - w0) / 2;
    const tip = `Week of ${day(w.starts)} (${w.week}): ${r.completed} completed, ${r.missed} missed of ${r.due} due`
      + (r.rate_percent === null ? "" : ` (${r.rate_percent}%)`);
    for (const [part, from, n] of [["completed", 0, r.completed], ["missed", r.completed, r.missed]]) {
      if (!n) continue;
      svg.append(s("rect", { x: x0, y: y(from + n), width: w0, height: y(from) - y(from + n), fill: BAR_FILL[part],
        class: `sw-${part}`, stroke: "#ffffff", "stroke-width": 1 }, s("title", {}, tip)));
    }
  });
  svg.append(s("text", { x: m.left, y: height - 4 }, "Week starting (Monday)"));
  return svg;
}

// One score's distribution per assessment: a box from Q1 to Q3, the median as a thick line,
// whiskers to the lowest and highest score, n under each assessment.
export function boxPlot(series, { width = 440, height = 230 } = {}) {
  const m = { left: 40, right: 12, top: 14, bottom: 44 };
  const items = series.assessments.filter((a) => a.n > 0);
  const band = (width - m.left - m.right) / Math.max(1, items.length);
  const y = (v) => height - m.bottom - ((v - series.scale_min) / (series.scale_max - series.scale_min)) * (height - m.top - m.bottom);
  const summary = items.length
    ? items.map((a) => `${a.assessment_code}: median ${format(a.median)}, quartiles ${format(a.q1)} to ${format(a.q3)}, `
      + `range ${format(a.low)} to ${format(a.high)}, n ${a.n}`).join(". ") + `. ${series.higher_is_better ? "Higher" : "Lower"} is better.`
    : "No scores yet.";
  const svg = svgFrame("box", width, height, series.label, summary);
  yAxis(svg, niceTicks(series.scale_min, series.scale_max, 5), y, m.left, width - m.right);
  svg.append(s("line", { class: "axis", x1: m.left, x2: width - m.right, y1: height - m.bottom, y2: height - m.bottom }));
  if (!items.length) svg.append(s("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "No scores yet"));
  items.forEach((a, i) => {
    const cx = m.left + (i + 0.5) * band;
    const half = Math.min(18, band * 0.32);
    const tip = `${a.assessment_code}: median ${format(a.median)}, Q1 ${format(a.q1)}, Q3 ${format(a.q3)}, `
      + `min ${format(a.low)}, max ${format(a.high)}, n ${a.n}`;
    svg.append(s("g", { class: "box", "data-code": a.assessment_code },
      s("title", {}, tip),
      s("line", { class: "whisker", x1: cx, x2: cx, y1: y(a.high), y2: y(a.q3) }),
      s("line", { class: "whisker", x1: cx, x2: cx, y1: y(a.q1), y2: y(a.low) }),
      s("line", { class: "whisker", x1: cx - half / 2, x2: cx + half / 2, y1: y(a.high), y2: y(a.high) }),
      s("line", { class: "whisker", x1: cx - half / 2, x2: cx + half / 2, y1: y(a.low), y2: y(a.low) }),
      s("rect", { class: "iqr", x: cx - half, y: y(a.q3), width: 2 * half, height: Math.max(1, y(a.q1) - y(a.q3)) }),
      s("line", { class: "median", x1: cx - half, x2: cx + half, y1: y(a.median), y2: y(a.median) })),
    s("text", { x: cx, y: height - m.bottom + 14, "text-anchor": "middle" }, a.assessment_code.replace("_", " ")),
    s("text", { class: "n", x: cx, y: height - m.bottom + 27, "text-anchor": "middle" }, `n ${a.n}`));
  });
  return svg;
}
