// A stand-in for the browser's document, as much of it as static/shared/dom.js uses, so the
// element builder runs under node's test runner. Text nodes hold text only: nothing here
// parses markup, so a test sees exactly what the builder asked for.
class FakeText {
  constructor(text) {
    this.nodeType = 3;
    this.textContent = text;
  }
}

class FakeElement {
  constructor(tagName, namespaceURI = "http://www.w3.org/1999/xhtml") {
    this.nodeType = 1;
    this.tagName = tagName;
    this.namespaceURI = namespaceURI;
    this.attributes = new Map();
    this.dataset = {};
    this.childNodes = [];
    this.listeners = {};
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }

  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }

  hasAttribute(name) {
    return this.attributes.has(name);
  }

  addEventListener(type, listener) {
    (this.listeners[type] ||= []).push(listener);
  }

  dispatch(type, event = {}) {
    for (const listener of this.listeners[type] || []) listener(event);
  }

  append(...nodes) {
    this.childNodes.push(...nodes);
  }

  replaceChildren(...nodes) {
    this.childNodes = [...nodes];
  }

  get textContent() {
    return this.childNodes.map((node) => node.textContent).join("");
  }
}

export function fakeDocument() {
  return {
    createElement: (tag) => new FakeElement(tag),
    createElementNS: (ns, tag) => new FakeElement(tag, ns),
    createTextNode: (text) => new FakeText(text),
  };
}
