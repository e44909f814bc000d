"""The installable app: its manifest (no token, the study's name only when signed in) and
the service worker's app shell (every file the page loads, and nothing else)."""

from __future__ import annotations

import re

from pro_server.participant_web.pages import STATIC_DIR
from tests.participant_web.support import ParticipantClient, participant, token_for

MANIFEST = "/p/manifest.webmanifest"


def test_the_manifest_installs_the_bare_page_and_names_the_study_only_when_signed_in(
        app, demo, ctx_factory):
    ctx = ctx_factory()
    participant(ctx, "GNV-004").study.program_name = "Wellness Diary Program"
    ctx.session.commit()
    client = ParticipantClient(app.test_client())
    before = client.get(MANIFEST)
    assert before.status_code == 200
    assert before.mimetype == "application/manifest+json"
    assert "manifest-src 'self'" in before.headers["Content-Security-Policy"]
    assert before.json["name"] == "Study Check-in"  # no session: the page's own title
    token = token_for(ctx, "GNV-004")
    assert client.open_session(token).status_code == 200
    signed_in = client.get(MANIFEST).json
    assert signed_in["name"] == "Wellness Diary Program"
    assert signed_in["short_name"] == "Check-in"  # a home-screen label cuts longer names
    assert (signed_in["start_url"], signed_in["scope"], signed_in["display"]) == (
        "/p", "/p", "standalone")
    assert token not in client.get(MANIFEST).get_data(as_text=True)
    for icon in signed_in["icons"]:
        with client.get(icon["src"]) as served:
            assert served.status_code == 200, icon
            assert served.mimetype == icon["type"], icon
    sizes = {i["sizes"] for i in signed_in["icons"] if i["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes


def test_the_service_worker_caches_every_file_the_page_loads_and_no_api():
    worker = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    listed = worker.split("const SHELL = [", 1)[1].split("];")[0]
    shell = set(re.findall(r'"(/p[^"]*)"', listed))
    assert 'const PAGE = "/p";' in worker  # the page itself
    assert "PAGE," in listed
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    loaded = {f"/p/assets/{f.name}" for f in STATIC_DIR.glob("*") if f.suffix in {".js", ".css"}
              and f.name != "sw.js"}
    loaded |= set(re.findall(r'href="(/p/assets/icons/[^"]+)"', html))
    # and the shared modules the page imports (served at /p/shared/, inside the scope)
    for module in STATIC_DIR.glob("*.js"):
        imports = re.findall(r'from "\.\./shared/([^"]+)"', module.read_text(encoding="utf-8"))
        loaded |= {f"/p/shared/{name}" for name in imports}
    assert {"/p/shared/api.js", "/p/shared/dom.js"} <= loaded
    assert shell >= loaded
    assert not any("/api/" in path for path in shell)
