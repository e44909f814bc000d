// What staff can do to a participant, each a small dialog over the staff API.

import { patch, post, put } from "../../../shared/api.js";
import { h } from "../../../shared/dom.js";
import {
  dialogForm, dropEmpty, field, input, reasonField, remindersField, select, textarea, timezoneInput,
  values,
} from "../forms.js";
import { localInput, plural } from "../format.js";
import { notify } from "../layout.js";

const base = (p) => `/api/v1/participants/${p.id}`;

export async function editContact(p) {
  return dialogForm({
    title: `Contact and preferences of ${p.subject_key}`,
    fields: [
      field("Mobile phone", input("phone", { type: "tel", value: p.phone || "", autocomplete: "off" }), "e.g. (352) 555-0177 or +13525550177; empty removes the number"),
      field("Email", input("email", { type: "email", value: p.email || "", autocomplete: "off" })),
      field("Language", select("language", [["en", "English"], ["es", "Spanish"]], p.language)),
      field("Time zone", timezoneInput(p.timezone), "IANA name, e.g. America/New_York; type to search"),
      field("Daily reminder time", input("reminder_time", { type: "time", value: p.reminder_time })),
      await remindersField((p.reminder_channels || ["sms"]).join(",")),
      reasonField("Reason for the change"),
    ],
    submit: (form) => {
      const v = values(form);
      const body = { reason: v.reason };
      if ((v.phone || null) !== (p.phone || null)) body.phone = v.phone;
      if ((v.email || null) !== (p.email || null)) body.email = v.email;
      for (const name of ["language", "timezone", "reminder_time"]) if (v[name] !== p[name]) body[name] = v[name];
      if (v.reminder_channels !== (p.reminder_channels || []).join(",")) body.reminder_channels = v.reminder_channels.split(",");
      return patch(base(p), body);
    },
  });
}

const isRecorded = (infusion) => infusion.status === "given" || infusion.status === "not_given";

// Resolves with what the notice says: "Infusion corrected" when one already recorded changed.
export async function recordInfusion(p, schedule, number) {
  const infusion = schedule.infusions.find((i) => i.number === number) || schedule.infusions[0];
  const recorded = isRecorded(infusion);
  let corrected = false;
  const result = await dialogForm({
    title: recorded ? `Correct infusion ${infusion.number}` : "Record an infusion",
    intro: "Survey windows follow the infusion date recorded here. The product given is never recorded.",
    fields: [
      field("Infusion", select("number", schedule.infusions.map((i) => [i.number, `${i.number} · ${i.label}`]), infusion.number)),
      field("What happened", select("status", [["given", "Given"], ["planned", "Planned (new date)"], ["not_given", "Not given"]], "given")),
      field("Given at (local time)", input("given_at_local", { type: "datetime-local" }), `In ${p.timezone}`),
      field("Planned date", input("planned_date", { type: "date", value: infusion.planned_date || "" }), "For a planned infusion"),
      field("Reason", textarea("reason", { maxlength: 500 }), "Required for a correction or an infusion not given"),
    ],
    submit: (form) => {
      const v = values(form);
      const body = dropEmpty({
        status: v.status, reason: v.reason,
        given_at_local: v.status === "given" ? v.given_at_local : null,
        planned_date: v.status === "planned" ? v.planned_date : null,
      });
      corrected = isRecorded(schedule.infusions.find((i) => i.number === Number(v.number)) || {});
      return put(`${base(p)}/infusions/${v.number}`, body);
    },
  });
  if (!result) return null;
  return corrected ? "Infusion corrected; the survey schedule follows it."
    : "Infusion recorded; the survey schedule follows it.";
}

export function scheduleVisit(p) {
  return dialogForm({
    title: `Schedule a virtual visit with ${p.subject_key}`,
    fields: [
      field("Starts at (local time)", input("starts_at_local", { type: "datetime-local", required: true }), `In ${p.timezone}`),
      field("By", select("mode", [["phone", "Phone call"], ["video", "Video call"]], "phone")),
      field("Duration (minutes)", input("duration_minutes", { type: "number", min: 5, max: 240, value: 30 })),
      field("Video link", input("join_url", { type: "url" }), "https only; for a video call"),
      field("Note", input("note", { maxlength: 200 })),
    ],
    submit: (form) => {
      const v = dropEmpty(values(form));
      if (v.duration_minutes) v.duration_minutes = Number(v.duration_minutes);
      return post(`${base(p)}/visits`, v);
    },
  });
}

export function rescheduleVisit(p, visit) {
  return dialogForm({
    title: "Reschedule the visit",
    fields: [
      field("New start (local time)", input("starts_at_local", { type: "datetime-local", required: true,
        value: localInput(visit.starts_at_utc, p.timezone) }), `In ${p.timezone}`),
      field("By", select("mode", [["phone", "Phone call"], ["video", "Video call"]], visit.mode)),
      reasonField(),
    ],
    submit: (form) => patch(`${base(p)}/visits/${visit.id}`, values(form)),
  });
}

export function cancelVisit(p, visit) {
  return dialogForm({
    title: "Cancel the visit",
    intro: "The participant gets one notice that the visit is cancelled.",
    submitLabel: "Cancel the visit",
    danger: true,
    fields: [reasonField()],
    submit: (form) => post(`${base(p)}/visits/${visit.id}/cancel`, values(form)),
  });
}

export async function remindNow(p) {
  const result = await dialogForm({
    title: `Send ${p.subject_key} a reminder now`,
    intro: "The reminder is queued for the open survey. Opt-out, consent and quiet hours still apply.",
    submitLabel: "Send reminder",
    fields: [field("Reason (optional)", textarea("reason", { maxlength: 500 }))],
    submit: (form) => post(`${base(p)}/remind-now`, dropEmpty(values(form))),
  });
  if (result) reminderQueued(p.subject_key, result);
  return result;
}

// What a remind-now did: the text and the web notice queued, or why no text goes out.
export function reminderQueued(subject, result) {
  const web = result.messages.filter((m) => m.channel === "web").length;
  notify(result.sms_blocked_reason
    ? `${subject}: no text will be sent (${result.sms_blocked_reason}); only ${plural(web, "web notice")} queued.`
    : `${subject}: reminder queued (${plural(result.messages.length, "message")}); quiet hours still apply.`,
  result.sms_blocked_reason ? "bad" : "ok");
}

export async function issueLink(p) {
  const result = await dialogForm({
    title: `New link for ${p.subject_key}`,
    intro: "The new link is shown once. Every reminder also carries a fresh link.",
    submitLabel: "Issue link",
    fields: [
      field("End every earlier link", h("input", { type: "checkbox", name: "revoke_others" })),
      field("Reason", textarea("reason", { maxlength: 500 }), "Required when earlier links are ended"),
    ],
    submit: (form) => post(`${base(p)}/link`, dropEmpty(values(form))),
  });
  if (result) {
    await dialogForm({
      title: "The participant's new link",
      intro: `Give it to the participant now; it cannot be shown again. ${plural(result.links_revoked, "earlier link")} ended.`,
      submitLabel: "Done",
      fields: [field("Link", input("url", { value: result.url, readonly: true }))],
      submit: async () => true,
    });
  }
  return result;
}

export async function revokeLinks(p) {
  const result = await dialogForm({
    title: `End every link of ${p.subject_key}`,
    intro: "Their open sessions end too. Issue a new link when they need one.",
    submitLabel: "End links",
    danger: true,
    fields: [reasonField()],
    submit: (form) => post(`${base(p)}/link/revoke`, values(form)),
  });
  if (result) notify(`${plural(result.links_revoked, "link")} ended.`);
  return result;
}

export function withdraw(p) {
  return dialogForm({
    title: `Withdraw ${p.subject_key}`,
    intro: "Open and future surveys are cancelled and no more messages are sent. This cannot be undone here.",
    submitLabel: "Withdraw",
    danger: true,
    fields: [reasonField("Reason for withdrawal")],
    submit: (form) => post(`${base(p)}/withdraw`, values(form)),
  });
}
