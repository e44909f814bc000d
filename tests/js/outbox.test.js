// The offline outbox: a submission leaves the phone only when the server has confirmed it
// (or refused it for good), and every resend carries the same idempotency key.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { MemoryStorage } from "./storage.js";
import { setCsrfToken } from "../../static/shared/api.js";
import { createOutbox } from "../../static/participant/outbox.js";
import { makeStore } from "../../static/participant/store.js";

let replies;
let requests;

// The server, as the outbox sees it through fetch: each call takes the next scripted reply.
function serverReplies(...scripted) {
  replies = scripted;
  requests = [];
  globalThis.fetch = async (url, init) => {
    requests.push({ url, body: JSON.parse(init.body) });
    const reply = replies.shift();
    if (reply === "offline") throw new TypeError("Failed to fetch");
    return new Response(JSON.stringify(reply.body ?? {}), { status: reply.status });
  };
}

function outboxWithEvents(store) {
  const events = [];
  const outbox = createOutbox(store, {
    sent: (id) => events.push(["sent", id]),
    queued: (id) => events.push(["queued", id]),
    refused: (id, error) => events.push(["refused", id, error.status]),
  });
  return { outbox, events };
}

beforeEach(() => {
  globalThis.localStorage = new MemoryStorage();
  globalThis.window = new EventTarget();
  setCsrfToken("csrf");
});

test("a confirmed submission is cleared from the phone", async () => {
  const store = makeStore(1);
  store.setPending(5, { key: "abc", answers: { nrs: { pain: 3 } }, language: "en" });
  serverReplies({ status: 201, body: { id: 5 } });
  const { outbox, events } = outboxWithEvents(store);
  await outbox.sendAll();
  assert.deepEqual(events, [["sent", 5]]);
  assert.equal(store.pending(5), null);
  assert.deepEqual(requests[0].body, { idempotency_key: "abc", answers: { nrs: { pain: 3 } }, language: "en" });
});

test("offline or a server error keeps it, and the retry sends the same key", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const store = makeStore(1);
  store.setPending(5, { key: "abc", answers: {}, language: "es" });
  serverReplies("offline", { status: 503 }, { status: 201 });
  const { outbox, events } = outboxWithEvents(store);
  await outbox.sendAll();
  assert.deepEqual(events, [["queued", 5]]);
  assert.ok(store.pending(5));
  await outbox.retryNow();
  assert.deepEqual(events, [["queued", 5], ["queued", 5]]);
  await outbox.retryNow();
  assert.deepEqual(events.at(-1), ["sent", 5]);
  assert.deepEqual(requests.map((r) => r.body.idempotency_key), ["abc", "abc", "abc"]);
});

test("an answer the server refuses for good is dropped from the outbox but the draft stays", async () => {
  const store = makeStore(1);
  store.saveDraft(5, { answers: { nrs: { pain: 11 } }, dirty: [], position: null });
  store.setPending(5, { key: "abc", answers: { nrs: { pain: 11 } }, language: "en" });
  serverReplies({ status: 422, body: { message: "out of range" } });
  const { outbox, events } = outboxWithEvents(store);
  await outbox.sendAll();
  assert.deepEqual(events, [["refused", 5, 422]]);
  assert.equal(store.pending(5), null);
  assert.deepEqual(store.draft(5).answers, { nrs: { pain: 11 } });
});

test("a survey already closed or submitted elsewhere (409) is cleared entirely", async () => {
  const store = makeStore(1);
  store.saveDraft(5, { answers: { nrs: { pain: 2 } }, dirty: [], position: null });
  store.setPending(5, { key: "abc", answers: {}, language: "en" });
  serverReplies({ status: 409, body: { message: "closed" } });
  const { outbox, events } = outboxWithEvents(store);
  await outbox.sendAll();
  assert.deepEqual(events, [["refused", 5, 409]]);
  assert.deepEqual(store.draft(5).answers, {});
});
