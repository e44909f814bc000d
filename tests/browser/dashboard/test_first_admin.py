"""The first admin of an empty server signs in and must choose a password first (on the
account page, like any account whose password someone else set)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, axe_violations

EMAIL, FIRST = "ida.admin@hospital.example.org", "kJ8#mQ2!vX9zL4pW"


def test_first_sign_in_asks_for_a_new_password(app, live_server, new_page):
    created = app.test_cli_runner().invoke(
        args=["pro", "admin", "create", "--email", EMAIL, "--name", "Ida Admin"],
        input=FIRST + "\n")
    assert created.exit_code == 0, created.output
    page = new_page(viewport=DESKTOP)
    page.goto(f"{live_server.url}/dashboard/login.html")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(FIRST)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/dashboard/account.html")
    expect(page.get_by_text("choose your own before you continue")).to_be_visible()
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/dashboard/admin.html")  # nothing else until it is changed
    page.wait_for_url("**/dashboard/account.html")
    page.get_by_label("Current password").fill(FIRST)
    page.get_by_label("New password").fill("password12345")
    page.get_by_role("button", name="Change password").click()
    error = page.get_by_role("alert").filter(has_text="too easy to guess")
    expect(error).to_contain_text("Password is too easy to guess")

    page.get_by_label("Current password").fill(FIRST)
    page.get_by_label("New password").fill("plum vintage orbit 4 cascade")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Password changed")
    page.goto(f"{live_server.url}/dashboard/admin.html")
    expect(page.locator("h1")).not_to_have_text("My account")
    page.locator("#top nav").wait_for()
