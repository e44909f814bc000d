// The participant's page: opens the session from the link, then shows home, a survey, or
// the page for the survey's state. Plain modules, no build step.
import { ApiError, NetworkError, setCsrfToken } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { api } from "./endpoints.js";
import {
  STRINGS, assessmentName, formatClosing, formatDateTime, formatDay, formatOpening, language,
  setLanguage, t, tn,
} from "./i18n.js";
import { createOutbox } from "./outbox.js";
import { installCard, notificationsCard, registerServiceWorker } from "./pwa.js";
import { makeStore, saveLanguage, savedLanguage } from "./store.js";
import { Survey } from "./survey.js";

const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;
const view = document.getElementById("view");
const statusLine = document.getElementById("status");
const saveLine = document.getElementById("save-status");
const langButton = document.getElementById("lang-switch");

const app = {
  view,
  session: null,
  store: null,
  outbox: null,
  survey: null,
  rerender: () => {},
  show: (...nodes) => show(view, ...nodes),
  go,
  openSurvey: (id, options) => openSurvey(id, options),
  showState,
  saveIndicator,
};

// --- small helpers ---------------------------------------------------------------------

// Replace the main region's content and move focus to the new heading, so screen readers
// start reading the new screen from its top.
function show(main, ...children) {
  main.replaceChildren(...children.flat(Infinity).filter(Boolean));
  window.scrollTo(0, 0);
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
    document.title = `${heading.textContent.trim()} – ${document.body.dataset.program || ""}`;
  }
}

function announce(text) {
  statusLine.textContent = text || "";
}

function saveIndicator(text, important = false) {
  saveLine.textContent = text || "";
  saveLine.classList.toggle("warning", important);
  if (important) announce(text);
}

function link(text, path, className = "button primary") {
  return h("a", {
    href: path, class: className,
    onclick: (event) => { event.preventDefault(); go(path); },
  }, text);
}

function homeButton() {
  return link(t("state.home"), "/p");
}

function phoneText(phone) {
  const us = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phone || "");
  return us ? `(${us[1]}) ${us[2]}-${us[3]}` : phone;
}

function renderChrome() {
  const other = t("lang.other_code");
  langButton.textContent = t("lang.other");
  langButton.setAttribute("lang", other);
  langButton.setAttribute("aria-label", t("lang.switch_label"));
  const contact = app.session?.contact;
  document.body.dataset.program = contact?.program || t("app.program");
  document.getElementById("program").textContent = document.body.dataset.program;
  const footer = document.getElementById("contact");
  footer.replaceChildren();
  if (contact?.phone) {
    footer.append(h("p", {}, t("contact.call"), " ",
      h("a", { href: `tel:${contact.phone}` }, phoneText(contact.phone))),
    h("p", { class: "site" }, contact.site));
  }
}

function go(path) {
  if (location.pathname !== path) history.pushState(null, "", path);
  route();
}

function route() {
  app.survey?.close();
  app.survey = null;
  saveIndicator("");
  const match = /^\/p\/a\/(\d+)\/?$/.exec(location.pathname);
  if (match) openSurvey(Number(match[1]));
  else showHome();
}

// --- pages -----------------------------------------------------------------------------

function showState(state, data = {}) {
  app.rerender = () => showState(state, data);
  const tz = app.session?.timezone;
  const vars = {
    not_open: () => ({ date: formatOpening(data.opens, tz) }),
    closed: () => ({ date: formatClosing(data.finish_by || data.closes, tz) }),
    completed: () => ({ date: data.completed_on ? formatDay(data.completed_on) : "" }),
  }[state]?.() || {};
  const known = `state.${state}.title` in STRINGS.en;
  const key = known ? state : "error";
  const signedIn = app.session && !["link_expired", "no_session"].includes(key);
  app.show(h("div", { class: `screen state state-${key}` },
    h("h1", {}, t(`state.${key}.title`)),
    h("p", {}, t(`state.${key}.text`, vars)),
    signedIn ? homeButton() : null));
}

function showProblem(error, retry) {
  if (error instanceof ApiError && error.status === 401) {
    showState(error.state || "link_expired");
    return;
  }
  app.rerender = () => showProblem(error, retry);
  const offline = error instanceof NetworkError;
  app.show(h("div", { class: "screen state" },
    h("h1", {}, t(offline ? "state.offline.title" : "state.error.title")),
    h("p", {}, t(offline ? "state.offline.text" : "state.error.text")),
    retry ? h("button", { type: "button", class: "button primary", onclick: retry },
      t("state.retry")) : null));
}

function dueCard(a, tz, now) {
  const started = a.status === "in_progress";
  const inGrace = a.finish_by && new Date(now) >= new Date(a.closes.at);
  const deadline = inGrace
    ? t("home.finish_by", { datetime: formatDateTime(a.finish_by.at, tz) })
    : a.closes.end_of_day ? t("home.due_until_end", { date: formatClosing(a.closes, tz) })
      : t("home.due_until", { datetime: formatClosing(a.closes, tz) });
  return h("li", { class: "card due" },
    h("h3", {}, assessmentName(a.code)),
    h("p", { class: "deadline" }, deadline),
    h("p", {}, `${tn("home.questionnaires", a.instrument_count)} ${tn("home.duration", a.expected_minutes)}`),
    started && a.percent_done !== null
      ? h("p", { class: "done-so-far" }, t("home.percent_done", { percent: a.percent_done })) : null,
    link(t(started ? "home.continue" : "home.start"), `/p/a/${a.id}`));
}

function visitItem(v, tz) {
  const when = formatDateTime(v.starts.at, tz);
  return h("li", { class: "card visit" },
    h("h3", {}, t(v.mode === "video" ? "visit.video" : "visit.phone")),
    h("p", {}, t("visit.when", { datetime: when, minutes: v.duration_minutes })),
    h("div", { class: "actions" },
      h("a", { class: "button secondary", href: api.calendarUrl(v, language()), download: "",
        "aria-label": t("visit.add_label", { datetime: when }) }, t("visit.add")),
      v.join_url ? h("a", { class: "button secondary", href: v.join_url, target: "_blank",
        rel: "noopener noreferrer" }, t("visit.join")) : null));
}

async function showHome() {
  app.rerender = showHome;
  let home;
  let notify;
  try {
    [home, notify] = await Promise.all([api.home(), notificationsCard()]);
  } catch (error) {
    showProblem(error, showHome);
    return;
  }
  const tz = home.timezone;
  const pending = app.store.allPending();
  const parts = [];
  parts.push(h("h1", {}, t(home.due.length ? "home.title" : "home.nothing_title")));
  for (const { pending: p } of pending) {
    parts.push(h("p", { class: "notice" }, t("home.pending", { name: assessmentName(p.code) })));
  }
  if (home.due.length) {
    parts.push(h("section", { "aria-labelledby": "due-h" },
      h("h2", { id: "due-h" }, t("home.due")),
      h("ul", { class: "cards" }, home.due.map((a) => dueCard(a, tz, home.now)))));
  } else {
    parts.push(h("p", {}, t("home.nothing_text")));
    if (home.upcoming.length) {
      parts.push(h("p", {}, t("home.next_survey", {
        date: formatOpening(home.upcoming[0].opens, tz) })));
    }
  }
  if (home.upcoming.length) {
    parts.push(h("section", { "aria-labelledby": "upcoming-h" },
      h("h2", { id: "upcoming-h" }, t("home.upcoming")),
      h("ul", { class: "plain" }, home.upcoming.map((a) => h("li", {},
        t("home.opens_on", { name: assessmentName(a.code), date: formatOpening(a.opens, tz) }))))));
  }
  parts.push(h("section", { "aria-labelledby": "visits-h" },
    h("h2", { id: "visits-h" }, t("home.visits")),
    home.visits.length ? h("ul", { class: "cards" }, home.visits.map((v) => visitItem(v, tz)))
      : h("p", {}, t("home.no_visits"))));
  if (home.history.length) {
    parts.push(h("section", { "aria-labelledby": "history-h" },
      h("h2", { id: "history-h" }, t("home.history")),
      h("ul", { class: "plain" }, home.history.map((a) => h("li", {},
        t("home.history_item", { name: assessmentName(a.code), date: formatDay(a.completed_on) }))))));
  }
  parts.push(notify, installCard());
  app.show(h("div", { class: "screen home" }, parts));
}

async function openSurvey(id, options = {}) {
  app.rerender = () => openSurvey(id, app.survey ? {
    position: app.survey.screen.id, toReview: app.survey.toReview } : options);
  app.survey?.close();
  app.survey = null;
  let data;
  try {
    data = await api.assessment(id, language());
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) showState("not_found");
    else showProblem(error, () => openSurvey(id, options));
    return;
  }
  if (data.state === "completed") app.store.clear(id);
  if (data.state !== "open") {
    showState(data.state, data);
    return;
  }
  if (app.store.pending(id)) {
    showQueued(id);
    app.outbox.send(id);
    return;
  }
  app.survey = new Survey(app, data, options);
  app.survey.render();
  if (app.survey.dirty.size) app.survey.sync();
}

function showQueued(id, stillOffline = false) {
  app.rerender = () => showQueued(id);
  app.show(h("div", { class: "screen state queued" },
    h("h1", {}, t("queued.title")),
    h("p", {}, t("queued.text")),
    h("p", {}, t("queued.keep")),
    h("button", { type: "button", class: "button primary",
      onclick: () => { announce(""); app.outbox.retryNow(); } }, t("queued.retry"))));
  announce(stillOffline ? t("queued.still") : t("queued.title"));
}

function showDone(result) {
  app.rerender = () => showDone(result);
  app.show(h("div", { class: "screen state done" },
    h("h1", {}, t("done.title")),
    h("p", {}, t("done.text", { datetime: formatDateTime(result.received.at, app.session.timezone) })),
    link(t("done.home"), "/p")));
}

function currentSurveyId() {
  const match = /^\/p\/a\/(\d+)\/?$/.exec(location.pathname);
  return match ? Number(match[1]) : null;
}

const outboxEvents = {
  sent(id, result) {
    saveIndicator("");
    if (currentSurveyId() === id) showDone(result);
    else if (!currentSurveyId()) showHome();
  },
  queued(id, pending, error) {
    if (currentSurveyId() !== id) return;
    saveIndicator("");
    if (error instanceof ApiError && error.status === 401) showState(error.state || "link_expired");
    else showQueued(id, document.querySelector(".queued") !== null);
  },
  refused(id, error) {
    if (currentSurveyId() !== id) return;
    if (error.status === 422) {
      openSurvey(id, { position: "review" }).then(() => announce(t("review.refused")));
    } else {
      openSurvey(id);
    }
  },
};

// --- second factor -----------------------------------------------------------------------

function askSecondFactor(token, kind, message) {
  return new Promise((resolve) => {
    const render = (note) => {
      app.rerender = () => render(note);
      const input = h("input", {
        id: "second-factor", name: "second-factor", inputmode: "numeric",
        autocomplete: kind === "pin" ? "one-time-code" : "bday-year",
        pattern: "[0-9]*", maxlength: kind === "pin" ? 8 : 4,
        "aria-describedby": note ? "sf-note sf-intro" : "sf-intro",
        "aria-invalid": note ? "true" : null,
      });
      const form = h("form", {
        class: "screen second-factor", novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          const value = input.value.trim();
          if (!value) {
            render(t("sf.empty"));
            return;
          }
          try {
            resolve(await api.openSession(token, value));
          } catch (error) {
            const state = error instanceof ApiError ? error.state : null;
            if (state === "second_factor_wrong") render(t("sf.wrong"));
            else if (state === "second_factor_locked") render(t("sf.locked"));
            else if (error instanceof ApiError && error.status === 429) render(t("sf.too_many"));
            else if (state) { showState(state); }
            else showProblem(error, () => render(note));
          }
        },
      },
      h("h1", {}, t(`sf.${kind}.title`)),
      h("p", { id: "sf-intro" }, t("sf.intro")),
      note ? h("p", { class: "form-error", id: "sf-note", role: "alert" }, note) : null,
      h("label", { for: "second-factor", class: "field-label" }, t(`sf.${kind}.label`)),
      input,
      h("div", { class: "nav" },
        h("button", { type: "submit", class: "button primary" }, t("sf.submit"))));
      app.show(form);
      if (note) input.focus();
    };
    render(message);
  });
}

// --- start -------------------------------------------------------------------------------

async function openSession() {
  const fragment = location.hash.slice(1);
  if (fragment) {
    // The token must not stay in the address bar, the history or a bookmark.
    history.replaceState(null, "", location.pathname + location.search);
  }
  if (!TOKEN.test(fragment)) return api.session();
  try {
    return await api.openSession(fragment);
  } catch (error) {
    const errors = error instanceof ApiError ? error.body.errors || {} : {};
    if (errors.language && !savedLanguage()) {
      setLanguage(errors.language);
      renderChrome();
    }
    if (errors.state === "second_factor_required") {
      return askSecondFactor(fragment, errors.kind);
    }
    if (errors.state === "second_factor_not_set") {
      app.rerender = () => app.show(h("div", { class: "screen state" },
        h("h1", {}, t("sf.not_set.title")), h("p", {}, t("sf.not_set.text"))));
      app.rerender();
      return null;
    }
    throw error;
  }
}

async function start() {
  registerServiceWorker();
  setLanguage(savedLanguage() || (navigator.language || "en").slice(0, 2));
  renderChrome();
  langButton.addEventListener("click", () => {
    setLanguage(t("lang.other_code"));
    saveLanguage(language());
    renderChrome();
    app.rerender();
  });
  window.addEventListener("popstate", route);
  let session;
  try {
    session = await openSession();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showState(error.state || "no_session");
    else if (error instanceof ApiError && error.status === 429) showState("link_expired");
    else showProblem(error, () => location.reload());
    return;
  }
  if (!session) return;
  app.session = session;
  setCsrfToken(session.csrf_token);
  if (!savedLanguage()) setLanguage(session.language);
  app.store = makeStore(session.participant_id);
  app.outbox = createOutbox(app.store, outboxEvents);
  renderChrome();
  window.addEventListener("online", () => app.survey?.sync());
  route();
  app.outbox.sendAll();
}

start();
