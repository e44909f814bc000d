"""Issue 16 item 7: in development the links follow the port `make run PORT=...` serves
(every SMS link and `pro participant-link` pointed to :5000 whatever the port), and the
command prints the URLs once the server answers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

from pro_server import create_app
from pro_server.config import load_settings
from tests.conftest import TEST_DATA_KEY, TEST_LOOKUP_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]

PORT = 5487  # this helper's range (5480-5499)
BASH = shutil.which("bash") or "/bin/bash"


def _dev_env(instance: Path, database_url: str) -> dict[str, str]:
    return {"PRO_ENV": "development", "PRO_INSTANCE_PATH": str(instance),
            "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-not-for-production",
            "PRO_DATA_KEYS": TEST_DATA_KEY, "PHONE_LOOKUP_KEY": TEST_LOOKUP_KEY}


def test_the_dev_server_says_where_it_is_once_ready_and_links_follow_its_port(tmp_path):
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"}
    env.update(_dev_env(instance, f"sqlite:///{tmp_path / 'pro.db'}"), SMS_BACKEND="console")
    server = subprocess.Popen([BASH, ".ci/serve", str(PORT)], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              start_new_session=True)
    lines: list[str] = []

    def read() -> None:  # ends at the third URL line, or when the server dies
        assert server.stdout is not None
        for line in server.stdout:
            lines.append(line.rstrip())
            if "links in texts" in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        reader.join(timeout=120)  # a bound, not a wait for timing: a hung server fails the test
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.communicate(timeout=30)
    url = f"http://127.0.0.1:{PORT}"
    assert lines[-3:] == [f"Ready: dashboard  {url}/dashboard/",
                         f"       API docs   {url}/api/docs",
                         f"       links in texts and 'pro participant-link' use {url}"]
    # Another command run later (the CLI, the scheduler) finds the port without being told.
    assert load_settings(_dev_env(instance, "sqlite://")).public_base_url == url
    assert load_settings({**_dev_env(instance, "sqlite://"), "PUBLIC_BASE_URL": "https://x.org/"}
                         ).public_base_url == "https://x.org"
    production = {**_dev_env(instance, "sqlite://"), "PRO_ENV": "production",
                  "SMS_BACKEND": "none"}
    assert load_settings(production).public_base_url == "http://127.0.0.1:5000"


def test_participant_link_uses_the_served_port(tmp_path, database, clock, engine, demo):
    instance = tmp_path / "dev-instance"
    instance.mkdir()
    (instance / "served-url").write_text(f"http://127.0.0.1:{PORT}\n", encoding="utf-8")
    app = create_app(load_settings(_dev_env(instance, database.url)), clock=clock, engine=engine)
    result = app.test_cli_runner().invoke(args=["pro", "participant-link", "GNV-004"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith(f"http://127.0.0.1:{PORT}/p#")
