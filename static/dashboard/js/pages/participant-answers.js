// The participant's answers (read-only), their version history, and data-change requests.

import { post } from "../../../shared/api.js";
import { h } from "../../../shared/dom.js";
import { dialogForm, field, input, reasonField, select, values } from "../forms.js";
import { dateTime } from "../format.js";

function newValueControl(item) {
  if (item.type === "single_choice") {
    return field("New answer", select("new_value", item.options.map((o) => [o.code, `${o.code}: ${o.label}`]), ""));
  }
  if (item.type === "multi_choice") {
    return h("fieldset", {}, h("legend", {}, "New answer (every option that applies)"),
      item.options.map((o) => h("label", { class: "hint" },
        h("input", { type: "checkbox", name: "new_value_multi", value: o.code }), ` ${o.label}`, h("br"))));
  }
  return field("New answer", input("new_value", { type: "number", min: item.min, max: item.max, step: 1, required: true }),
    `${item.min} to ${item.max}${item.unit ? ` ${item.unit}` : ""}`);
}

function requestChange(response, answer, item) {
  return dialogForm({
    title: "Request a change to an answer",
    intro: `${response.assessment_code} · ${response.instrument_title}: "${answer.text}" is now ${answer.label}. `
      + "An investigator of the site approves or rejects the request; the answer as given is kept.",
    submitLabel: "Send request",
    fields: [
      newValueControl(item),
      reasonField("Why the answer should change"),
      field("Source", input("source", { required: true, maxlength: 200 }), "Where the correct value comes from, e.g. phone call with participant on 2 March, in source notes"),
    ],
    submit: (form) => {
      const v = values(form);
      let value;
      if (item.type === "multi_choice") {
        value = [...form.querySelectorAll("input[name=new_value_multi]:checked")].map((el) => el.value);
      } else {
        value = v.new_value === null ? null : Number(v.new_value);
      }
      return post("/api/v1/change-requests", { response_id: response.response_id, item_id: answer.item_id,
        new_value: value, reason: v.reason, source: v.source });
    },
  });
}

function scoresLine(response) {
  return response.scores.map((s) => `${s.label}: ${s.value === null ? `none (${s.reason})` : s.value}`).join(" · ");
}

function versionNote(r) {
  if (r.version === 1) return `Version 1, answered by the participant ${dateTime(r.submitted_at)}`;
  return `Version ${r.version}, changed ${dateTime(r.recorded_at)} by ${r.recorded_by}: ${r.change_reason} (source: ${r.change_source})`;
}

function responseBlock(current, older, instruments, canWrite, onChanged) {
  const items = instruments[current.instrument].items;
  return h("details", { id: `r-${current.response_id}`, "data-response": current.response_id },
    h("summary", {}, current.instrument_title,
      current.version > 1 ? h("span", { class: "changed" }, ` version ${current.version}, changed`) : null),
    h("p", { class: "history" }, versionNote(current)),
    h("p", {}, h("strong", {}, "Scores: "), scoresLine(current)),
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Question"), h("th", { scope: "col" }, "Answer"),
        canWrite ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Action")) : null)),
      h("tbody", {}, current.answers.map((a) => h("tr", { "data-item": a.item_id },
        h("td", {}, a.text),
        h("td", {}, a.label, a.changed_at ? h("span", { class: "changed" }, " changed") : null),
        canWrite ? h("td", {}, h("button", { type: "button", class: "link",
          "aria-label": `Request a change to "${a.text}"`,
          onclick: async () => { if (await requestChange(current, a, items[a.item_id])) onChanged("Change request sent for approval."); } },
        "Request change")) : null)))),
    older.length ? h("div", { class: "history" }, h("p", {}, h("strong", {}, "Earlier versions")),
      older.map((r) => h("details", { "data-version": r.version },
        h("summary", {}, versionNote(r)),
        h("p", {}, h("strong", {}, "Scores: "), scoresLine(r)),
        h("ul", {}, r.answers.filter((a) => a.value !== null).map((a) => h("li", {}, `${a.text.replace(/[.:]\s*$/, "")}: ${a.label}`)))))) : null);
}

export function answersSection(data, canWrite, onChanged) {
  const byAssessment = new Map();
  for (const r of data.responses) {
    if (!byAssessment.has(r.assessment_code)) byAssessment.set(r.assessment_code, new Map());
    const instruments = byAssessment.get(r.assessment_code);
    if (!instruments.has(r.instrument_code)) instruments.set(r.instrument_code, []);
    instruments.get(r.instrument_code).push(r); // newest version first
  }
  if (!byAssessment.size) return h("p", {}, "No answers yet.");
  return h("div", { class: "answers" }, [...byAssessment].map(([code, instruments]) => [
    h("h3", { id: `answers-${code}` }, `Survey ${code}`),
    [...instruments.values()].map((versions) =>
      responseBlock(versions[0], versions.slice(1), data.instruments, canWrite, onChanged))]));
}

// Deciding is an electronic signature (21 CFR 11.200): the password (and the authenticator
// code, when set up) entered again, with the meaning shown; the server records both.
const MEANINGS = { approve: "I approve this data change", reject: "I reject this data change" };

function signatureFields() {
  return [
    field("Your password", input("signature_password", { type: "password", required: true, autocomplete: "current-password" })),
    field("Authenticator code", input("signature_code", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 }),
      "Only if you set up a second factor"),
  ];
}

function signature(form, meaning) {
  const v = values(form);
  return { password: form.elements.signature_password.value, code: v.signature_code, meaning };
}

async function decide(change, approve, onChanged) {
  const meaning = approve ? MEANINGS.approve : MEANINGS.reject;
  const done = await dialogForm({
    title: approve ? "Approve the change" : "Reject the change",
    intro: `${change.subject_key} · ${change.assessment_code} · "${change.item_text}": ${change.old_label} → ${change.new_label}. `
      + `Asked by ${change.requested_by}: ${change.reason} (source: ${change.source}).`,
    submitLabel: approve ? "Sign and approve" : "Sign and reject",
    danger: !approve,
    fields: [approve ? field("Note (optional)", input("reason", { maxlength: 500 })) : reasonField("Why it is rejected"),
      h("p", { class: "meaning", "data-meaning": meaning }, h("strong", {}, "Electronic signature: "), `“${meaning}”`),
      signatureFields()],
    submit: (form) => post(`/api/v1/change-requests/${change.id}/${approve ? "approve" : "reject"}`,
      { reason: values(form).reason, signature: signature(form, meaning) }, { unauthorized: "throw" }),
  });
  if (done) onChanged(approve ? "Change approved: a new version was recorded and scores recomputed." : "Change rejected.");
}

export function changesTable(changes, onChanged, { showSubject = false } = {}) {
  if (!changes.length) return h("p", {}, "No change requests.");
  return h("div", { class: "table-wrap" }, h("table", { id: "changes" },
    h("thead", {}, h("tr", {}, [showSubject ? "Participant" : null, "Survey", "Question", "From", "To", "Reason and source",
      "Requested", "Status", "Decision"].filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, changes.map((c) => h("tr", { "data-change": c.id, "data-status": c.status },
      showSubject ? h("th", { scope: "row" }, h("a", { href: `/dashboard/participant.html?id=${c.participant_id}#changes` }, c.subject_key)) : null,
      h("td", {}, `${c.assessment_code} · ${c.instrument_code}`),
      h("td", {}, c.item_text),
      h("td", {}, c.old_label),
      h("td", {}, c.new_label),
      h("td", {}, `${c.reason} (source: ${c.source})`),
      h("td", {}, `${c.requested_by}, ${dateTime(c.requested_at)}`),
      h("td", {}, h("span", { class: `st st-${c.status === "approved" ? "on_time" : c.status === "rejected" ? "missed" : "open"}` }, c.status)),
      h("td", {}, c.can_decide
        ? h("span", { class: "actions" },
          h("button", { type: "button", onclick: () => decide(c, true, onChanged) }, "Approve…"),
          h("button", { type: "button", class: "secondary", onclick: () => decide(c, false, onChanged) }, "Reject…"))
        : c.decided_by ? `${c.decided_by}, ${dateTime(c.decided_at)}${c.decision_reason ? `: ${c.decision_reason}` : ""}` : "waiting"))))));
}
