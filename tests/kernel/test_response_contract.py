"""The test app checks every JSON answer against its route's declared schema
(tests/response_contract.py): a route that answers otherwise fails the test that calls it."""

from __future__ import annotations

import pytest
from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from tests.response_contract import ResponseContractError


class ThingSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    note = fields.String(allow_none=True)


@pytest.fixture
def client(app):
    blp = Blueprint("throwaway", __name__, url_prefix="/throwaway")

    @blp.route("/right")
    @blp.response(200, ThingSchema)
    def right():
        return {"id": 1, "name": "a", "note": None}

    @blp.route("/extra")
    @blp.response(200, ThingSchema)
    def extra():  # bypasses the schema, as a route returning jsonify(...) does
        return jsonify({"id": 1, "name": "a", "note": None, "colour": "red"})

    @blp.route("/missing")
    @blp.response(200, ThingSchema)
    def missing():  # the dump leaves out what the object does not have
        return {"id": 1, "note": "n"}

    @blp.route("/wrong-type")
    @blp.response(200, ThingSchema)
    def wrong_type():
        return jsonify({"id": "1", "name": "a", "note": None})

    app.extensions["pro"]["api"].register_blueprint(blp)
    return app.test_client()


def test_a_route_answering_as_declared_passes(client):
    assert client.get("/throwaway/right").get_json() == {"id": 1, "name": "a", "note": None}


@pytest.mark.parametrize(("path", "field", "says"), [
    ("extra", "(body)", "Additional properties are not allowed ('colour' was unexpected)"),
    ("missing", "(body)", '"name" is a required property'),
    ("wrong-type", "id", '"1" is not of type "integer"'),
])
def test_a_route_answering_otherwise_fails_naming_endpoint_and_field(client, path, field, says):
    with pytest.raises(ResponseContractError) as failure:
        client.get(f"/throwaway/{path}")
    message = str(failure.value)
    assert f"GET /throwaway/{path} (throwaway." in message
    assert f"at {field}: {says}" in message
