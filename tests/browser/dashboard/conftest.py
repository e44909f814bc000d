"""Dashboard browser tests: the story's history served live, signed in through the login page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP
from tests.dashboard.story import story  # noqa: F401  (the shared history fixture)


@pytest.fixture
def signed_in(live_server, new_page, story):  # noqa: F811
    """`signed_in(email)` opens a desktop page signed in as that staff user."""

    def make(email: str):  # type: ignore[no-untyped-def]
        page = new_page(viewport=DESKTOP)
        page.goto(f"{live_server.url}/dashboard/login.html")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(story.passwords[email])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/dashboard/**")
        page.locator("#top nav").wait_for()
        return page

    return make
