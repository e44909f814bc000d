"""The OpenAPI document tells the truth: how to authenticate each operation, the statuses it
answers, what the main fields mean; and real responses match what it documents."""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import new_participant

UNSAFE = {"post", "put", "patch", "delete"}
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                yield path, method, op


def test_every_operation_declares_its_security_and_real_error_statuses(app):
    spec = app.test_client().get("/api/openapi.json").json
    assert "Bearer" in spec["info"]["description"]
    assert "X-CSRFToken" in spec["info"]["description"]
    schemes = spec["components"]["securitySchemes"]
    assert (schemes["staffSession"]["in"], schemes["staffSession"]["name"]) == (
        "cookie", "pro_session")
    assert (schemes["csrfToken"]["in"], schemes["csrfToken"]["name"]) == (
        "header", "X-CSRFToken")
    problems = []
    for path, method, op in _operations(spec):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        if "default" in responses:
            problems.append(f"{where}: a catch-all default response hides real statuses")
        if "security" not in op:
            problems.append(f"{where}: no security declared")
            continue
        staff = [alt for alt in op["security"] if "staffSession" in alt]
        if staff and method in UNSAFE and not all("csrfToken" in alt for alt in staff):
            problems.append(f"{where}: cookie-authenticated write without the CSRF header")
        if op["security"] and "401" not in responses:
            problems.append(f"{where}: authenticated but 401 not documented")
        if "{" in path and "404" not in responses:
            problems.append(f"{where}: an id in the path but 404 not documented")
        if method in UNSAFE and not {"400", "422"} <= set(responses):
            problems.append(f"{where}: a body that can be refused but no 400/422 documented")
    staff_paths = [p for p, m, op in _operations(spec) if p.startswith("/api/v1/participants")]
    assert staff_paths, "the staff participant API is documented"
    assert problems == []


def test_the_main_schemas_describe_their_fields_with_examples(app):
    schemas = app.test_client().get("/api/openapi.json").json["components"]["schemas"]
    for name in ("Enrol", "Participant", "Login", "StaffUser"):
        properties = schemas[name]["properties"]
        undescribed = [f for f, prop in properties.items() if "description" not in prop
                       and "$ref" not in prop and "allOf" not in prop]
        if name == "Participant":  # timestamps and flags speak for themselves
            undescribed = [f for f in undescribed if not f.endswith(("_at", "_on"))
                           and not f.startswith(("has_", "sms_consent", "withdrawal"))
                           and f not in ("email", "reminder_time")]
        assert undescribed == [], name
    assert schemas["Enrol"]["properties"]["subject_key"]["example"] == "GNV-101"


def test_real_responses_match_the_documented_schemas_and_statuses(app, staff_client, ids):
    spec = app.test_client().get("/api/openapi.json").json
    schema = schemathesis.openapi.from_dict(spec)
    gnv = staff_client("coordinator.gnv@example.org")
    monitor = staff_client("monitor@example.org")
    anonymous = app.test_client()
    pid = ids["GNV-001"]
    enrolled = gnv.post("/api/v1/participants", json=new_participant())
    new_id = enrolled.json["id"]
    calls = [
        ("/api/v1/auth/me", "GET", {}, gnv.get("/api/v1/auth/me")),
        ("/api/v1/participants", "GET", {}, gnv.get("/api/v1/participants")),
        ("/api/v1/participants", "POST", {}, enrolled),
        ("/api/v1/participants", "POST", {},
         gnv.post("/api/v1/participants", json=new_participant())),  # 409
        ("/api/v1/participants", "POST", {},
         gnv.post("/api/v1/participants", json={"subject_key": 1})),  # 422
        ("/api/v1/participants", "POST", {},
         gnv.post("/api/v1/participants", data='{"a": 1, "a": 2}',
                  content_type="application/json")),  # 400
        ("/api/v1/participants/{participant_id}", "GET", {"participant_id": new_id},
         gnv.get(f"/api/v1/participants/{new_id}")),
        ("/api/v1/participants/{participant_id}", "GET", {"participant_id": 424242},
         gnv.get("/api/v1/participants/424242")),  # 404
        ("/api/v1/participants/{participant_id}", "PATCH", {"participant_id": pid},
         monitor.patch(f"/api/v1/participants/{pid}", json={"language": "es"})),  # 403
        ("/api/v1/participants/{participant_id}", "PATCH", {"participant_id": pid},
         anonymous.patch(f"/api/v1/participants/{pid}", json={"language": "es"})),  # 400 csrf
        ("/api/v1/participants", "GET", {}, anonymous.get("/api/v1/participants")),  # 401
        ("/api/v1/participants/{participant_id}/schedule", "GET", {"participant_id": pid},
         gnv.get(f"/api/v1/participants/{pid}/schedule")),
        ("/api/v1/participants/{participant_id}/timeline", "GET", {"participant_id": pid},
         gnv.get(f"/api/v1/participants/{pid}/timeline")),
        ("/api/v1/messages", "GET", {}, gnv.get("/api/v1/messages")),
        ("/api/v1/dashboard/overview", "GET", {}, gnv.get("/api/v1/dashboard/overview")),
        ("/api/v1/dashboard/grid", "GET", {}, gnv.get("/api/v1/dashboard/grid")),
        ("/api/v1/dashboard/attention", "GET", {}, gnv.get("/api/v1/dashboard/attention")),
        ("/api/v1/instruments", "GET", {}, gnv.get("/api/v1/instruments")),
        ("/api/v1/instruments/{code}/score", "POST", {"code": "ptga_vas"},
         gnv.post("/api/v1/instruments/ptga_vas/score", json={"answers": {"ptga_vas": 47}})),
        ("/api/v1/change-requests", "GET", {}, gnv.get("/api/v1/change-requests")),
    ]
    statuses = set()
    for path, method, path_parameters, response in calls:
        case = schema[path][method].Case(path_parameters=path_parameters or None)
        case.validate_response(response, checks=CHECKS)
        statuses.add(response.status_code)
    assert statuses >= {200, 201, 400, 401, 403, 404, 409, 422}
