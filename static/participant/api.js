// The participant API: JSON over fetch, the session cookie, and the CSRF token on writes.
const BASE = "/api/v1/p";
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.state = this.body.errors?.state || null;
  }
}

// The request never reached the server, or its answer never came back.
export class NetworkError extends Error {}

export function setCsrfToken(token) {
  csrfToken = token;
}

async function refreshCsrf() {
  const body = await request("GET", "/api/v1/auth/csrf", undefined, false);
  csrfToken = body.csrf_token;
}

async function request(method, url, body, retryCsrf = true) {
  const writing = method !== "GET";
  if (writing && !csrfToken) await refreshCsrf();
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      // Flask-WTF checks a same-origin Referer over HTTPS; the site's default sends none.
      referrerPolicy: "same-origin",
      headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(writing ? { "X-CSRFToken": csrfToken } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new NetworkError(error.message);
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    if (response.ok) throw new NetworkError("unreadable response");
  }
  if (response.ok) return data;
  if (writing && retryCsrf && response.status === 400 && /CSRF/.test(data?.message || "")) {
    await refreshCsrf();
    return request(method, url, body, false);
  }
  throw new ApiError(response.status, data);
}

export const api = {
  openSession: (token, secondFactor) =>
    request("POST", `${BASE}/session`, secondFactor ? { token, second_factor: secondFactor } : { token }),
  session: () => request("GET", `${BASE}/session`),
  home: () => request("GET", `${BASE}/home`),
  assessment: (id, lang) => request("GET", `${BASE}/assessments/${id}?lang=${encodeURIComponent(lang)}`),
  saveDraft: (id, body) => request("PATCH", `${BASE}/assessments/${id}/draft`, body),
  submit: (id, body) => request("POST", `${BASE}/assessments/${id}/submission`, body),
  notifications: () => request("GET", `${BASE}/notifications`),
  subscribePush: (subscription) => request("PUT", `${BASE}/notifications/subscription`, subscription),
  unsubscribePush: (endpoint) => request("DELETE", `${BASE}/notifications/subscription`, { endpoint }),
  setChannels: (channels) => request("PUT", `${BASE}/notifications/channels`, { reminder_channels: channels }),
  calendarUrl: (visit, lang) => `${visit.calendar_url}?lang=${encodeURIComponent(lang)}`,
};
