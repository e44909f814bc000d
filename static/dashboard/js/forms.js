// Forms in modal dialogs: labelled fields, the API's errors shown in the dialog, focus returned.

import { get } from "../../shared/api.js";
import { h, replace, uid } from "../../shared/dom.js";
import { CHANNEL_CHOICES, CHANNEL_HINT, EMAIL_HINT } from "./format.js";
import { errorText } from "./layout.js";

// A labelled control. `control` is an <input>/<select>/<textarea> element; its id is set here.
export function field(label, control, hint) {
  const extra = Array.isArray(control) ? control.slice(1) : [];
  if (Array.isArray(control)) [control] = control;
  const id = control.id || uid("f");
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    hint ? h("span", { class: "hint", id: hintId }, hint) : null,
    control, ...extra);
}

export function input(name, attrs = {}) {
  return h("input", { name, type: "text", ...attrs });
}

export function select(name, options, selected, attrs = {}) {
  return h("select", { name, ...attrs }, options.map(([value, label]) =>
    h("option", { value, selected: String(value) === String(selected ?? "") }, label)));
}

let zones = null;

// A time zone field: typing filters the server's IANA zone names (a datalist), so a name
// the server would refuse is easy to avoid; the server still checks it.
export function timezoneInput(value, attrs = {}) {
  const list = h("datalist", { id: uid("tz") });
  const control = input("timezone", { value, required: true, autocomplete: "off", spellcheck: "false",
    list: list.id, ...attrs });
  zones ||= get("/api/v1/participants/timezones").then((body) => body.timezones);
  zones.then((names) => list.replaceChildren(...names.map((name) => h("option", { value: name }))))
    .catch(() => {}); // without the list the field still takes a typed name
  return [control, list];
}

// "Reminders by": only the choices this server can send on (push needs its keys set up); the
// participant's current choice stays listed, so saving never changes it unasked.
export async function remindersField(selected = "sms") {
  const { available } = await get("/api/v1/reminder-channels")
    .catch(() => ({ available: ["sms", "push"] })); // the server still checks the choice
  const choices = CHANNEL_CHOICES.filter(([value]) => value === selected
    || value.split(",").every((channel) => available.includes(channel)));
  const hints = [available.includes("push") ? CHANNEL_HINT : "Push notifications are not set up on this server: reminders go by SMS",
    available.includes("email") ? EMAIL_HINT : null];
  return field("Reminders by", select("reminder_channels", choices, selected), hints.filter(Boolean).join(". "));
}

export function textarea(name, attrs = {}) {
  return h("textarea", { name, rows: 3, ...attrs });
}

export function reasonField(label = "Reason", hint = "Kept in the audit trail") {
  return field(label, textarea("reason", { required: true, minlength: 3, maxlength: 500 }), hint);
}

// Opens a modal form. `submit(form)` returns a promise; a rejection shows its message inside
// the dialog and keeps it open until a field changes. Resolves with submit's result, or null when cancelled.
// `wide`: fields in two columns, for a long form to fit a laptop screen (1366 x 768).
export function dialogForm({ title, intro, fields, submitLabel = "Save", danger = false, wide = false, submit }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid("dlg");
    const errorBox = h("div", { role: "alert" });
    const form = h("form", { class: wide ? "stack columns" : "stack", method: "dialog", novalidate: true },
      intro ? h("p", {}, intro) : null,
      fields,
      errorBox,
      h("div", { class: "actions" },
        h("button", { type: "submit", class: danger ? "danger" : null }, submitLabel),
        h("button", { type: "button", class: "secondary", onclick: () => close(null) }, "Cancel")));
    const dialog = h("dialog", { "aria-labelledby": titleId, class: wide ? "wide" : null }, h("h2", { id: titleId }, title), form);
    function close(result) {
      dialog.close();
      dialog.remove();
      if (opener && opener.focus) opener.focus();
      resolve(result);
    }
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); close(null); });
    // The error was about the values sent; once one is edited it no longer applies (cleared
    // as the user types, not on blur: on blur the buttons would move under the pointer).
    form.addEventListener("input", () => replace(errorBox));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        close(await submit(form));
      } catch (error) {
        replace(errorBox, h("p", { class: "error" }, errorText(error)));
        button.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// The form's named values; empty strings become null, checkboxes booleans.
export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else out[el.name] = el.value.trim() === "" ? null : el.value.trim();
  }
  return out;
}

export function dropEmpty(object) {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== null && v !== undefined));
}
