"""Staff accounts in the browser: an admin's reset forces a new password at the next
sign-in; a user sets up an authenticator app from the QR code and signs in with a code."""

from __future__ import annotations

import pyotp
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, axe_violations, screenshot

MONITOR = "monitor@example.org"
INVESTIGATOR = "investigator@example.org"


def sign_in(page, base, email, password, code=None):  # type: ignore[no-untyped-def]
    page.goto(f"{base}/dashboard/login.html")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    if code:
        page.get_by_label("Authenticator code").fill(code)
    page.get_by_role("button", name="Sign in").click()


def test_reset_then_forced_change_and_a_second_factor(live_server, new_page, signed_in, story,
                                                      clock):
    admin = signed_in("admin@example.org")
    admin.get_by_role("button", name=f"Reset the password of {MONITOR}").click()
    dialog = admin.get_by_role("dialog", name=f"Reset the password of {MONITOR}")
    dialog.get_by_label("Reason").fill("Forgot it; identity checked by phone")
    dialog.get_by_role("button", name="Reset password").click()
    notice = admin.get_by_role("status")
    expect(notice).to_contain_text("One-time password")
    temporary = notice.inner_text().rsplit(": ", 1)[1].strip()
    expect(admin.locator(f"tr[data-email='{MONITOR}']")).to_contain_text("must change password")

    monitor = new_page(viewport=DESKTOP)
    sign_in(monitor, live_server.url, MONITOR, temporary)
    monitor.wait_for_url("**/dashboard/account.html")
    expect(monitor.get_by_text("Your password was reset")).to_be_visible()
    monitor.goto(f"{live_server.url}/dashboard/grid.html")  # nothing else until it is changed
    monitor.wait_for_url("**/dashboard/account.html")
    monitor.get_by_label("Current password").fill(temporary)
    monitor.get_by_label("New password").fill("monitors-own-passphrase-9")
    monitor.get_by_role("button", name="Change password").click()
    expect(monitor.get_by_role("status")).to_contain_text("Password changed")
    monitor.get_by_role("link", name="Continue to the dashboard").click()
    expect(monitor.locator("h1")).not_to_have_text("My account")

    investigator = signed_in(INVESTIGATOR)
    investigator.get_by_role("link", name="My account").click()
    investigator.get_by_role("button", name="Set up an authenticator app").click()
    qr = investigator.get_by_role("img", name="QR code of your authenticator key")
    expect(qr).to_be_visible()
    totp = pyotp.TOTP(investigator.locator("#totp-secret").inner_text())
    assert axe_violations(investigator) == []
    screenshot(investigator, "dashboard-account")
    investigator.get_by_label("Code shown by the app").fill(totp.at(clock.now()))
    investigator.get_by_role("button", name="Confirm").click()
    expect(investigator.get_by_role("status")).to_contain_text("Second factor set up")

    again = new_page(viewport=DESKTOP)
    sign_in(again, live_server.url, INVESTIGATOR, story.passwords[INVESTIGATOR])
    expect(again.get_by_role("alert")).to_contain_text("Enter the code")
    again.get_by_label("Authenticator code").fill(totp.at(clock.now(), counter_offset=1))
    again.get_by_role("button", name="Sign in").click()
    again.wait_for_url("**/dashboard/")
    again.locator("#top nav").wait_for()
