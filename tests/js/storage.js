// An in-memory stand-in for the browser's localStorage (the Web Storage interface), so the
// participant app's modules run under node's test runner as they do in the page.
export class MemoryStorage {
  constructor({ full = false } = {}) {
    this.items = new Map();
    this.full = full;
  }

  get length() {
    return this.items.size;
  }

  key(index) {
    return [...this.items.keys()][index] ?? null;
  }

  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }

  setItem(key, value) {
    if (this.full) throw new Error("QuotaExceededError");
    this.items.set(key, String(value));
  }

  removeItem(key) {
    this.items.delete(key);
  }
}
