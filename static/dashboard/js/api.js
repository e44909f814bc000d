// The staff JSON API: same-origin fetch with the session cookie and the CSRF token.

let csrfToken = null;

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `Request failed (${status})`);
    this.status = status;
    this.body = body;
  }

  // "field: message" lines from a 422 body, for showing next to a form.
  details() {
    const errors = (this.body && this.body.errors) || {};
    const lines = [];
    for (const located of Object.values(errors)) {
      if (located && typeof located === "object") {
        for (const [field, messages] of Object.entries(located)) {
          lines.push(`${field}: ${[].concat(messages).flat().join(" ")}`);
        }
      }
    }
    return lines;
  }
}

export function setCsrfToken(token) {
  csrfToken = token;
}

async function token() {
  if (!csrfToken) {
    const res = await fetch("/api/v1/auth/csrf", { credentials: "same-origin" });
    csrfToken = (await res.json()).csrf_token;
  }
  return csrfToken;
}

function toLogin() {
  const next = location.pathname + location.search + location.hash;
  location.assign(`/dashboard/login.html?next=${encodeURIComponent(next)}`);
}

async function handle(res, { redirectOn401 = true } = {}) {
  if (res.status === 204) return null;
  const body = res.headers.get("Content-Type")?.includes("json") ? await res.json() : null;
  if (res.ok) return body;
  if (res.status === 401 && redirectOn401) {
    toLogin();
    return new Promise(() => {}); // the page is leaving
  }
  throw new ApiError(res.status, body);
}

export async function get(url, options) {
  const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  return handle(res, options);
}

// A paginated list: its items, and how many there are in all (flask-smorest's X-Pagination).
export async function getPage(url, options) {
  const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const items = await handle(res, options);
  const pagination = JSON.parse(res.headers.get("X-Pagination") || "null");
  return { items, total: pagination ? pagination.total : items.length };
}

export async function send(method, url, body, options) {
  const res = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": await token() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return handle(res, options);
}

export const post = (url, body, options) => send("POST", url, body ?? {}, options);
export const patch = (url, body) => send("PATCH", url, body);
export const put = (url, body) => send("PUT", url, body);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
}
