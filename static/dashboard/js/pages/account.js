// The signed-in user's own account: change the password; set up an authenticator app.

import { get, post } from "../../../shared/api.js";
import { $, h, replace } from "../../../shared/dom.js";
import { field, input } from "../forms.js";
import { errorText, notify, startPage } from "../layout.js";

const MUST = {
  change_password: "Your password was reset or set for you: choose your own before you continue.",
  set_up_second_factor: "Your study requires a second factor: set up an authenticator app before you continue.",
};

function form(id, fields, label, onsubmit) {
  const errorBox = h("div", { role: "alert" });
  const el = h("form", { id, class: "stack card", novalidate: true }, fields, errorBox,
    h("div", {}, h("button", { type: "submit" }, label)));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = el.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await onsubmit(el);
    } catch (error) {
      replace(errorBox, h("p", { class: "error" }, errorText(error)));
    }
    button.disabled = false;
  });
  return el;
}

function passwordForm() {
  return form("password-form", [
    field("Current password", input("current_password", { type: "password", autocomplete: "current-password", required: true })),
    field("New password", input("new_password", { type: "password", autocomplete: "new-password", required: true, minlength: 12 }),
      "At least 12 characters"),
  ], "Change password", async (el) => {
    await post("/api/v1/auth/password", {
      current_password: el.elements.current_password.value, new_password: el.elements.new_password.value,
    }, { unauthorized: "throw" });
    el.reset();
    notify("Password changed. Your other sessions were signed out.");
    await load();
  });
}

function totpSection(me) {
  if (me.second_factor) return h("p", {}, "An authenticator app is set up: sign-in and signatures ask for its code.");
  const area = h("div", {});
  const start = h("button", { type: "button", onclick: async () => {
    try {
      const setup = await post("/api/v1/auth/totp");
      replace(area,
        h("p", {}, "Scan this code with an authenticator app, or type the key into it by hand."),
        h("img", { src: setup.qr_data_uri, alt: "QR code of your authenticator key", width: 212, height: 212 }),
        h("p", {}, "Key: ", h("code", { id: "totp-secret" }, setup.secret)),
        form("totp-form", [field("Code shown by the app", input("code", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6, required: true }))],
          "Confirm", async (el) => {
            await post("/api/v1/auth/totp/confirm", { code: el.elements.code.value.trim() });
            notify("Second factor set up.");
            await load();
          }));
    } catch (error) {
      replace(area, h("p", { class: "error", role: "alert" }, errorText(error)));
    }
  } }, "Set up an authenticator app");
  return [h("p", {}, "No second factor yet."), start, area];
}

async function load() {
  const me = await get("/api/v1/auth/me");
  replace($("#content"),
    me.must ? h("p", { class: "notice bad" }, MUST[me.must]) : null,
    h("h2", {}, "Password"), passwordForm(),
    h("h2", {}, "Second factor"), totpSection(me),
    me.must ? null : h("p", {}, h("a", { href: me.role === "admin" ? "/dashboard/admin.html" : "/dashboard/" }, "Continue to the dashboard")));
}

await startPage("account");
await load();
