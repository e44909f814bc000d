import { ApiError, get, post, setCsrfToken } from "../api.js";
import { $, h, replace } from "../dom.js";

// Only a path inside the dashboard may be the target after signing in (no open redirect).
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^\/dashboard\/[A-Za-z0-9._\-/?=&%#]*$/.test(next) && !next.startsWith("//") ? next : "/dashboard/";
}

function landing(me) {
  return me.role === "admin" ? "/dashboard/admin.html" : nextPage();
}

// An account made with `pro admin create` must choose its own password before anything else.
// The form is built only then, so the sign-in form is the page's only password field.
function passwordField(id, name, label) {
  return h("div", { class: "field" }, h("label", { for: id }, label),
    h("input", { id, name, type: "password", autocomplete: "new-password", required: "", minlength: "12" }));
}

function askForNewPassword(current) {
  $("#login").hidden = true;
  const change = h("form", { id: "change", class: "stack card", novalidate: "" },
    h("h2", {}, "Choose your own password"),
    h("p", {}, "Your account was created with a password typed by someone else. Choose your own "
      + "before you continue: at least 12 characters, not easy to guess (a few unrelated words work well)."),
    passwordField("new-password", "new_password", "New password"),
    passwordField("repeat-password", "repeat", "New password again"),
    h("div", { id: "change-error", role: "alert" }),
    h("div", {}, h("button", { type: "submit" }, "Change password and continue")));
  $("#main").append(change);
  change.new_password.focus();
  change.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = change.querySelector("button");
    if (change.new_password.value !== change.repeat.value) {
      replace($("#change-error"), h("p", { class: "error" }, "The two passwords differ."));
      return;
    }
    button.disabled = true;
    try {
      const changed = await post("/api/v1/auth/password", {
        current_password: current, new_password: change.new_password.value,
      }, { redirectOn401: false });
      location.assign(landing(changed || await get("/api/v1/auth/me")));
    } catch (error) {
      const lines = error instanceof ApiError ? error.details() : [];
      replace($("#change-error"), h("p", { class: "error" }, lines.length ? lines.join(" ") : error.message));
      button.disabled = false;
      change.new_password.focus();
    }
  });
}

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const me = await post("/api/v1/auth/login", {
      email: form.email.value.trim(), password: form.password.value,
    }, { redirectOn401: false });
    setCsrfToken(me.csrf_token);  // signing in starts a new session with its own token
    if (me.must_change_password) {
      askForNewPassword(form.password.value);
      return;
    }
    location.assign(landing(me));
  } catch (error) {
    const message = error instanceof ApiError && error.status === 401
      ? "Email or password is wrong." : error.message;
    replace($("#login-error"), h("p", { class: "error" }, message));
    button.disabled = false;
    form.password.focus();
  }
});
