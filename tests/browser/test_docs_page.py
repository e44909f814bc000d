"""The API docs page renders in a real browser with no internet (assets served locally), under
the pages' Content-Security-Policy with nothing refused."""

from tests.browser.conftest import DESKTOP, screenshot


def test_api_docs_render_offline(live_server, new_page):
    page = new_page(viewport=DESKTOP)
    blocked, refused = [], []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        live_server.url) else (blocked.append(route.request.url), route.abort()))
    page.goto(f"{live_server.url}/api/docs")
    page.get_by_text("ePRO platform API").first.wait_for()
    page.get_by_text("/api/v1/participants").first.wait_for()
    page.get_by_role("button", name="GET /api/v1/participants").first.click()
    page.get_by_text("Parameters").first.wait_for()
    assert blocked == []
    assert refused == []
    screenshot(page, "api-docs", full_page=False)
