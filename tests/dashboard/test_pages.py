"""The dashboard's pages: served from static/dashboard with a strict CSP, listed in the spec."""

import pytest

PAGES = ["", "grid.html", "attention.html", "participant.html", "messages.html",
         "changes.html", "admin.html", "login.html", "audit.html"]


def test_the_root_leads_to_the_dashboard(app):
    response = app.test_client().get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/")


@pytest.mark.parametrize("page", PAGES)
def test_pages_are_served_with_a_content_security_policy(app, page):
    with app.test_client().get(f"/dashboard/{page}") as response:
        assert response.status_code == 200
        csp = response.headers["Content-Security-Policy"]
        html = response.get_data(as_text=True)
    assert "script-src 'self'" in csp
    assert "default-src 'self'" in csp
    assert "<script type=\"module\" src=\"/dashboard/js/pages/" in html
    assert "http://" not in html
    assert "https://" not in html
    assert "<script>" not in html  # no inline script: the CSP would refuse it


def test_the_sign_in_form_cannot_put_a_password_in_a_url(app):
    """Clicked before its script has loaded (a slow phone, or a test under load), the form
    submitted itself natively as a GET: email and password in the URL and the server's
    log. It posts, and its button is enabled only by the script that takes over."""
    with app.test_client().get("/dashboard/login.html") as response:
        html = response.get_data(as_text=True)
    form = html[html.index('<form id="login"'):]
    assert 'method="post"' in form[:form.index(">")]
    assert '<button type="submit" disabled>' in form
    with app.test_client().post("/dashboard/login.html", data={"password": "x"}) as posted:
        assert posted.status_code in (400, 405)  # refused: nothing signs in there


def test_scripts_and_styles_are_local_files(app):
    client = app.test_client()
    for path in ("js/layout.js", "js/charts.js", "js/pages/grid.js", "css/dashboard.css"):
        with client.get(f"/dashboard/{path}") as response:
            assert response.status_code == 200
    for path in ("../pro_server/app.py", "nothing-here.js"):
        with client.get(f"/dashboard/{path}") as response:
            assert response.status_code == 404


def test_the_dashboard_api_is_in_the_openapi_spec(app):
    paths = app.test_client().get("/api/openapi.json").json["paths"]
    for path in ("/api/v1/dashboard/overview", "/api/v1/dashboard/grid",
                 "/api/v1/dashboard/grid.csv", "/api/v1/dashboard/attention",
                 "/api/v1/dashboard/attention.csv",
                 "/api/v1/participants/{participant_id}/timeline",
                 "/api/v1/participants/{participant_id}/trends",
                 "/api/v1/participants/{participant_id}/responses", "/api/v1/admin/users",
                 "/api/v1/admin/users/{user_id}", "/api/v1/admin/sites",
                 "/api/v1/admin/sites/{site_id}", "/api/v1/change-requests",
                 "/api/v1/change-requests/{change_id}/approve", "/api/v1/audit/events",
                 "/api/v1/audit/events.csv", "/api/v1/audit/chain", "/api/v1/audit/filters"):
        assert path in paths, path
