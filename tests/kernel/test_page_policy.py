"""Both apps' pages, the modules they share and the API docs page are served under the one
Content-Security-Policy."""

from __future__ import annotations

from pro_server.static_files import content_security_policy


def _directives(csp: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in csp.split(";"))


def test_every_page_and_shared_module_carries_the_one_policy(app):
    client = app.test_client()
    dashboard = content_security_policy()
    participant = content_security_policy(installable=True)
    served = {"/dashboard/": dashboard, "/dashboard/grid.html": dashboard,
              "/dashboard/js/pages/grid.js": dashboard, "/shared/dom.js": dashboard,
              "/shared/api.js": dashboard, "/p": participant, "/p/assets/app.js": participant,
              "/p/shared/dom.js": participant, "/p/shared/api.js": participant,
              "/p/sw.js": participant, "/api/docs": dashboard, "/api/docs/start.js": dashboard,
              "/api/docs/assets/swagger-ui-bundle.js": dashboard}
    for path, policy in served.items():
        with client.get(path) as response:
            assert response.status_code == 200, path
            assert response.headers["Content-Security-Policy"] == policy, path
            assert response.headers["Cache-Control"] == "no-cache", path
            if path.endswith(".js"):
                assert response.mimetype == "text/javascript", path
    for path in ("/shared/../pyproject.toml", "/p/shared/../../setup.py", "/shared/none.js",
                 "/api/docs/assets/../../__init__.py"):
        with client.get(path) as response:
            assert response.status_code == 404, path


def test_the_installable_app_adds_only_its_manifest_and_worker():
    page, app_page = _directives(content_security_policy()), _directives(
        content_security_policy(installable=True))
    assert app_page == {**page, "manifest-src": "'self'", "worker-src": "'self'"}
    assert page["default-src"] == page["script-src"] == page["connect-src"] == "'self'"
    assert page["object-src"] == page["base-uri"] == page["frame-ancestors"] == "'none'"
    assert all("unsafe" not in value and "http" not in value for value in app_page.values())
