"""The installable participant app in Chromium: manifest and icons, the service worker in
control, a push message shown by it (delivered through DevTools, as a push service would),
the page opening offline, the Notifications switch (EN/ES) and the Home Screen steps.
One browser context, one participant, in the order a participant meets them.

Headless Chromium has no push service to reach (nothing in tests reaches the internet), so
`pushManager.subscribe` is refused: the test follows the switch up to there (permission
granted, the refusal shown), and stores a subscription through the page's own API module
(the PUT and DELETE the switch sends)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from playwright.sync_api import expect

from tests.browser.participant.conftest import check_page
from tests.messaging.push.support import PRIVATE, PUBLIC, SUBJECT

MANIFEST_AND_ICONS = """async () => {
    const href = document.querySelector('link[rel="manifest"]').href;
    const manifest = await (await fetch(href, { credentials: "include" })).json();
    const sizes = await Promise.all(manifest.icons.map((icon) => new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve(`${icon.sizes}:${img.naturalWidth}`);
        img.onerror = () => resolve(`${icon.src}: did not load`);
        img.src = icon.src;
    })));
    return { manifest, sizes };
}"""

SAVE_SUBSCRIPTION = """async (endpoint) => {
    const { api } = await import("/p/assets/endpoints.js");
    const keys = { p256dh: "B" + "x".repeat(86), auth: "a".repeat(22) };
    const on = await api.subscribePush({ endpoint, keys });
    const off = await api.unsubscribePush(endpoint);
    return [on.devices, off.devices];
}"""

# The notifications the worker shows, once there are any (polled: showing is asynchronous).
SHOWN_NOTIFICATIONS = """async () => {
    const registration = await navigator.serviceWorker.ready;
    for (let tries = 0; tries < 200; tries += 1) {
        const shown = await registration.getNotifications();
        if (shown.length) return shown.map((n) => [n.title, n.body, n.tag, n.data.url]);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return [];
}"""


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return replace(settings, vapid_private_key=PRIVATE, vapid_public_key=PUBLIC,
                   vapid_subject=SUBJECT, push_endpoint_hosts=("127.0.0.1",))


def test_the_app_installs_opens_offline_and_offers_notifications(
        open_link, new_page, live_server, demo, caplog):
    page = new_page()
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    open_link("GNV-004", page=page)
    program = page.locator("#program").inner_text()

    found = page.evaluate(MANIFEST_AND_ICONS)
    manifest = found["manifest"]
    assert manifest["name"] == program  # the name the page shows, no other
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/p", "/p", "standalone")
    assert manifest["theme_color"] == "#0b4f8a"
    assert manifest["background_color"] == "#ffffff"
    assert "192x192:192" in found["sizes"]
    assert "512x512:512" in found["sizes"]
    assert "any:512" in found["sizes"]  # the SVG

    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    expect(page.locator("main h1")).to_have_text("Your surveys")
    assert page.evaluate("navigator.serviceWorker.controller?.scriptURL") == (
        f"{live_server.url}/p/sw.js")
    cached = page.evaluate("""async () => (await Promise.all((await caches.keys())
        .map(async (name) => (await (await caches.open(name)).keys()).map((r) => r.url))))
        .flat()""")
    assert f"{live_server.url}/p" in cached
    assert not [url for url in cached if "/api/" in url or "?" in url or "#" in url]

    # A push message (delivered as the push service would) shows the server's text, tagged.
    cdp = page.context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(
        r["registrationId"] for r in event["registrations"] if r["scopeURL"].endswith("/p")))
    cdp.send("ServiceWorker.enable")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert registrations
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": live_server.url, "registrationId": registrations[0],
        "data": json.dumps({"title": "Study check-in", "body": "Your study check-in is open",
                            "url": "/p", "tag": "survey-41"})})
    shown = page.evaluate(SHOWN_NOTIFICATIONS)
    assert shown == [["Study check-in", "Your study check-in is open", "survey-41", "/p"]]

    # Notifications: the switch asks permission (granted), then the push service is needed.
    card = page.locator(".notify")
    switch = card.get_by_role("switch", name="Notifications on this phone")
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(card).to_contain_text("It never shows your answers or health details.")
    page.locator(".install summary").click()
    expect(page.get_by_text("Scroll down and tap “Add to Home Screen”.")).to_be_visible()
    check_page(page, "app-notifications-install")
    switch.click()
    expect(card.locator("#notify-state")).to_have_text(
        "Notifications could not be turned on. Please try again later.")
    assert page.evaluate("Notification.permission") == "granted"
    assert page.evaluate(SAVE_SUBSCRIPTION, "http://127.0.0.1:9/push/device-1") == [1, 0]

    page.get_by_role("button", name="Ver en español").click()
    switch = card.get_by_role("switch", name="Notificaciones en este teléfono")
    expect(switch).to_be_visible()
    expect(page.get_by_text("Deslice hacia abajo y toque «Agregar a inicio».")).to_be_hidden()
    page.locator(".install summary").click()
    expect(page.get_by_text("Deslice hacia abajo y toque «Agregar a inicio».")).to_be_visible()
    check_page(page, "es-app-notifications-install")

    # Offline: the shell comes from the cache, and says the page needs a connection.
    caplog.clear()
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("main h1")).to_have_text("No hay conexión a internet")
    expect(page.locator("#program")).to_be_visible()
    assert not [r.getMessage() for r in caplog.records if '"GET /p' in r.getMessage()]
    page.context.set_offline(False)
    # Launched from the Home Screen: the bare start URL opens on the session, no token.
    page.goto(f"{live_server.url}/p")
    expect(page.locator("main h1")).to_have_text("Sus encuestas")
    assert page.errors == []  # type: ignore[attr-defined]
