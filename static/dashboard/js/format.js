// Dates in the participant's or site's time zone, and how statuses read without colour.

const cache = new Map();

// Times without a participant of their own are shown in the signed-in user's first site's zone.
let defaultZone = "America/New_York";

export function setDefaultZone(timeZone) {
  if (timeZone) defaultZone = timeZone;
}

function formatter(timeZone, options) {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  if (!cache.has(key)) cache.set(key, new Intl.DateTimeFormat("en-US", { timeZone, ...options }));
  return cache.get(key);
}

export function dateTime(iso, timeZone = defaultZone) {
  if (!iso) return "";
  return formatter(timeZone, { month: "short", day: "numeric", year: "numeric", hour: "numeric", minute: "2-digit" })
    .format(new Date(iso));
}

// "9:40 AM": the time alone, beside a date already shown.
export function time(iso, timeZone = defaultZone) {
  if (!iso) return "";
  return formatter(timeZone, { hour: "numeric", minute: "2-digit" }).format(new Date(iso));
}

// "Mar 1, 2026, 10:00 AM EST": a moment with its zone named, for "as of" lines.
export function asOf(iso, timeZone = defaultZone) {
  return formatter(timeZone, { month: "short", day: "numeric", year: "numeric", hour: "numeric",
    minute: "2-digit", timeZoneName: "short" }).format(new Date(iso));
}

export function date(iso, timeZone = defaultZone) {
  if (!iso) return "";
  return formatter(timeZone, { month: "short", day: "numeric", year: "numeric" }).format(new Date(iso));
}

export function shortDate(iso, timeZone = defaultZone) {
  if (!iso) return "";
  return formatter(timeZone, { month: "short", day: "numeric" }).format(new Date(iso));
}

// Local wall-clock "YYYY-MM-DDTHH:MM" for <input type="datetime-local">.
export function localInput(iso, timeZone) {
  const parts = Object.fromEntries(
    formatter(timeZone, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

// Cell statuses: a symbol and a word, so the grid reads the same without colour.
export const STATUS = {
  on_time: { symbol: "✓", text: "on time", long: "Done on time" },
  late: { symbol: "✓", text: "late", long: "Done late" },
  missed: { symbol: "✗", text: "missed", long: "Missed" },
  open: { symbol: "○", text: "open", long: "Open now" },
  in_progress: { symbol: "◐", text: "started", long: "Started, not finished" },
  upcoming: { symbol: "·", text: "upcoming", long: "Upcoming" },
  expected: { symbol: "…", text: "expected", long: "Expected (infusion not given yet)" },
  cancelled: { symbol: "–", text: "cancelled", long: "Cancelled" },
};

// A message's delivery status as a badge class: a text that did not arrive stands out.
const MESSAGE_TONE = { failed: "missed", undelivered: "missed", delivered: "on_time",
  cancelled: "cancelled", suppressed: "cancelled", not_sent: "missed" };

export function messageTone(status) {
  return MESSAGE_TONE[status] || "upcoming";
}

export function cellKey(cell) {
  return cell.projected ? "expected" : cell.status;
}

export const BUCKET_LABELS = {
  on_time: "On time", late: "Late", missed: "Missed", open: "Open", upcoming: "Upcoming",
};

export function plural(n, word, many = `${word}s`) {
  return `${n} ${n === 1 ? word : many}`;
}

export function words(code) {
  return String(code || "").replaceAll("_", " ");
}

// A calendar date ("2026-03-05") as "Mar 5, 2026", with no time-zone shift.
export function day(isoDate) {
  if (!isoDate) return "";
  return formatter("UTC", { month: "short", day: "numeric", year: "numeric" }).format(new Date(`${isoDate}T12:00:00Z`));
}

// When a window closes: "Mar 2, 2026, end of day" for a local midnight, else the time.
export function closes(iso, timeZone) {
  const local = localInput(iso, timeZone);
  if (!local.endsWith("T00:00")) return dateTime(iso, timeZone);
  return `${date(new Date(Date.parse(iso) - 60000).toISOString(), timeZone)}, end of day`;
}

// A participant's reminder channels, in order of preference (the first that can deliver).
export const CHANNEL_CHOICES = [
  ["sms", "SMS"],
  ["push,sms", "Push notification, SMS if push cannot deliver"],
  ["push", "Push notification only"],
  ["sms,push", "SMS, push notification if SMS cannot deliver"],
];

export function channelsText(channels) {
  const names = { sms: "SMS", push: "push", email: "email" };
  return (channels || ["sms"]).map((c) => names[c] || c).join(", then ");
}
