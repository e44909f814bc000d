// The one API client of both apps, against a scripted server (fetch): JSON in and out, the
// CSRF token on writes, the error shape per field, 401s, and requests that never finish.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import {
  ApiError, NetworkError, get, getPage, onUnauthorized, post, query, setCsrfToken,
} from "../../static/shared/api.js";

let replies;
let requests;

// Each fetch takes the next scripted reply: {status, body, headers}, "offline", or "hang"
// (no answer until the request is aborted).
function serverReplies(...scripted) {
  replies = scripted;
  requests = [];
  globalThis.fetch = async (url, init) => {
    requests.push({ url, method: init.method, headers: init.headers, body: init.body && JSON.parse(init.body) });
    const reply = replies.shift();
    if (reply === "offline") throw new TypeError("Failed to fetch");
    if (reply === "hang") {
      return new Promise((resolve, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason)));
    }
    const body = reply.body === undefined ? null : JSON.stringify(reply.body);
    return new Response(body, { status: reply.status, headers: reply.headers });
  };
}

beforeEach(() => {
  setCsrfToken(null);
  onUnauthorized(null);
});

test("a read returns the JSON; a write sends JSON with the CSRF token, fetched once if unknown", async () => {
  serverReplies({ status: 200, body: { sites: 2 } }, { status: 200, body: { csrf_token: "t1" } },
    { status: 201, body: { id: 7 } }, { status: 204 });
  assert.deepEqual(await get("/api/v1/x"), { sites: 2 });
  assert.deepEqual(await post("/api/v1/x", { a: 1 }), { id: 7 });
  assert.equal(await post("/api/v1/x"), null);
  assert.deepEqual(requests.map((r) => [r.method, r.url, r.headers["X-CSRFToken"] ?? null, r.body ?? null]), [
    ["GET", "/api/v1/x", null, null],
    ["GET", "/api/v1/auth/csrf", null, null],
    ["POST", "/api/v1/x", "t1", { a: 1 }],
    ["POST", "/api/v1/x", "t1", {}],
  ]);
});

test("a refused CSRF token is renewed and the write sent once more", async () => {
  setCsrfToken("old");
  serverReplies({ status: 400, body: { message: "The CSRF token has expired." } },
    { status: 200, body: { csrf_token: "new" } }, { status: 200, body: { saved: true } });
  assert.deepEqual(await post("/api/v1/x", { a: 1 }), { saved: true });
  assert.deepEqual(requests.map((r) => r.headers["X-CSRFToken"] ?? null), ["old", null, "new"]);
});

test("bad input reads as the server's message and each field's messages", async () => {
  setCsrfToken("t");
  serverReplies({ status: 422, body: { code: 422, message: "Invalid value for email, phone",
    errors: { json: { email: ["Not a valid email address."], phone: ["Too short.", "Not a number."] } } } });
  const error = await post("/api/v1/participants", {}).catch((e) => e);
  assert.ok(error instanceof ApiError);
  assert.equal(error.status, 422);
  assert.equal(error.message, "Invalid value for email, phone");
  assert.deepEqual(error.fieldErrors(), { email: ["Not a valid email address."], phone: ["Too short.", "Not a number."] });
  assert.deepEqual(error.details(), ["email: Not a valid email address.", "phone: Too short. Not a number."]);
  assert.equal(error.state, null);
});

test("a 401 goes to the app's handler, unless the request asks to see it", async () => {
  const handled = [];
  onUnauthorized(() => { handled.push("to sign-in"); return "left"; });
  serverReplies({ status: 401, body: { message: "Sign in" } },
    { status: 401, body: { message: "Link expired", errors: { state: "link_expired" } } });
  assert.equal(await get("/api/v1/auth/me"), "left");
  const error = await get("/api/v1/p/home", { unauthorized: "throw" }).catch((e) => e);
  assert.deepEqual(handled, ["to sign-in"]);
  assert.equal(error.status, 401);
  assert.equal(error.state, "link_expired");
});

test("no network, no answer in time, or an unreadable answer is a NetworkError; a cancel is not", async () => {
  serverReplies("offline", "hang");
  await assert.rejects(get("/a"), NetworkError);
  await assert.rejects(get("/a", { timeout: 1 }), (e) => e instanceof NetworkError && /in time/.test(e.message));
  globalThis.fetch = async () => new Response("<html>proxy error</html>", { status: 200 });
  await assert.rejects(get("/a"), (e) => e instanceof NetworkError && /unreadable/.test(e.message));
  serverReplies("hang");
  const cancel = new AbortController();
  const pending = get("/a", { signal: cancel.signal });
  cancel.abort();
  await assert.rejects(pending, (e) => e.name === "AbortError");
});

test("a page of a list says how many there are in all; a query keeps only set values", async () => {
  serverReplies({ status: 200, body: [{ id: 1 }], headers: { "X-Pagination": JSON.stringify({ total: 41 }) } },
    { status: 200, body: [{ id: 1 }, { id: 2 }] });
  assert.deepEqual(await getPage("/api/v1/audit/events"), { items: [{ id: 1 }], total: 41 });
  assert.deepEqual(await getPage("/api/v1/audit/events"), { items: [{ id: 1 }, { id: 2 }], total: 2 });
  assert.equal(query({ site: "GNV", q: "", page: 2, none: null }), "?site=GNV&page=2");
  assert.equal(query({ q: "" }), "");
});
