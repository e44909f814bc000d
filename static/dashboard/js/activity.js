// What a participant did about a survey, as one line of facts in their time zone (issue 16:
// "did the participant see it?"). Pure: tested under node (tests/js/activity.test.js).
import { date, dateTime, time } from "./format.js";

// "phone unreachable or off (30003)", else "error 30003".
export function providerSaid(f) {
  return f.error_meaning ? `${f.error_meaning} (${f.error_code})` : `error ${f.error_code}`;
}

const DID = {
  text_sent: () => "Text sent", text_delivered: () => "Text delivered",
  text_not_delivered: () => "Text sent", text_failed: () => "Text failed",
  link_opened: () => "Link opened",
  started: () => "Started",
  stopped: (f) => (f.review ? "Stopped on the review page, not sent"
    : f.page ? `Stopped at page ${f.page} of ${f.pages}` : "Stopped"),
  submitted: () => "Sent",
};

// A survey's facts in order: "Text delivered Mar 5, 9:02 AM · Link opened 9:40 AM · Started
// 9:41 AM · Stopped at page 12 of 40 (9:55 AM)"; the date only when it changes.
export function activityLine(facts, timeZone) {
  let lastDay = null;
  return facts.map((f) => {
    const today = date(f.at, timeZone);
    const at = today === lastDay ? time(f.at, timeZone) : dateTime(f.at, timeZone);
    lastDay = today;
    if (f.what === "stopped") return `${DID.stopped(f)} (${at})`;
    const times = f.count > 1 ? ` (${f.count} times)` : "";
    const why = f.error_code ? `${f.what === "text_not_delivered" ? ", not delivered" : ""}: ${providerSaid(f)}` : "";
    return `${DID[f.what](f)} ${at}${times}${why}`;
  }).join(" · ");
}
