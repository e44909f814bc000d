from marshmallow import Schema, fields, validate

from pro_server.staff.models import Role


class LoginSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CsrfSchema(Schema):
    csrf_token = fields.String(required=True)


class SiteRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    timezone = fields.String()


class StaffUserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    sites = fields.List(fields.Nested(SiteRefSchema))
    must_change_password = fields.Boolean()
    csrf_token = fields.String(dump_only=True)
