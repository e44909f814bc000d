"""The HTTP half of .ci/smoke-wheel: what people do through the API of an installed,
production-configured pro-server (run by the smoke test's fresh venv's python; uses only
`requests`, a dependency of twilio). Each step prints one line; any surprise exits 1.

    smoke_wheel_api.py admin BASE EMAIL FIRST_PW NEW_PW STUDY SITE TZ COORD_EMAIL COORD_PW
    smoke_wheel_api.py enrol BASE COORD_EMAIL COORD_PW STUDY SITE TZ SUBJECT PHONE
    smoke_wheel_api.py wait-text FAKE_BASE PHONE SECONDS
    smoke_wheel_api.py edc-pull BASE STUDY TOKEN SUBJECT
"""

from __future__ import annotations

import sys
import time

import requests

TIMEOUT = 30


def fail(message: str) -> None:
    print(f"smoke: FAILED: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def expect(response: requests.Response, status: int | tuple[int, ...], what: str) -> dict:
    wanted = status if isinstance(status, tuple) else (status,)
    if response.status_code not in wanted:
        fail(f"{what}: HTTP {response.status_code} (wanted {status}): {response.text[:500]}")
    print(f"smoke: {what}: HTTP {response.status_code}", flush=True)
    return response.json() if response.content else {}


class Staff:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.csrf = self.http.get(f"{base}/api/v1/auth/csrf", timeout=TIMEOUT).json()["csrf_token"]

    def call(self, method: str, path: str, status: int | tuple[int, ...], what: str,
             **kwargs) -> dict:
        response = self.http.request(method, self.base + path, timeout=TIMEOUT,
                                     headers={"X-CSRFToken": self.csrf}, **kwargs)
        body = expect(response, status, what)
        if isinstance(body, dict) and "csrf_token" in body:
            self.csrf = body["csrf_token"]
        return body

    def login(self, email: str, password: str) -> dict:
        return self.call("POST", "/api/v1/auth/login", 200, f"sign in as {email}",
                         json={"email": email, "password": password})


def admin(base, email, first, new, study, site, tz, coord_email, coord_pw) -> None:
    s = Staff(base)
    me = s.login(email, first)
    if me.get("must") != "change_password":
        fail(f"a new admin must change the password first, not {me.get('must')!r}")
    s.call("GET", "/api/v1/admin/users", 403, "admin pages refused before the change")
    s.call("POST", "/api/v1/auth/password", 204, "forced password change",
           json={"current_password": first, "new_password": new})
    s.call("POST", "/api/v1/admin/sites", 201, f"admin adds site {site} to {study}",
           json={"code": site, "name": "Smoke test site", "timezone": tz,
                 "contact_phone": "+13525550100", "study_code": study})
    s.call("POST", "/api/v1/admin/users", 201, f"admin adds coordinator {coord_email}",
           json={"email": coord_email, "name": "Casey Coordinator", "role": "coordinator",
                 "password": coord_pw, "study_code": study, "site_codes": [site]})


def enrol(base, coord_email, coord_pw, study, site, tz, subject, phone) -> None:
    s = Staff(base)
    s.login(coord_email, coord_pw)
    body = s.call("POST", "/api/v1/participants", 201, f"coordinator enrols {subject}", json={
        "subject_key": subject, "study_code": study, "site_code": site, "language": "en",
        "timezone": tz,
        "phone": phone, "sms_consent": {"given": True, "source": "smoke test: signed ICF"}})
    print(f"smoke: {subject} is participant {body['id']}, protocol {body['protocol_version']}",
          flush=True)


def wait_text(fake_base, phone, seconds) -> None:
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        texts = [m for m in requests.get(f"{fake_base}/_fake/messages", timeout=TIMEOUT).json()
                 if m.get("to") == phone]
        if texts:
            print(f"smoke: the fake Twilio got a text for {phone}: {texts[0]['body']!r}",
                  flush=True)
            return
        time.sleep(1)  # polling another process's state, not timing a result
    fail(f"no text reached the fake Twilio for {phone} within {seconds} s")


def edc_pull(base, study, token, subject) -> None:
    response = requests.get(f"{base}/api/v1/edc/studies/{study}/records?limit=100",
                            headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    expect(response, 200, "EDC pull of records")
    unauthorised = requests.get(f"{base}/api/v1/edc/studies/{study}/records", timeout=TIMEOUT)
    expect(unauthorised, 401, "EDC pull without a token refused")
    odm = requests.get(f"{base}/api/v1/edc/studies/{study}/odm/metadata",
                       headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    if odm.status_code != 200 or "<ODM" not in odm.text:
        fail(f"ODM metadata: HTTP {odm.status_code}")
    print(f"smoke: EDC ODM metadata for {study}: {len(odm.content)} bytes", flush=True)


if __name__ == "__main__":
    steps = {"admin": admin, "enrol": enrol, "wait-text": wait_text, "edc-pull": edc_pull}
    steps[sys.argv[1]](*sys.argv[2:])
