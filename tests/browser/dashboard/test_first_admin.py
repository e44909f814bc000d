"""The first admin of an empty server signs in and must choose a password first."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, axe_violations

EMAIL, FIRST = "ida.admin@hospital.example.org", "kJ8#mQ2!vX9zL4pW"

pytestmark = pytest.mark.browser


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

    page.get_by_role("heading", name="Choose your own password").wait_for()
    assert axe_violations(page) == []
    page.get_by_label("New password", exact=True).fill("password12345")
    page.get_by_label("New password again").fill("password12345")
    page.get_by_role("button", name="Change password and continue").click()
    error = page.get_by_role("alert").filter(has_text="too easy to guess")
    error.wait_for()
    assert "new_password: Password is too easy to guess" in error.inner_text()

    page.get_by_label("New password", exact=True).fill("plum vintage orbit 4 cascade")
    page.get_by_label("New password again").fill("plum vintage orbit 4 cascade")
    page.get_by_role("button", name="Change password and continue").click()
    page.wait_for_url(f"{live_server.url}/dashboard/admin.html")
    page.locator("#top nav").wait_for()
