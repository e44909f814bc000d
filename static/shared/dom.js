// Building pages from data without innerHTML, for both apps: text is always set as text,
// never parsed as HTML. h("p", { class: "x" }, "text", child) makes <p class="x">text…</p>.
//
// Attributes: a string or number is set as the attribute; `true` sets a boolean attribute
// (`hidden`, `checked`, `required`…) and `false`, null or undefined leave it out; `dataset`
// is an object of data-* values; a function under on<event> becomes a listener. Children:
// nodes, strings or numbers (as text), arrays of them; null, undefined and false are skipped.
// The document is read when called, so node's test runner can supply a stand-in.

const SVG_NS = "http://www.w3.org/2000/svg";

export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// An SVG element (charts): the same rules, in the SVG namespace.
export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  return append(el, children);
}

function isNode(child) {
  return typeof child === "object" && typeof child.nodeType === "number";
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(isNode(child) ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

let counter = 0;

// An id unique on the page, for label/aria references: uid("hint") -> "hint-7".
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}
