// The participant app's service worker (served as /p/sw.js, scope /p).
// - Keeps the app shell (page, modules, styles, icons) in a versioned cache so the app opens
//   without a network; answers still wait in the page's own outbox (localStorage).
// - Only the shell's own paths are cached, under those paths: never an API answer, never a
//   URL with a query. The link's token sits in the URL fragment, which never reaches here.
// - Shows push notifications (no health information: the server sends a neutral text).
// A new VERSION when the list changes: the old cache is dropped on activation.
const VERSION = "v2";
const CACHE = `participant-shell-${VERSION}`;
const PAGE = "/p";
const SHELL = [
  PAGE,
  "/p/assets/app.js", "/p/assets/endpoints.js", "/p/assets/i18n.js",
  "/p/assets/outbox.js", "/p/assets/pwa.js", "/p/assets/screens.js", "/p/assets/store.js",
  "/p/assets/survey.js", "/p/assets/widgets.js", "/p/assets/styles.css",
  "/p/shared/api.js", "/p/shared/dom.js", // the modules shared with the dashboard
  "/p/assets/icons/icon.svg", "/p/assets/icons/icon-192.png",
  "/p/assets/icons/apple-touch-icon-180.png",
];
const PAGE_PATH = /^\/p(\/a\/\d+)?\/?$/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: "reload" }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("participant-shell-") && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The cache key for a request, or null when the request is not the shell's.
function shellKey(request) {
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.search) return null;
  if (request.mode === "navigate" && PAGE_PATH.test(url.pathname)) return PAGE;
  return SHELL.includes(url.pathname) ? url.pathname : null;
}

// Network first (the server says no-cache: the latest shell when online), the cache when not.
async function fromNetworkOrShell(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic" && !response.redirected) {
      await cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const key = shellKey(event.request);
  if (key) event.respondWith(fromNetworkOrShell(event.request, key));
  // Everything else (the API above all) goes to the network untouched and uncached.
});

self.addEventListener("push", (event) => {
  let data;
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {}; // not JSON: the neutral default text
  }
  const url = typeof data.url === "string" && data.url.startsWith("/p") ? data.url : PAGE;
  event.waitUntil(self.registration.showNotification(data.title || "Study check-in", {
    body: data.body || "", tag: data.tag || "study-reminder", data: { url },
    icon: "/p/assets/icons/icon-192.png", badge: "/p/assets/icons/icon-192.png",
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data?.url || PAGE;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true })
    .then((windows) => {
      const open = windows.find((w) => new URL(w.url).pathname.startsWith(PAGE));
      if (open) return open.navigate(url).then((w) => (w || open).focus());
      return self.clients.openWindow(url);
    }));
});
