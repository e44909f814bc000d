// What the browser keeps (localStorage), per participant: answers not yet saved to the
// server, and submissions waiting for the network. Cleared once the server has them.
const PREFIX = "pro.v1";

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch (error) {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch (error) {
    // Storage full or disabled: the server copy is still the one that counts.
  }
}

export function makeStore(participantId) {
  const base = `${PREFIX}.p${participantId}`;
  const draftKey = (id) => `${base}.draft.${id}`;
  const pendingKey = (id) => `${base}.submit.${id}`;
  return {
    // {answers: {instrument: {item: value}}, dirty: [instrument...], position}
    draft: (id) => read(draftKey(id)) || { answers: {}, dirty: [], position: null },
    saveDraft: (id, draft) => write(draftKey(id), draft),
    // {key, answers, language, name}: a submission the server has not confirmed yet
    pending: (id) => read(pendingKey(id)),
    setPending: (id, pending) => write(pendingKey(id), pending),
    allPending() {
      const found = [];
      for (let i = 0; i < localStorage.length; i += 1) {
        const key = localStorage.key(i);
        if (key && key.startsWith(`${base}.submit.`)) {
          found.push({ id: Number(key.slice(`${base}.submit.`.length)), pending: read(key) });
        }
      }
      return found.filter((entry) => entry.pending);
    },
    clear(id) {
      write(draftKey(id), null);
      write(pendingKey(id), null);
    },
  };
}

export function savedLanguage() {
  return read(`${PREFIX}.lang`);
}

export function saveLanguage(lang) {
  write(`${PREFIX}.lang`, lang);
}

export function newIdempotencyKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
