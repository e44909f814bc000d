// Turning instrument definitions into screens: one question per screen, except a section
// with a common stem ("Are you able to:") whose single-choice items share one answer
// scale: those go together, at most MAX_GROUP per screen (the HAQ's categories).
const MAX_GROUP = 4;

export function applies(item, answers) {
  if (!item.enable_when) return true;
  const trigger = answers?.[item.enable_when.item];
  return Array.isArray(trigger) && trigger.includes(item.enable_when.contains);
}

export function answered(value) {
  return value !== undefined && value !== null;
}

function scale(item) {
  return item.type === "single_choice" ? item.options.map((o) => o.code).join("|") : null;
}

function chunks(run) {
  const count = Math.ceil(run.length / MAX_GROUP);
  const out = [];
  let start = 0;
  for (let i = 0; i < count; i += 1) {
    const size = Math.floor(run.length / count) + (i < run.length % count ? 1 : 0);
    out.push(run.slice(start, start + size));
    start += size;
  }
  return out;
}

function groups(instrument, items) {
  const stems = new Set(instrument.sections.filter((s) => s.instructions).map((s) => s.id));
  const out = [];
  let i = 0;
  while (i < items.length) {
    const first = items[i];
    let j = i + 1;
    if (first.type === "single_choice" && stems.has(first.section)) {
      while (j < items.length && items[j].section === first.section
        && scale(items[j]) === scale(first)) j += 1;
    }
    out.push(...chunks(items.slice(i, j)));
    i = j;
  }
  return out;
}

export function buildScreens(instruments, answers) {
  const screens = [];
  for (const instrument of instruments) {
    const given = answers[instrument.code] || {};
    const items = instrument.items.filter((item) => applies(item, given));
    groups(instrument, items).forEach((group, index) => {
      screens.push({
        id: `${instrument.code}:${group[0].id}`,
        instrument,
        items: group,
        section: instrument.sections.find((s) => s.id === group[0].section),
        firstOfInstrument: index === 0,
      });
    });
  }
  screens.push({ id: "review", review: true, items: [] });
  return screens;
}

// Where a saved position is now (a screen id, or a screen holding that item); else the
// first screen with a required question not answered.
export function findScreen(screens, position, answers) {
  if (position) {
    const exact = screens.findIndex((s) => s.id === position);
    if (exact >= 0) return exact;
    const [code, itemId] = position.split(":");
    const holding = screens.findIndex((s) => s.instrument?.code === code
      && s.items.some((item) => item.id === itemId));
    if (holding >= 0) return holding;
  }
  return firstMissing(screens, answers);
}

export function missingOn(screen, answers) {
  const given = answers[screen.instrument?.code] || {};
  return screen.items.filter((item) => item.required && !answered(given[item.id]));
}

export function firstMissing(screens, answers) {
  const index = screens.findIndex((s) => !s.review && missingOn(s, answers).length > 0);
  return index >= 0 ? index : screens.length - 1;
}

// The answers to send: every instrument's answers, with null for items that no longer
// apply (so an earlier answer to them is cleared on the server too).
export function submission(instruments, answers) {
  const out = {};
  for (const instrument of instruments) {
    const given = answers[instrument.code] || {};
    const values = {};
    for (const item of instrument.items) {
      if (!applies(item, given)) {
        if (item.id in given) values[item.id] = null;
      } else if (answered(given[item.id])) {
        values[item.id] = given[item.id];
      }
    }
    out[instrument.code] = values;
  }
  return out;
}
