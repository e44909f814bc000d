// Submissions waiting for the network. Each keeps the idempotency key it was made with, so
// however often it is resent the server stores it once; it leaves this phone only when the
// server has confirmed it (or refused it for good).
import { ApiError, NetworkError } from "../shared/api.js";
import { api } from "./endpoints.js";

const FIRST_DELAY_MS = 3000;
const MAX_DELAY_MS = 60000;

export function createOutbox(store, { sent, queued, refused }) {
  const inFlight = new Set();
  let delay = FIRST_DELAY_MS;
  let timer = null;

  function retryLater() {
    clearTimeout(timer);
    timer = setTimeout(sendAll, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }

  async function send(id) {
    const pending = store.pending(id);
    if (!pending || inFlight.has(id)) return;
    inFlight.add(id);
    try {
      const result = await api.submit(id, {
        idempotency_key: pending.key, answers: pending.answers, language: pending.language,
      });
      store.clear(id);
      delay = FIRST_DELAY_MS;
      sent(id, result);
    } catch (error) {
      if (error instanceof NetworkError || (error instanceof ApiError
        && (error.status >= 500 || error.status === 401 || error.status === 429))) {
        retryLater();
        queued(id, pending, error);
      } else if (error instanceof ApiError && error.status === 409) {
        store.clear(id);
        refused(id, error);
      } else {
        store.setPending(id, null);
        refused(id, error);
      }
    } finally {
      inFlight.delete(id);
    }
  }

  async function sendAll() {
    for (const { id } of store.allPending()) await send(id);
  }

  window.addEventListener("online", () => {
    delay = FIRST_DELAY_MS;
    sendAll();
  });

  return { send, sendAll, retryNow: () => { delay = FIRST_DELAY_MS; return sendAll(); } };
}
