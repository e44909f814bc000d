// The frame of every signed-in page: skip link target, navigation, who is signed in, notices.

import { get, onUnauthorized, post, setCsrfToken } from "../../shared/api.js";
import { $, h, replace } from "../../shared/dom.js";
import { setDefaultZone } from "./format.js";

const NAV = [
  { href: "/dashboard/", label: "Overview", key: "overview", staff: true },
  { href: "/dashboard/grid.html", label: "Participants", key: "grid", staff: true },
  { href: "/dashboard/attention.html", label: "Needs attention", key: "attention", staff: true },
  { href: "/dashboard/messages.html", label: "Messages", key: "messages", staff: true },
  { href: "/dashboard/changes.html", label: "Data changes", key: "changes", staff: true },
  { href: "/dashboard/reports.html", label: "Reports", key: "reports", staff: true },
  { href: "/dashboard/admin.html", label: "Users and sites", key: "admin", admin: true },
  // Read-only, for those who review the record (each within their own sites or study).
  { href: "/dashboard/audit.html", label: "Audit trail", key: "audit", roles: ["investigator", "monitor", "admin"] },
];

// Signed out (the session ended, or never began): to the sign-in page, and back here after.
onUnauthorized(() => {
  const next = location.pathname + location.search + location.hash;
  location.assign(`/dashboard/login.html?next=${encodeURIComponent(next)}`);
  return new Promise(() => {}); // the page is leaving
});

function shown(item, role) {
  if (item.roles) return item.roles.includes(role);
  return role === "admin" ? item.admin : item.staff;
}

export async function startPage(active) {
  const me = await get("/api/v1/auth/me");
  setCsrfToken(me.csrf_token);
  setDefaultZone(me.sites[0]?.timezone);
  if (me.must && active !== "account") {
    // A reset password must be changed, or a required second factor set up, first.
    location.replace("/dashboard/account.html");
    return new Promise(() => {});
  }
  const links = NAV.filter((item) => shown(item, me.role));
  const page = NAV.find((item) => item.key === active);
  if (active !== "account" && !(page ? shown(page, me.role) : me.role !== "admin")) {
    // Admins handle no participant data; everyone else has nothing to administer; only
    // investigators, monitors and admins review the audit trail.
    location.replace(links[0].href);
    return new Promise(() => {});
  }
  const sites = me.sites.map((site) => site.code).join(", ");
  replace($("#top"),
    h("div", { class: "brand" }, h("a", { href: links[0].href }, "Study dashboard")),
    h("nav", { "aria-label": "Main" },
      h("ul", {}, links.map((item) => h("li", {},
        h("a", { href: item.href, "aria-current": item.key === active ? "page" : null }, item.label))))),
    h("div", { class: "who" },
      h("span", {}, `${me.name} · ${me.role}${sites ? ` · ${sites}` : ""}`),
      h("a", { href: "/dashboard/account.html", "aria-current": active === "account" ? "page" : null }, "My account"),
      h("button", { type: "button", class: "link", onclick: signOut }, "Sign out")),
    h("div", { id: "notice", role: "status", "aria-live": "polite" }));
  return me;
}

async function signOut() {
  await post("/api/v1/auth/logout");
  location.assign("/dashboard/login.html");
}

export function notify(message, kind = "ok") {
  const box = $("#notice");
  if (!box) return;
  replace(box, message ? h("p", { class: `notice ${kind}` }, message) : null);
}

export function errorText(error) {
  const details = error.details ? error.details() : [];
  return [error.message, ...details].join(" · ");
}

export function showError(container, error) {
  replace(container, h("p", { class: "error", role: "alert" }, errorText(error)));
}

export function siteFilter(sites, selected, onChange) {
  if (sites.length < 2) return null;
  const select = h("select", { id: "site-filter", onchange: () => onChange(select.value) },
    h("option", { value: "" }, "All my sites"),
    sites.map((site) => h("option", { value: site.code, selected: site.code === selected }, `${site.code} · ${site.name}`)));
  return h("p", { class: "filter" }, h("label", { for: "site-filter" }, "Site "), select);
}

export function param(name) {
  return new URLSearchParams(location.search).get(name) || "";
}

export function setParam(name, value) {
  const url = new URL(location.href);
  if (value) url.searchParams.set(name, value); else url.searchParams.delete(name);
  history.replaceState(null, "", url);
}

// Filters change faster than answers come back: each load takes a ticket, and only the
// latest ticket's answer may be shown (an earlier, slower answer arriving last would show
// rows the filters no longer ask for). `const isLatest = loads(); ... if (!isLatest()) return;`
export function latestOnly() {
  let issued = 0;
  return () => {
    const mine = ++issued;
    return () => mine === issued;
  };
}
