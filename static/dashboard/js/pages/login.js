import { ApiError, post } from "../../../shared/api.js";
import { $, h, replace } from "../../../shared/dom.js";

// Only a path inside the dashboard may be the target after signing in (no open redirect).
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^\/dashboard\/[A-Za-z0-9._\-/?=&%#]*$/.test(next) && !next.startsWith("//") ? next : "/dashboard/";
}

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const me = await post("/api/v1/auth/login", {
      email: form.email.value.trim(), password: form.password.value, code: form.code.value.trim() || null,
    }, { unauthorized: "throw" });
    if (me.must) location.assign("/dashboard/account.html");
    else location.assign(me.role === "admin" ? "/dashboard/admin.html" : nextPage());
  } catch (error) {
    const needsCode = error instanceof ApiError && error.status === 401 && error.body?.errors?.json?.code;
    let message = error.message;
    if (needsCode) message = "Enter the code from your authenticator app.";
    else if (error instanceof ApiError && error.status === 401) message = "Email or password is wrong.";
    replace($("#login-error"), h("p", { class: "error" }, message));
    button.disabled = false;
    if (needsCode) {
      $("#code-field").hidden = false;
      form.code.focus();
    } else {
      form.password.focus();
    }
  }
});

// The button works once this script has taken over the form: a click before then would
// otherwise submit the form natively, password and all, to the page's own URL.
$("#login button").disabled = false;
