import { get, patch, post } from "../../../shared/api.js";
import { $, h, replace } from "../../../shared/dom.js";
import { dialogForm, dropEmpty, field, input, select, textarea, values } from "../forms.js";
import { dateTime } from "../format.js";
import { notify, showError, startPage } from "../layout.js";

const ROLES = [["coordinator", "Coordinator (own sites)"], ["investigator", "Investigator (own sites, approves changes)"],
  ["monitor", "Monitor (whole study, read-only)"], ["admin", "Administrator (no participant data)"]];

let sites = [];
let me = null;

function siteBoxes(selected = []) {
  return h("fieldset", {}, h("legend", {}, "Sites"),
    sites.map((s) => h("label", { class: "hint" },
      h("input", { type: "checkbox", name: "site_codes", value: s.code, checked: selected.includes(s.code) }),
      ` ${s.code} · ${s.name}`, h("br"))));
}

function checkedSites(form) {
  return [...form.querySelectorAll("input[name=site_codes]:checked")].map((el) => el.value);
}

function userDialog(user) {
  return dialogForm({
    title: user ? `Change ${user.email}` : "Add a staff user",
    submitLabel: user ? "Save" : "Add user",
    fields: [
      user ? null : field("Email", input("email", { type: "email", required: true, autocomplete: "off" })),
      field("Name", input("name", { required: true, value: user?.name || "" })),
      field("Role", select("role", ROLES, user?.role || "coordinator")),
      siteBoxes(user ? user.sites.map((s) => s.code) : []),
      user ? field("Account", select("active", [["true", "Active"], ["false", "Deactivated (signs them out)"]], String(user.active)))
        : field("Initial password", input("password", { type: "password", required: true, minlength: 12, autocomplete: "new-password" }),
          "At least 12 characters; give it to the person over a separate channel"),
      user ? field("Reason", textarea("reason", { maxlength: 500 }), "Kept in the audit trail") : null,
    ],
    submit: (form) => {
      const v = values(form);
      const body = dropEmpty({ ...v, site_codes: checkedSites(form) });
      if (user) {
        body.active = v.active === "true";
        return patch(`/api/v1/admin/users/${user.id}`, body);
      }
      return post("/api/v1/admin/users", body);
    },
  });
}

function siteDialog(site) {
  return dialogForm({
    title: site ? `Change site ${site.code}` : "Add a site",
    submitLabel: site ? "Save" : "Add site",
    fields: [
      site ? null : field("Code", input("code", { required: true }), "Capital letters and digits, e.g. TPA"),
      field("Name", input("name", { required: true, value: site?.name || "" })),
      field("Time zone", input("timezone", { required: true, value: site?.timezone || "America/New_York" })),
      field("Contact phone", input("contact_phone", { type: "tel", value: site?.contact_phone || "" }), "Shown to participants who need help"),
      site ? field("Reason", textarea("reason", { maxlength: 500 }), "Kept in the audit trail") : null,
    ],
    submit: (form) => {
      const body = values(form);
      return site ? patch(`/api/v1/admin/sites/${site.id}`, dropEmpty(body)) : post("/api/v1/admin/sites", dropEmpty(body));
    },
  });
}

function reasonDialog(title, submitLabel, intro, send) {
  return dialogForm({
    title, intro, submitLabel,
    fields: [field("Reason", textarea("reason", { required: true, minlength: 3, maxlength: 500 }), "Kept in the audit trail")],
    submit: (form) => send(values(form).reason),
  });
}

function unlockDialog(u) {
  return reasonDialog(`Unlock ${u.email}`, "Unlock", "The account was locked after repeated failed sign-ins or signatures.",
    (reason) => post(`/api/v1/admin/users/${u.id}/unlock`, { reason }));
}

async function resetPassword(u) {
  const done = await reasonDialog(`Reset the password of ${u.email}`, "Reset password",
    "They get a one-time password, must choose their own at the next sign-in, and are signed out now.",
    (reason) => post(`/api/v1/admin/users/${u.id}/reset-password`, { reason }));
  if (!done) return;
  await load();
  notify(`One-time password for ${u.email} (shown once; give it over a separate channel): ${done.temporary_password}`);
}

function accountState(u) {
  if (!u.active) return h("span", { class: "flag" }, "deactivated");
  const notes = [u.locked_at ? "locked" : null, u.must_change_password ? "must change password" : null,
    u.second_factor_enabled_at ? "2FA" : null].filter(Boolean);
  return notes.length ? `active · ${notes.join(" · ")}` : "active";
}

function unmatchedTable(replies) {
  if (!replies.length) return h("p", {}, "No unmatched replies waiting.");
  return h("div", { class: "table-wrap" }, h("table", { id: "unmatched" },
    h("thead", {}, h("tr", {}, ["Received", "From", "Kind", "Text", "Action"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, replies.map((m) => h("tr", { "data-inbound": m.id },
      h("td", {}, dateTime(m.received_at)), h("td", {}, m.from_masked || "—"), h("td", {}, m.kind),
      h("td", {}, m.body),
      h("td", {}, h("button", { type: "button", class: "link", "aria-label": `Mark reply ${m.id} handled`,
        onclick: () => edit(reasonDialog("Mark the reply handled", "Mark handled",
          "Say what was done, e.g. the site was told to update the participant's number.",
          (reason) => post(`/api/v1/inbound-messages/unmatched/${m.id}/resolve`, { reason })), "Reply marked handled.") },
      "Mark handled")))))));
}

async function edit(dialog, message) {
  if (await dialog) { notify(message); await load(); }
}

function usersTable(users) {
  return h("div", { class: "table-wrap" }, h("table", { id: "users" },
    h("thead", {}, h("tr", {}, ["Email", "Name", "Role", "Sites", "Account", "Last sign-in", "Action"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, users.map((u) => h("tr", { "data-email": u.email },
      h("th", { scope: "row" }, u.email), h("td", {}, u.name), h("td", {}, u.role),
      h("td", {}, u.sites.map((s) => s.code).join(", ") || "—"),
      h("td", {}, accountState(u)),
      h("td", {}, u.last_login_at ? dateTime(u.last_login_at) : "never"),
      h("td", {}, h("span", { class: "actions" },
        h("button", { type: "button", class: "link", "aria-label": `Change ${u.email}`,
          onclick: () => edit(userDialog(u), `${u.email} updated.`) }, "Change"),
        u.locked_at ? h("button", { type: "button", class: "link", "aria-label": `Unlock ${u.email}`,
          onclick: () => edit(unlockDialog(u), `${u.email} unlocked.`) }, "Unlock") : null,
        u.id === me.id ? null : h("button", { type: "button", class: "link", "aria-label": `Reset the password of ${u.email}`,
          onclick: () => resetPassword(u) }, "Reset password"))))))));
}

function sitesTable() {
  return h("div", { class: "table-wrap" }, h("table", { id: "sites" },
    h("thead", {}, h("tr", {}, ["Study", "Code", "Name", "Time zone", "Contact phone", "Action"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, sites.map((s) => h("tr", {},
      h("td", {}, s.study_code), h("th", { scope: "row" }, s.code), h("td", {}, s.name), h("td", {}, s.timezone),
      h("td", {}, s.contact_phone || "—"),
      h("td", {}, h("button", { type: "button", class: "link", "aria-label": `Change site ${s.code}`,
        onclick: () => edit(siteDialog(s), `Site ${s.code} updated.`) }, "Change")))))));
}

async function load() {
  const content = $("#content");
  try {
    const [users, siteRows, unmatched] = await Promise.all([get("/api/v1/admin/users"), get("/api/v1/admin/sites"),
      get("/api/v1/inbound-messages/unmatched?needs_review=true")]);
    sites = siteRows;
    replace(content,
      h("h2", {}, "Staff users"),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => edit(userDialog(null), "User added.") }, "Add a staff user")),
      usersTable(users),
      h("h2", {}, "Sites"),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => edit(siteDialog(null), "Site added.") }, "Add a site")),
      sitesTable(),
      h("h2", {}, "Replies from unknown numbers"),
      h("p", { class: "hint" }, "Texts that match no participant's number: a changed number, or a wrong one. Tell the site; then mark them handled."),
      unmatchedTable(unmatched));
  } catch (error) {
    showError(content, error);
  }
}

me = await startPage("admin");
await load();
