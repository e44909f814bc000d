// The JSON API client of both apps: same-origin fetch with the session cookie, the CSRF token
// on writes, the server's one error shape, and a time limit. What an app does with a failure
// is its own: the dashboard sends a signed-out user to its sign-in page (onUnauthorized),
// the participant's outbox keeps a submission until the server has confirmed it.

const CSRF_URL = "/api/v1/auth/csrf";
export const TIMEOUT_MS = 30000;

let csrfToken = null;
let unauthorized = null;

// The server answered with an error: `status`, its body ({message, errors}), and for a
// participant's link or session the reason it is refused (`state`).
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `Request failed (${status})`);
    this.status = status;
    this.body = body || {};
    this.state = typeof this.body.errors?.state === "string" ? this.body.errors.state : null;
  }

  // Each field's messages, from `errors` by location ({json: {email: ["…"]}}).
  fieldErrors() {
    const fields = {};
    for (const located of Object.values(this.body.errors || {})) {
      if (!located || typeof located !== "object") continue;
      for (const [field, messages] of Object.entries(located)) {
        fields[field] = [].concat(messages).flat(Infinity).map(String);
      }
    }
    return fields;
  }

  // "field: message" lines, for showing next to a form.
  details() {
    return Object.entries(this.fieldErrors()).map(([field, messages]) => `${field}: ${messages.join(" ")}`);
  }
}

// The request never reached the server, its answer never came back (in time), or it could
// not be read.
export class NetworkError extends Error {}

export function setCsrfToken(token) {
  csrfToken = token;
}

// Called on a 401 instead of throwing, unless a request says { unauthorized: "throw" };
// returning a promise that never settles leaves the caller waiting while the page leaves.
export function onUnauthorized(handler) {
  unauthorized = handler;
}

function abortSignal(signal, timeout) {
  const timer = AbortSignal.timeout(timeout);
  return signal ? AbortSignal.any([signal, timer]) : timer;
}

async function call(method, url, body, options = {}, retryCsrf = true) {
  const { signal, timeout = TIMEOUT_MS } = options;
  const writing = method !== "GET";
  if (writing && !csrfToken) await refreshCsrf(options);
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      // Flask-WTF checks a same-origin Referer over HTTPS; a page's default may send none.
      referrerPolicy: "same-origin",
      headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(writing ? { "X-CSRFToken": csrfToken } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: abortSignal(signal, timeout),
    });
  } catch (error) {
    if (signal?.aborted) throw error; // the caller cancelled: not a failure to report
    throw new NetworkError(error.name === "TimeoutError" ? "no answer in time" : error.message);
  }
  let data = null;
  if (response.status !== 204) {
    try {
      const text = await response.text();
      data = text ? JSON.parse(text) : null;
    } catch (error) {
      if (response.ok) throw new NetworkError("unreadable response");
    }
  }
  if (response.ok) return { data, response };
  if (writing && retryCsrf && response.status === 400 && /CSRF/.test(data?.message || "")) {
    await refreshCsrf(options);
    return call(method, url, body, options, false);
  }
  if (response.status === 401 && unauthorized && options.unauthorized !== "throw") {
    return { data: await unauthorized(), response };
  }
  throw new ApiError(response.status, data);
}

async function refreshCsrf(options) {
  const { data } = await call("GET", CSRF_URL, undefined, options);
  csrfToken = data.csrf_token;
}

// The answer's JSON (null for 204 No Content); throws ApiError or NetworkError.
// options: { signal, timeout (ms), unauthorized: "throw" }.
export async function request(method, url, body, options) {
  return (await call(method, url, body, options)).data;
}

export const get = (url, options) => request("GET", url, undefined, options);
export const post = (url, body, options) => request("POST", url, body ?? {}, options);
export const put = (url, body, options) => request("PUT", url, body, options);
export const patch = (url, body, options) => request("PATCH", url, body, options);
export const del = (url, body, options) => request("DELETE", url, body, options);

// A paginated list: its items, and how many there are in all (flask-smorest's X-Pagination).
export async function getPage(url, options) {
  const { data, response } = await call("GET", url, undefined, options);
  const pagination = JSON.parse(response.headers.get("X-Pagination") || "null");
  return { items: data, total: pagination ? pagination.total : data.length };
}

// "?a=1&b=x" from the parameters that have a value ("" when none has).
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
}
