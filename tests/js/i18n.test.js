// Counts in the participant's words: a one-minute survey says "1 minute", not "1 minutes".
import assert from "node:assert/strict";
import { test } from "node:test";

globalThis.document ??= { documentElement: {} }; // setLanguage marks the page's language
const { STRINGS, setLanguage, tn } = await import("../../static/participant/i18n.js");

test("one minute and one questionnaire are singular, in English and Spanish", () => {
  setLanguage("en");
  assert.equal(`${tn("home.questionnaires", 1)} ${tn("home.duration", 1)}`,
    "1 questionnaire. It takes about 1 minute.");
  assert.equal(`${tn("home.questionnaires", 5)} ${tn("home.duration", 12)}`,
    "5 questionnaires. It takes about 12 minutes.");
  assert.equal(tn("review.group_count", 1), "1 answer");
  setLanguage("es");
  assert.equal(`${tn("home.questionnaires", 1)} ${tn("home.duration", 1)}`,
    "1 cuestionario. Toma alrededor de 1 minuto.");
  assert.equal(`${tn("home.questionnaires", 5)} ${tn("home.duration", 12)}`,
    "5 cuestionarios. Toma unos 12 minutos.");
  assert.equal(tn("review.group_count", 2), "2 respuestas");
});

test("both languages have the same strings, singular forms included", () => {
  assert.deepEqual(Object.keys(STRINGS.es).sort(), Object.keys(STRINGS.en).sort());
});
