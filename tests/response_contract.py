"""Every JSON answer a test receives is checked against the schema its route declares.

Installed on the test app only (tests/conftest.py); production never runs it. The declared
schema is read from the OpenAPI document flask-smorest generates, made strict for answers:
every declared field present unless marked `x-omitted` (pro_server.validation.OMITTED;
null only where the schema allows it), no undeclared field,
types as documented. A mismatch fails the request that produced it, naming the endpoint and
the field, so every existing test checks the real output of every route it calls.

The document is the same for every app the tests build (same blueprints), so it is compiled
once per process (per set of blueprints), and each operation's validator on first use; the
validators are jsonschema-rs's (compiled in Rust: a grid page takes well under a millisecond,
where the pure-Python jsonschema took hundreds).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_smorest.spec.plugins import FlaskPlugin
from jsonschema_rs import Draft4Validator

# Keyed by the app's blueprints: apps built alike share one document and its validators.
_Key = frozenset[str]
_specs: dict[_Key, dict[str, Any]] = {}
_validators: dict[tuple[_Key, str, str, int], Draft4Validator | None] = {}


class ResponseContractError(AssertionError):
    """A route answered with JSON its declared response schema does not describe."""


def install(app: Flask) -> None:
    app.after_request(_check)


def _check(response: Response) -> Response:
    rule = request.url_rule
    if rule is None or response.mimetype != "application/json" or response.status_code >= 300:
        return response
    from flask import current_app

    validator = _validator(current_app, rule.rule, request.method.lower(), response.status_code)
    if validator is None:
        return response
    body = response.get_json(silent=True)
    errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.instance_path])
    if errors:
        lines = [f"  at {_where(e.instance_path)}: {e.message}" for e in errors[:5]]
        raise ResponseContractError(
            f"{request.method} {rule.rule} ({request.endpoint}) answered {response.status_code}"
            " with JSON its declared schema does not describe:\n" + "\n".join(lines))
    return response


def _where(path: Any) -> str:
    return "/".join(str(p) for p in path) or "(body)"


def _validator(app: Flask, rule: str, method: str, status: int) -> Draft4Validator | None:
    blueprints = frozenset(app.blueprints)
    key = (blueprints, rule, method, status)
    if key not in _validators:
        if blueprints not in _specs:
            spec = app.extensions["pro"]["api"].spec.to_dict()
            spec["components"] = {"schemas": {
                name: strict(s) for name, s in
                spec.get("components", {}).get("schemas", {}).items()}}
            _specs[blueprints] = spec
        _validators[key] = _compile(_specs[blueprints], rule, method, status)
    return _validators[key]


def _compile(spec: dict[str, Any], rule: str, method: str, status: int
             ) -> Draft4Validator | None:
    operation = spec["paths"].get(FlaskPlugin.flaskpath2openapi(rule), {}).get(method)
    answer = (operation or {}).get("responses", {}).get(str(status), {})
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None  # no declared JSON schema for this answer
    return Draft4Validator({"allOf": [strict(schema)], "components": spec["components"]})


def strict(schema: Any) -> Any:
    """An OpenAPI 3.0 schema as a JSON Schema an answer must match exactly: `nullable`
    becomes a null type, and an object with declared properties has exactly those."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()
           if k not in ("nullable", "properties", "readOnly", "writeOnly", "example")}
    if "properties" in schema:
        properties = {name: strict(s) for name, s in schema["properties"].items()
                      if not (isinstance(s, dict) and s.get("writeOnly"))}
        out["properties"] = properties
        out.setdefault("additionalProperties", False)
        out["required"] = sorted(name for name, s in properties.items()
                                 if not (isinstance(s, dict) and s.get("x-omitted")))
    if schema.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out
