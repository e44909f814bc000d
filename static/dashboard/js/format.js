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

// Statuses of a message that did not reach the participant: its reason says why.
export const NOT_REACHED = ["failed", "undelivered", "not_sent", "suppressed", "cancelled"];

// What a message said: a push notification's payload (JSON) as the text the phone shows.
export function messageText(body) {
  if (!body || !body.startsWith("{")) return body || "";
  try {
    return JSON.parse(body).body || body;
  } catch {
    return body;
  }
}

// A message's status with a symbol, so it reads the same without colour: "✗ failed".
const MESSAGE_SYMBOL = { delivered: "✓", sent: "✓", failed: "✗", undelivered: "✗", not_sent: "✗",
  cancelled: "–", suppressed: "–", pending: "…", sending: "…" };

export function messageStatus(status) {
  const symbol = MESSAGE_SYMBOL[status];
  return symbol ? `${symbol} ${words(status)}` : words(status);
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

// A participant's reminder channels, in order of preference: the first that can deliver is
// used, the next one when it cannot (no device with notifications on, the push service refuses).
export const CHANNEL_CHOICES = [
  ["sms", "SMS only"],
  ["push,sms", "Push notification, then SMS"],
  ["push", "Push notification only"],
  ["sms,push", "SMS, then push notification"],
  ["email,sms", "Email, then SMS"],
  ["email", "Email only"],
  ["sms,email", "SMS, then email"],
  ["push,email", "Push notification, then email"],
];

export const CHANNEL_HINT = "Push reaches the phone once the participant turns on notifications on their page; "
  + "until then, or when it fails, “then SMS” sends a text instead";

export const EMAIL_HINT = "Email needs the participant's email address; when it bounces or the participant "
  + "unsubscribes, no more email goes to it and the next channel is used";

// Why no email goes to the participant's address (the server's email_flag).
export const EMAIL_FLAGS = {
  bounced: "the email address bounced",
  complaint: "the mail server refused email as spam",
  unsubscribed: "unsubscribed from email",
};

// Each channel by name: the message log's column and filter, the reminder choice.
export const CHANNEL_NAMES = { sms: "SMS", push: "Push notification", web: "Page notice", email: "Email" };

export function channelName(channel) {
  return CHANNEL_NAMES[channel] || channel;
}

// ["push", "sms"] as "Push notification, then SMS".
export function channelsText(channels) {
  const chosen = (channels || ["sms"]).join(",");
  const choice = CHANNEL_CHOICES.find(([value]) => value === chosen);
  if (choice) return choice[1];
  // "SMS" stays in capitals after the first channel: "Email, then push notification, then SMS".
  return (channels || ["sms"]).map((c, i) => (i && c !== "sms" ? channelName(c).toLowerCase() : channelName(c)))
    .join(", then ");
}
