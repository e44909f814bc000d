// The notifications switch's bookkeeping: the VAPID key as bytes, and the reminder channels
// once this phone has push on (push first) or the last phone turned it off (push dropped).
import assert from "node:assert/strict";
import { test } from "node:test";

globalThis.document ??= { documentElement: {} };
const { channelsAfter, keyBytes } = await import("../../static/participant/pwa.js");

test("the VAPID public key decodes from base64url to its 65 raw bytes", () => {
  const raw = Uint8Array.from({ length: 65 }, (_, i) => (i * 37 + 4) % 256);
  const base64url = Buffer.from(raw).toString("base64url");
  assert.ok(!base64url.includes("="));
  assert.deepEqual(keyBytes(base64url), raw);
});

test("turning push on puts it first; SMS stays as the fallback", () => {
  assert.deepEqual(channelsAfter(["sms"], { on: true, devices: 1 }), ["push", "sms"]);
  assert.deepEqual(channelsAfter(["sms", "push"], { on: true, devices: 2 }), ["push", "sms"]);
  assert.deepEqual(channelsAfter(["push", "sms"], { on: true, devices: 2 }), ["push", "sms"]);
});

test("push leaves the channels only when no phone has it on any more", () => {
  assert.deepEqual(channelsAfter(["push", "sms"], { on: false, devices: 1 }), ["push", "sms"]);
  assert.deepEqual(channelsAfter(["push", "sms"], { on: false, devices: 0 }), ["sms"]);
  assert.deepEqual(channelsAfter(["push"], { on: false, devices: 0 }), ["sms"]);
  assert.deepEqual(channelsAfter(["sms"], { on: false, devices: 0 }), ["sms"]);
});
