import { ApiError, post } from "../api.js";
import { $, h, replace } from "../dom.js";

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
      email: form.email.value.trim(), password: form.password.value,
    }, { redirectOn401: false });
    location.assign(me.role === "admin" ? "/dashboard/admin.html" : nextPage());
  } catch (error) {
    const message = error instanceof ApiError && error.status === 401
      ? "Email or password is wrong." : error.message;
    replace($("#login-error"), h("p", { class: "error" }, message));
    button.disabled = false;
    form.password.focus();
  }
});
