"""The pages are static files served by Flask with a strict CSP; the API is in the spec."""

from __future__ import annotations

import re

from pro_server.participant_web.pages import STATIC_DIR
from pro_server.static_files import shared_dir
from tests.participant_web.support import ParticipantClient


def test_the_page_is_served_with_a_self_only_content_security_policy(app):
    client = app.test_client()
    for path in ("/p", "/p/a/12", "/p/assets/app.js", "/p/assets/styles.css"):
        with client.get(path) as response:
            assert response.status_code == 200, path
            csp = response.headers["Content-Security-Policy"]
            assert "default-src 'self'" in csp
            assert "script-src 'self';" in csp
            assert "unsafe" not in csp
            assert "http" not in csp
            assert response.headers["Referrer-Policy"] == "same-origin"
            assert response.mimetype == {"/p/assets/app.js": "text/javascript",
                                         "/p/assets/styles.css": "text/css"}.get(path, "text/html")
    with client.get("/p/sw.js") as worker:
        assert worker.mimetype == "text/javascript"
        assert "worker-src 'self'" in worker.headers["Content-Security-Policy"]
        # registered with scope /p: the page itself, beyond the script's default /p/
        assert worker.headers["Service-Worker-Allowed"] == "/p"
    with client.get("/p/assets/../../pyproject.toml") as outside:
        assert outside.status_code == 404


def test_the_static_files_load_nothing_from_elsewhere_and_have_no_inline_code():
    files = [f for folder in (STATIC_DIR, shared_dir()) for f in folder.rglob("*")
             if f.suffix in {".html", ".js", ".css", ".svg"}]
    assert {f.name for f in files} >= {"index.html", "app.js", "i18n.js", "styles.css", "sw.js",
                                       "dom.js", "api.js"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path.name
        assert "@import" not in text, path.name
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert " style=" not in html
    assert "onclick" not in html


def test_every_page_string_exists_in_english_and_spanish():
    source = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    english, spanish = source.split("\n  es: {", 1)
    key = re.compile(r'^\s+"([a-z_.A-Z]+)":', re.MULTILINE)
    en_keys, es_keys = key.findall(english), key.findall(spanish.split("\n};", 1)[0])
    assert len(en_keys) > 100
    assert sorted(en_keys) == sorted(es_keys)
    used = set()
    for path in STATIC_DIR.glob("*.js"):
        used |= set(re.findall(r'\bt\("([a-z_.A-Z]+)"', path.read_text(encoding="utf-8")))
    assert used - set(en_keys) == set()


def test_the_participant_api_is_in_the_openapi_spec(app):
    paths = app.test_client().get("/api/openapi.json").json["paths"]
    for path in ("/api/v1/p/session", "/api/v1/p/home", "/api/v1/p/assessments/{assessment_id}",
                 "/api/v1/p/assessments/{assessment_id}/draft",
                 "/api/v1/p/assessments/{assessment_id}/submission",
                 "/api/v1/p/visits/{visit_id}/calendar.ics",
                 "/api/v1/participants/{participant_id}/link",
                 "/api/v1/participants/{participant_id}/link/revoke",
                 "/api/v1/participants/{participant_id}/second-factor",
                 "/api/v1/studies/{study_code}/participant-web"):
        assert path in paths, path
    submission = paths["/api/v1/p/assessments/{assessment_id}/submission"]["post"]
    assert {"200", "201", "409", "422"} <= set(submission["responses"])


def test_the_cli_prints_a_working_link(app, demo):
    result = app.test_cli_runner().invoke(args=["pro", "participant-link", "GNV-004"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().split("#", 1)[1]
    assert ParticipantClient(app.test_client()).open_session(token).status_code == 200
    refused = app.test_cli_runner().invoke(args=["pro", "participant-link", "GNV-006"])
    assert refused.exit_code != 0


def test_the_readme_shows_every_participant_page_screenshot():
    root = STATIC_DIR.parents[1]
    taken = {path.name for path in (root / "docs" / "screenshots").glob("participant-*.png")}
    readme = (root / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\(docs/screenshots/(participant-[\w-]+\.png)\)", readme))
    assert len(taken) > 30
    assert shown == taken
