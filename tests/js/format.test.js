// The dashboard's dates: in the participant's or site's zone, across daylight-saving changes.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  channelsText, closes, dateTime, day, localInput, messageStatus, messageText, plural,
} from "../../static/dashboard/js/format.js";

test("an instant is shown on the wall clock of the zone, before and after the DST change", () => {
  assert.equal(localInput("2026-03-08T06:30:00Z", "America/New_York"), "2026-03-08T01:30");
  assert.equal(localInput("2026-03-08T07:30:00Z", "America/New_York"), "2026-03-08T03:30");
  assert.equal(dateTime("2026-11-01T13:00:00Z", "America/New_York"), "Nov 1, 2026, 8:00 AM");
  assert.equal(dateTime("", "America/New_York"), "");
});

test("a window closing at local midnight reads as the end of the previous day", () => {
  assert.equal(closes("2026-03-09T04:00:00Z", "America/New_York"), "Mar 8, 2026, end of day");
  assert.equal(closes("2026-03-09T15:00:00Z", "America/New_York"), "Mar 9, 2026, 11:00 AM");
});

test("a calendar date does not shift with the viewer's zone, and counts read as words", () => {
  assert.equal(day("2026-03-05"), "Mar 5, 2026");
  assert.equal(plural(1, "survey"), "1 survey");
  assert.equal(plural(3, "survey"), "3 surveys");
});

test("reminder channels, message statuses and push payloads read as words", () => {
  assert.equal(channelsText(["push", "sms"]), "Push notification, then SMS");
  assert.equal(channelsText(["sms"]), "SMS only");
  assert.equal(channelsText(["push", "email"]), "Push notification, then email");
  assert.equal(channelsText(["email", "sms"]), "Email, then SMS");
  assert.equal(channelsText(["email", "push", "sms"]), "Email, then push notification, then SMS");
  assert.equal(messageStatus("failed"), "✗ failed");
  assert.equal(messageStatus("not_sent"), "✗ not sent");
  const payload = JSON.stringify({ title: "Study check-in", body: "Your study check-in is open", url: "/p" });
  assert.equal(messageText(payload), "Your study check-in is open");
  assert.equal(messageText("{not json"), "{not json");
  assert.equal(messageText(null), "");
});
