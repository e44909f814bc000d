// How instrument definitions become survey screens, and what a submission sends.
import assert from "node:assert/strict";
import { test } from "node:test";

import { buildScreens, findScreen, firstMissing, submission } from "../../static/participant/screens.js";

const options = [0, 1, 2, 3].map((code) => ({ code, label: String(code) }));
const grid = (id) => ({ id, type: "single_choice", section: "dressing", options, required: true });

// A HAQ-like instrument: a section with a common stem whose items share one scale, then a
// multiple-choice aids item that enables a follow-up text item.
const haq = {
  code: "haq",
  sections: [{ id: "dressing", instructions: "Are you able to:" }, { id: "aids" }],
  items: [
    grid("d1"), grid("d2"), grid("d3"), grid("d4"), grid("d5"),
    { id: "aids", type: "multiple_choice", section: "aids", options, required: false },
    { id: "other", type: "text", section: "aids", required: true,
      enable_when: { item: "aids", contains: 3 } },
  ],
};
const nrs = {
  code: "nrs",
  sections: [{ id: "main" }],
  items: [{ id: "pain", type: "integer_scale", section: "main", required: true }],
};

test("items under a common stem with one scale share screens of at most four", () => {
  const screens = buildScreens([haq, nrs], {});
  assert.deepEqual(screens.map((s) => s.id),
    ["haq:d1", "haq:d4", "haq:aids", "nrs:pain", "review"]);
  assert.deepEqual(screens[0].items.map((i) => i.id), ["d1", "d2", "d3"]);
  assert.deepEqual(screens[1].items.map((i) => i.id), ["d4", "d5"]);
  assert.equal(screens[0].firstOfInstrument, true);
  assert.equal(screens[1].firstOfInstrument, false);
});

test("a follow-up item is asked only when its trigger answer is given", () => {
  const withOther = buildScreens([haq], { haq: { aids: [3] } });
  assert.ok(withOther.some((s) => s.id === "haq:other"));
  const without = buildScreens([haq], { haq: { aids: [1] } });
  assert.ok(!without.some((s) => s.id === "haq:other"));
});

test("resuming finds the saved screen, the screen now holding the saved item, or the first gap", () => {
  const answers = { haq: { d1: 0, d2: 1, d3: 2 } };
  const screens = buildScreens([haq, nrs], answers);
  assert.equal(findScreen(screens, "nrs:pain", answers), 3);
  assert.equal(findScreen(screens, "haq:d5", answers), 1);
  assert.equal(findScreen(screens, null, answers), 1);
  assert.equal(firstMissing(screens, { haq: { d1: 0, d2: 0, d3: 0, d4: 0, d5: 0 }, nrs: { pain: 4 } }),
    screens.length - 1);
});

test("a submission clears answers to items that no longer apply and keeps zeros", () => {
  const answers = { haq: { d1: 0, aids: [1], other: "cane" }, nrs: { pain: 0 } };
  assert.deepEqual(submission([haq, nrs], answers), {
    haq: { d1: 0, aids: [1], other: null },
    nrs: { pain: 0 },
  });
});
