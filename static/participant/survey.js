// One survey: screens, answers saved as they are given (server first, this phone as the
// fallback), review, and submit through the outbox.
import { ApiError, NetworkError } from "../shared/api.js";
import { api } from "./endpoints.js";
import { h, uid } from "../shared/dom.js";
import { assessmentName, language, t, tn } from "./i18n.js";
import {
  answered, applies, buildScreens, findScreen, firstMissing, missingOn, submission,
} from "./screens.js";
import { newIdempotencyKey } from "./store.js";
import { describeAnswer, renderItem } from "./widgets.js";

const SLIDER_PAUSE_MS = 600;

export class Survey {
  constructor(app, data, { position = null, toReview = false } = {}) {
    this.app = app;
    this.id = data.id;
    this.data = data;
    const local = app.store.draft(this.id);
    this.answers = structuredClone(data.answers || {});
    for (const code of local.dirty) {
      this.answers[code] = { ...(this.answers[code] || {}), ...(local.answers[code] || {}) };
    }
    this.dirty = new Set(local.dirty);
    this.screens = buildScreens(data.instruments, this.answers);
    this.position = position || (local.dirty.length && local.position) || data.position;
    this.index = findScreen(this.screens, this.position, this.answers);
    this.toReview = toReview;
    this.closed = false;
    this.syncing = false;
    this.retryDelay = 3000;
    this.timer = null;
  }

  get screen() {
    return this.screens[this.index];
  }

  // "Page 12 of 40" as the participant sees it, for the study team's timeline (no answers).
  pageOf(screenId) {
    const index = this.screens.findIndex((s) => s.id === screenId);
    return index >= 0 ? { page: index + 1, pages: this.screens.length } : {};
  }

  persist() {
    this.app.store.saveDraft(this.id, {
      answers: this.answers, dirty: [...this.dirty], position: this.position,
    });
  }

  // --- answers -----------------------------------------------------------------------

  setAnswer(instrument, item, value) {
    const given = (this.answers[instrument.code] ||= {});
    given[item.id] = value;
    if (item.type === "multi_choice") {
      for (const other of instrument.items) {
        if (!applies(other, given) && answered(given[other.id])) given[other.id] = null;
      }
      const current = this.screen.id;
      this.screens = buildScreens(this.data.instruments, this.answers);
      this.index = this.screens.findIndex((s) => s.id === current);
    }
    this.dirty.add(instrument.code);
    this.persist();
    this.app.saveIndicator(t("save.saving"));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.sync(), item.type === "vas" ? SLIDER_PAUSE_MS : 0);
  }

  async sync() {
    if (this.syncing || this.closed) return;
    this.syncing = true;
    clearTimeout(this.timer);
    try {
      while (this.dirty.size && !this.closed) {
        const [code] = this.dirty;
        this.dirty.delete(code);
        try {
          await api.saveDraft(this.id, {
            instrument: code, answers: this.answers[code] || {}, language: language(),
            screen: this.position, ...this.pageOf(this.position),
          });
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 422)) this.dirty.add(code);
          throw error;
        } finally {
          this.persist();
        }
      }
      this.retryDelay = 3000;
      if (!this.closed) this.app.saveIndicator(t("save.saved"));
    } catch (error) {
      this.syncFailed(error);
    } finally {
      this.syncing = false;
    }
  }

  syncFailed(error) {
    if (this.closed) return;
    if (error instanceof NetworkError || (error instanceof ApiError && error.status >= 500)) {
      this.app.saveIndicator(t("save.offline"), true);
      this.timer = setTimeout(() => this.sync(), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 60000);
    } else if (error instanceof ApiError && error.status === 422) {
      this.app.saveIndicator(t("save.refused"), true);
    } else if (error instanceof ApiError && error.status === 401) {
      this.close();
      this.app.showState(error.state || "link_expired");
    } else if (error instanceof ApiError && error.status === 409) {
      this.close();
      this.app.store.clear(this.id);
      this.app.openSurvey(this.id);
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
  }

  // --- navigation --------------------------------------------------------------------

  move(index) {
    this.index = index;
    this.position = this.screen.id;
    const previous = this.screens[index - 1];
    const owner = this.screen.instrument || previous?.instrument;
    if (owner) this.dirty.add(owner.code);
    this.persist();
    this.sync();
    this.render();
  }

  next() {
    const missing = missingOn(this.screen, this.answers);
    if (missing.length) {
      this.showMissing(missing);
      return;
    }
    // Leaving a check-all-that-apply question with nothing checked answers "none".
    for (const item of this.screen.items) {
      const given = (this.answers[this.screen.instrument.code] ||= {});
      if (item.type === "multi_choice" && !answered(given[item.id])) {
        given[item.id] = [];
        this.dirty.add(this.screen.instrument.code);
      }
    }
    if (this.toReview) {
      this.toReview = false;
      this.move(this.screens.length - 1);
    } else {
      this.move(this.index + 1);
    }
  }

  back() {
    if (this.index === 0) {
      this.close();
      this.app.go("/p");
    } else {
      this.toReview = false;
      this.move(this.index - 1);
    }
  }

  showMissing(missing) {
    const form = this.app.view.querySelector("form");
    const alert = form.querySelector(".form-error");
    alert.textContent = t(this.screen.items.length > 1 ? "survey.required_group" : "survey.required");
    alert.hidden = false;
    for (const item of missing) {
      const box = form.querySelector(`[data-item="${item.id}"]`);
      box?.classList.add("missing");
      box?.querySelector(".missing-note")?.removeAttribute("hidden");
    }
    form.querySelector(`[data-item="${missing[0].id}"] input`)?.focus();
  }

  // --- rendering ---------------------------------------------------------------------

  render() {
    if (this.screen.review) {
      this.renderReview();
      return;
    }
    const { instrument, items, section } = this.screen;
    const given = this.answers[instrument.code] || {};
    const headingId = uid("question");
    const single = items.length === 1;
    const stem = section?.instructions;
    const heading = single
      ? h("h1", { id: headingId }, stem ? h("span", { class: "stem" }, stem) : null, " ",
        items[0].text)
      : h("h1", { id: headingId }, section.title);
    const fields = items.map((item) => h("div", { class: "item", "data-item": item.id },
      h("p", { class: "missing-note", hidden: true }, t("survey.unanswered")),
      renderItem(item, given[item.id], (value) => this.setAnswer(instrument, item, value),
        single ? { labelledBy: headingId } : { legend: item.text })));
    const form = h("form", {
      class: "screen question", novalidate: true,
      onsubmit: (event) => { event.preventDefault(); this.next(); },
    },
    this.progress(instrument.title),
    heading,
    this.screen.firstOfInstrument && instrument.instructions
      ? h("p", { class: "instructions" }, instrument.instructions) : null,
    !single && stem ? h("p", { class: "stem" }, stem) : null,
    fields,
    h("p", { class: "form-error", role: "alert", hidden: true }),
    this.navigation(this.toReview ? t("survey.to_review") : t("survey.next")),
    this.screen.firstOfInstrument && instrument.attribution
      ? h("p", { class: "attribution" }, instrument.attribution) : null);
    this.app.show(form);
  }

  progress(title) {
    const bar = h("span");
    bar.style.width = `${Math.round(((this.index + 1) / this.screens.length) * 100)}%`;
    return h("div", { class: "progress" },
      h("p", { class: "eyebrow" }, title),
      h("p", { class: "progress-text" },
        t("survey.page", { n: this.index + 1, total: this.screens.length })),
      h("div", { class: "progress-bar", "aria-hidden": "true" }, bar));
  }

  navigation(nextLabel) {
    return h("div", { class: "nav" },
      h("button", { type: "button", class: "button secondary", onclick: () => this.back() },
        this.index === 0 ? t("survey.home") : t("survey.back")),
      nextLabel ? h("button", { type: "submit", class: "button primary" }, nextLabel) : null);
  }

  renderReview() {
    const missingAt = firstMissing(this.screens, this.answers);
    const complete = this.screens[missingAt].review;
    const blocks = this.data.instruments.map((instrument) => {
      const rows = [];
      this.screens.forEach((screen, index) => {
        if (screen.instrument !== instrument) return;
        for (const item of screen.items) {
          const text = describeAnswer(item, this.answers[instrument.code]?.[item.id]);
          const missing = !text && item.required;
          rows.push(h("div", { class: "review-row" },
            h("dt", {}, item.text),
            h("dd", {},
              h("span", { class: missing ? "answer unanswered" : "answer" },
                text || t(missing ? "review.not_answered" : "review.none_checked")),
              h("button", {
                type: "button", class: "button link",
                "aria-label": t("review.change_label", { question: item.text }),
                onclick: () => { this.toReview = true; this.move(index); },
              }, t("review.change")))));
        }
      });
      // One collapsed group per questionnaire: the page stays short and Send near the top.
      const missing = rows.filter((row) => row.querySelector(".unanswered")).length;
      return h("details", { class: "review-block" },
        h("summary", {}, h("span", { class: "review-title" }, instrument.title), " ",
          h("span", { class: missing ? "review-count unanswered" : "review-count" },
            missing ? t("review.group_missing", { count: missing })
              : tn("review.group_count", rows.length))),
        h("dl", {}, rows));
    });
    const action = h("div", { class: "review-action" }, complete
      ? h("button", { type: "button", class: "button primary wide", id: "send",
        onclick: () => this.submit() }, t("review.send"))
      : h("div", {},
        h("p", { class: "form-error" }, t("review.missing")),
        h("button", { type: "button", class: "button primary wide",
          onclick: () => { this.toReview = true; this.move(missingAt); } },
        t("review.go_missing"))));
    this.app.show(h("div", { class: "screen review" },
      this.progress(assessmentName(this.data.code)),
      h("h1", {}, t("review.title")),
      h("p", {}, t(complete ? "review.intro" : "review.intro_missing")),
      blocks,
      action,
      this.navigation(null)));
  }

  submit() {
    this.close();
    const sendButton = this.app.view.querySelector("#send");
    if (sendButton) sendButton.disabled = true;
    this.app.saveIndicator(t("review.sending"));
    this.app.store.setPending(this.id, {
      key: newIdempotencyKey(),
      answers: submission(this.data.instruments, this.answers),
      language: language(),
      code: this.data.code,
    });
    this.app.outbox.send(this.id);
  }
}
