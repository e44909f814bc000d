// What the participant's phone keeps between visits: drafts and unconfirmed submissions.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { MemoryStorage } from "./storage.js";
import { makeStore, newIdempotencyKey, saveLanguage, savedLanguage } from "../../static/participant/store.js";

beforeEach(() => {
  globalThis.localStorage = new MemoryStorage();
});

test("a new draft is empty and a saved one comes back", () => {
  const store = makeStore(7);
  assert.deepEqual(store.draft(3), { answers: {}, dirty: [], position: null });
  store.saveDraft(3, { answers: { nrs: { pain: 4 } }, dirty: ["nrs"], position: "nrs:pain" });
  assert.deepEqual(makeStore(7).draft(3).answers, { nrs: { pain: 4 } });
});

test("pending submissions are listed per participant, and cleared with the draft", () => {
  const mine = makeStore(7);
  const theirs = makeStore(8);
  mine.setPending(3, { key: "k3", answers: {} });
  mine.setPending(12, { key: "k12", answers: {} });
  theirs.setPending(4, { key: "k4", answers: {} });
  mine.saveDraft(3, { answers: { nrs: { pain: 1 } }, dirty: [], position: null });
  assert.deepEqual(mine.allPending().map((e) => e.id).sort((a, b) => a - b), [3, 12]);
  mine.clear(3);
  assert.equal(mine.pending(3), null);
  assert.deepEqual(mine.draft(3).answers, {});
  assert.deepEqual(theirs.allPending().map((e) => e.id), [4]);
});

test("full or corrupt storage never breaks the page", () => {
  globalThis.localStorage = new MemoryStorage({ full: true });
  const store = makeStore(1);
  store.saveDraft(1, { answers: { nrs: { pain: 2 } }, dirty: [], position: null });
  assert.deepEqual(store.draft(1).answers, {});
  globalThis.localStorage = new MemoryStorage();
  localStorage.setItem("pro.v1.lang", "{not json");
  assert.equal(savedLanguage(), null);
  saveLanguage("es");
  assert.equal(savedLanguage(), "es");
});

test("idempotency keys are 128 random bits in hex", () => {
  const a = newIdempotencyKey();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, newIdempotencyKey());
});
