// One renderer per item type. Each returns an element and reports answers through
// onChange(value). Native inputs throughout, so keyboards and screen readers work as usual.
import { h, uid } from "../shared/dom.js";
import { t } from "./i18n.js";

// `label` is either {legend: text} (the item's own question) or {labelledBy: id} (the
// screen's heading is the question).
function group(className, label, describedBy, ...children) {
  return h("fieldset", {
    class: className,
    "aria-labelledby": label.labelledBy,
    "aria-describedby": describedBy,
  }, label.legend ? h("legend", {}, label.legend) : null, ...children);
}

function choices(item, value, onChange, label, multiple) {
  const name = uid(item.id);
  const hintId = uid("hint");
  const selected = new Set(multiple ? value || [] : [value]);
  const options = item.options.map((option) => {
    const input = h("input", {
      type: multiple ? "checkbox" : "radio",
      name,
      value: String(option.code),
      checked: selected.has(option.code),
    });
    input.addEventListener("change", () => {
      if (!multiple) {
        onChange(option.code);
        return;
      }
      const checked = new Set(
        [...input.closest("fieldset").querySelectorAll("input:checked")].map((el) => el.value),
      );
      onChange(item.options.map((o) => o.code).filter((code) => checked.has(String(code))));
    });
    return h("label", { class: "option" }, input, h("span", { class: "option-text" }, option.label));
  });
  return group("choices", label, hintId,
    h("p", { class: "hint", id: hintId }, t(multiple ? "survey.check_all" : "survey.choose_one")),
    h("div", { class: "options" }, options));
}

function nrs(item, value, onChange, label) {
  const name = uid(item.id);
  const anchorsId = uid("anchors");
  const ends = { [item.min]: item.anchors.min, [item.max]: item.anchors.max };
  const buttons = [];
  for (let n = item.min; n <= item.max; n += 1) {
    // The end points say what they mean: "0, No pain" (the visible label comes first).
    const input = h("input", { type: "radio", name, value: String(n), checked: value === n,
      class: "visually-hidden", "aria-label": ends[n] ? `${n}, ${ends[n]}` : null });
    input.addEventListener("change", () => onChange(n));
    buttons.push(h("label", { class: "nrs-option" }, input,
      h("span", { class: "nrs-number" }, String(n))));
  }
  return group("nrs", label, anchorsId,
    h("div", { class: "nrs-scale" }, buttons),
    h("div", { class: "scale-anchors", id: anchorsId },
      h("span", {}, t("nrs.anchor", { value: item.min, text: item.anchors.min })),
      h("span", {}, t("nrs.anchor", { value: item.max, text: item.anchors.max }))));
}

// The VAS: whole millimetres 0-100 on a line with no mark until the participant makes one.
// An untouched line is "not answered", never 0 (the hidden native value is only where a
// keyboard user starts from).
const THUMB_WIDTH = 16;

function vas(item, value, onChange, label) {
  const hintId = uid("hint");
  const anchorsId = uid("anchors");
  let touched = value !== undefined && value !== null;
  const input = h("input", {
    type: "range", min: item.min, max: item.max, step: 1,
    value: String(touched ? value : Math.round((item.min + item.max) / 2)),
    "aria-labelledby": label.labelledBy,
    "aria-label": label.legend,
    "aria-describedby": `${anchorsId} ${hintId}`,
  });
  const update = () => {
    input.classList.toggle("untouched", !touched);
    input.setAttribute("aria-valuetext", touched ? t("vas.value", { value: input.value })
      : t("vas.untouched"));
  };
  const mark = (next) => {
    touched = true;
    input.value = String(Math.min(item.max, Math.max(item.min, next)));
    update();
    onChange(Number(input.value));
  };
  input.addEventListener("input", () => mark(Number(input.value)));
  input.addEventListener("pointerdown", (event) => {
    // Phones that do not move the thumb on a tap (iOS) get the mark where the finger is.
    const box = input.getBoundingClientRect();
    const share = (event.clientX - box.left - THUMB_WIDTH / 2) / (box.width - THUMB_WIDTH);
    mark(Math.round(item.min + Math.min(1, Math.max(0, share)) * (item.max - item.min)));
  });
  const nudge = (step, text, glyph) => h("button", {
    type: "button", class: "nudge", "aria-label": text,
    onclick: () => mark(touched ? Number(input.value) + step : Number(input.value)),
  }, h("span", { "aria-hidden": "true" }, glyph));
  update();
  return h("div", { class: "vas", role: "group", "aria-labelledby": label.labelledBy },
    h("p", { class: "hint", id: hintId }, t("vas.how")),
    h("div", { class: "vas-line" }, input),
    h("div", { class: "scale-anchors", id: anchorsId },
      h("span", {}, item.anchors.min), h("span", {}, item.anchors.max)),
    h("div", { class: "nudges" },
      nudge(-1, t("vas.left"), "◀"), nudge(1, t("vas.right"), "▶")));
}

export function renderItem(item, value, onChange, label) {
  switch (item.type) {
    case "nrs": return nrs(item, value, onChange, label);
    case "vas": return vas(item, value, onChange, label);
    case "multi_choice": return choices(item, value, onChange, label, true);
    default: return choices(item, value, onChange, label, false);
  }
}

export function describeAnswer(item, value) {
  if (value === undefined || value === null) return null;
  if (item.type === "vas") return t("review.vas", { value });
  if (item.type === "nrs") return String(value);
  if (item.type === "multi_choice") {
    if (!value.length) return t("review.none_checked");
    return item.options.filter((o) => value.includes(o.code)).map((o) => o.label).join("; ");
  }
  return item.options.find((o) => o.code === value)?.label ?? String(value);
}
