"""Request and response shapes of the EDC API."""

from marshmallow import Schema, fields, validate

from pro_server.edc.models import SCOPES


class EdcClientCreateSchema(Schema):
    study_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True,
                         validate=validate.Length(min=1))


class EdcRevokeSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class EdcClientSchema(Schema):
    """Dumps an `EdcClient`."""

    id = fields.Integer()
    study_code = fields.String(attribute="study.code")
    name = fields.String()
    key_id = fields.String()
    scopes = fields.List(fields.String())
    created_at = fields.DateTime()
    rotated_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)


class EdcClientWithTokenSchema(EdcClientSchema):
    """Dumps an `edc.services.IssuedClient`."""

    token = fields.String(metadata={"description": "Shown once; send as 'Authorization: Bearer'"})


class EdcPageArgsSchema(Schema):
    since = fields.String(load_default=None,
                          metadata={"description": "Opaque cursor from the previous page"})
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class EdcSinceArgsSchema(Schema):
    since = fields.String(load_default=None)


class EdcOdmClinicalArgsSchema(EdcSinceArgsSchema):
    snapshot = fields.Boolean(load_default=False,
                              metadata={"description": "1: a Snapshot of current data"})
