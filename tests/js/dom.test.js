// The one element builder of both apps: attributes as attributes, `true` as a boolean
// attribute, `dataset`, listeners, and children that are always text, never markup.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { fakeDocument } from "./fake-document.js";
import { append, h, replace, s, uid } from "../../static/shared/dom.js";

beforeEach(() => {
  globalThis.document = fakeDocument();
});

test("attributes are set as text, booleans as present or absent, data-* through dataset", () => {
  const input = h("input", {
    class: "field", type: "number", min: 0, step: 1, required: true, checked: true,
    disabled: false, hidden: null, title: undefined, dataset: { code: "pain", index: 3 },
  });
  assert.deepEqual(Object.fromEntries(input.attributes),
    { class: "field", type: "number", min: "0", step: "1", required: "", checked: "" });
  assert.deepEqual(input.dataset, { code: "pain", index: 3 });
});

test("a function under on<event> listens; any other value under on… is an attribute", () => {
  const clicks = [];
  const button = h("button", { onclick: (event) => clicks.push(event.x), "on-air": "yes" }, "Go");
  button.dispatch("click", { x: 1 });
  assert.deepEqual(clicks, [1]);
  assert.equal(button.getAttribute("on-air"), "yes");
  assert.equal(button.hasAttribute("onclick"), false);
});

test("children are text nodes or the nodes given, nested lists flattened, gaps skipped", () => {
  const item = h("li", {}, "x");
  const list = h("ul", {}, [item, [null, "<b>not bold</b>", [false, 0]]], undefined);
  assert.equal(list.childNodes[0], item);
  assert.deepEqual(list.childNodes.slice(1).map((node) => [node.nodeType, node.textContent]),
    [[3, "<b>not bold</b>"], [3, "0"]]);
  assert.equal(list.textContent, "x<b>not bold</b>0");
});

test("replace swaps the children, append adds to them, SVG elements get the SVG namespace", () => {
  const box = h("div", {}, "old");
  replace(box, h("p", {}, "new"), "tail");
  append(box, ["more"]);
  assert.equal(box.textContent, "newtailmore");
  const bar = s("rect", { width: 10, class: "bar", "aria-hidden": true });
  assert.equal(bar.namespaceURI, "http://www.w3.org/2000/svg");
  assert.deepEqual(Object.fromEntries(bar.attributes), { width: "10", class: "bar", "aria-hidden": "" });
});

test("ids for labels and descriptions never repeat on a page", () => {
  const ids = [uid("hint"), uid("hint"), uid("f")];
  assert.equal(new Set(ids).size, 3);
  assert.match(ids[0], /^hint-\d+$/);
});
