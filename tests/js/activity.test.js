// A survey's facts on the participant's timeline: one line, in the participant's zone.
import assert from "node:assert/strict";
import { test } from "node:test";

import { activityLine } from "../../static/dashboard/js/activity.js";

const NY = "America/New_York";

test("the facts read in order, the date written only when it changes", () => {
  assert.equal(activityLine([
    { what: "text_delivered", at: "2026-03-04T14:02:00+00:00" },
    { what: "link_opened", at: "2026-03-04T14:40:00+00:00", count: 1 },
    { what: "started", at: "2026-03-04T14:41:00+00:00" },
    { what: "stopped", at: "2026-03-04T14:55:00+00:00", page: 12, pages: 40, review: false },
  ], NY), "Text delivered Mar 4, 2026, 9:02 AM · Link opened 9:40 AM · Started 9:41 AM · "
    + "Stopped at page 12 of 40 (9:55 AM)");
});

test("across the change to summer time, a text that did not arrive says why", () => {
  assert.equal(activityLine([
    { what: "link_opened", at: "2026-03-08T06:30:00+00:00", count: 3 },
    { what: "text_not_delivered", at: "2026-03-08T07:30:00+00:00", error_code: "30003",
      error_meaning: "phone unreachable or off" },
    { what: "text_failed", at: "2026-03-09T13:00:00+00:00", error_code: "39999",
      error_meaning: null },
  ], NY), "Link opened Mar 8, 2026, 1:30 AM (3 times) · Text sent 3:30 AM, not delivered: "
    + "phone unreachable or off (30003) · Text failed Mar 9, 2026, 9:00 AM: error 39999");
});

test("stopping on the review page, or on a page that sent no number, and sending", () => {
  assert.equal(activityLine([
    { what: "stopped", at: "2026-03-04T14:55:00+00:00", page: 40, pages: 40, review: true },
  ], NY), "Stopped on the review page, not sent (Mar 4, 2026, 9:55 AM)");
  assert.equal(activityLine([
    { what: "stopped", at: "2026-03-04T14:55:00+00:00", page: null, pages: null },
    { what: "submitted", at: "2026-03-05T14:55:00+00:00" },
  ], NY), "Stopped (Mar 4, 2026, 9:55 AM) · Sent Mar 5, 2026, 9:55 AM");
});
