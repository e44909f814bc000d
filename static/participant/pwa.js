// The installable app: the service worker (offline shell, push notifications), the
// "Notifications" card with its switch, and how to add the page to the Home Screen.
import { api } from "./endpoints.js";
import { h } from "../shared/dom.js";
import { t } from "./i18n.js";

let installPrompt = null; // Chrome's beforeinstallprompt, kept for the "Install" button

export function registerServiceWorker() {
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    installPrompt = event;
    document.querySelector(".install-button")?.removeAttribute("hidden");
  });
  if (!("serviceWorker" in navigator)) return;
  // Scope /p covers the page itself (the default, /p/, would not).
  navigator.serviceWorker.register("/p/sw.js", { scope: "/p" }).catch(() => {});
}

function installed() {
  return window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
}

function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

// The VAPID public key (base64url) as the bytes pushManager.subscribe wants.
export function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

// Reminder channels once this device has push on (first) or no device has it any more.
export function channelsAfter(channels, { on, devices }) {
  const others = channels.filter((c) => c !== "push");
  if (on) return channels[0] === "push" ? channels : ["push", ...others];
  if (devices > 0 || !channels.includes("push")) return channels;
  return others.length ? others : ["sms"];
}

function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// Not `serviceWorker.ready` alone: it never settles where registering failed (a private
// window), and the home page waits on this card.
async function currentSubscription() {
  const registration = await navigator.serviceWorker.getRegistration("/p");
  return registration ? registration.pushManager.getSubscription() : null;
}

async function activeRegistration() {
  const registration = await navigator.serviceWorker.getRegistration("/p");
  if (!registration) throw new Error("no service worker");
  return registration.active ? registration : navigator.serviceWorker.ready;
}

async function turnOn(info) {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return { state: permission === "denied" ? "blocked" : "off" };
  const registration = await activeRegistration();
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true, applicationServerKey: keyBytes(info.public_key) });
  const saved = await api.subscribePush(subscription.toJSON());
  const channels = channelsAfter(saved.reminder_channels, { on: true, devices: saved.devices });
  if (!sameList(channels, saved.reminder_channels)) await api.setChannels(channels);
  return { state: "on" };
}

async function turnOff() {
  const subscription = await currentSubscription();
  if (!subscription) return { state: "off" };
  const saved = await api.unsubscribePush(subscription.endpoint);
  await subscription.unsubscribe();
  const channels = channelsAfter(saved.reminder_channels, { on: false, devices: saved.devices });
  if (!sameList(channels, saved.reminder_channels)) await api.setChannels(channels);
  return { state: "off" };
}

// The card, or null when the server has push off. `rerender` redraws it in place.
export async function notificationsCard() {
  let info;
  try {
    info = await api.notifications();
  } catch (error) {
    return null; // the rest of the home page does not wait on this
  }
  if (!info.available) return null;
  const card = h("section", { class: "card notify", "aria-labelledby": "notify-h" });
  let state;
  if (!pushSupported()) state = "unsupported";
  else if (Notification.permission === "denied") state = "blocked";
  else state = (await currentSubscription().catch(() => null)) ? "on" : "off";
  const render = (current, busy = false) => {
    const note = { on: "notify.on", off: "notify.off", blocked: "notify.blocked",
      unsupported: "notify.unsupported", failed: "notify.failed" }[current];
    const checked = current === "on";
    const canSwitch = current !== "unsupported" && current !== "blocked";
    card.replaceChildren(
      h("h2", { id: "notify-h" }, t("notify.title")),
      h("p", {}, t("notify.intro")),
      canSwitch ? h("button", {
        type: "button", role: "switch", class: "switch", id: "notify-switch",
        "aria-checked": checked ? "true" : "false", "aria-describedby": "notify-state",
        disabled: busy,
        onclick: async () => {
          render(current, true);
          let next;
          try {
            next = checked ? await turnOff() : await turnOn(info);
          } catch (error) {
            next = { state: checked ? "on" : "failed" };
          }
          render(next.state);
        },
      }, h("span", { class: "switch-track", "aria-hidden": "true" }), t("notify.switch")) : null,
      h("p", { id: "notify-state", class: "notify-state", role: "status" },
        busy ? t("notify.working") : t(note)));
  };
  render(state);
  return card;
}

// How to put the page on the Home Screen (folded, one line on the home page); nothing when
// it already runs from there.
export function installCard() {
  if (installed()) return null;
  return h("details", { class: "card install" },
    h("summary", {}, t("install.title")),
    h("p", {}, t("install.intro")),
    h("button", {
      type: "button", class: "button primary install-button", hidden: !installPrompt,
      onclick: async () => {
        if (!installPrompt) return;
        installPrompt.prompt();
        await installPrompt.userChoice.catch(() => null);
        installPrompt = null;
        document.querySelector(".install-button")?.setAttribute("hidden", "");
      },
    }, t("install.button")),
    h("h3", {}, t("install.iphone")),
    h("ol", {}, h("li", {}, t("install.iphone_1")), h("li", {}, t("install.iphone_2")),
      h("li", {}, t("install.iphone_3"))),
    h("h3", {}, t("install.android")),
    h("ol", {}, h("li", {}, t("install.android_1")), h("li", {}, t("install.android_2"))));
}
