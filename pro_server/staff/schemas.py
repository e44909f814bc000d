from marshmallow import Schema, fields, validate

from pro_server.staff.models import Role
from pro_server.validation import about


class LoginSchema(Schema):
    email = fields.Email(required=True, metadata=about(
        "Staff email", "coordinator.gnv@example.org"))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200),
                             metadata=about("Password (failed sign-ins are rate-limited)"))


class CsrfSchema(Schema):
    csrf_token = fields.String(required=True, metadata=about(
        "Send as the X-CSRFToken header on every POST, PUT, PATCH and DELETE"))


class SiteRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    timezone = fields.String()


class StaffUserSchema(Schema):
    id = fields.Integer(metadata=about("The staff user's id", 2))
    email = fields.String(metadata=about("Sign-in email", "coordinator.gnv@example.org"))
    name = fields.String(metadata=about("Name shown in the audit trail", "Gina Coordinator"))
    role = fields.Enum(Role, by_value=True, metadata=about(
        "admin, coordinator, investigator or monitor; decides what the user may do",
        "coordinator"))
    sites = fields.List(fields.Nested(SiteRefSchema), metadata=about("The sites the user sees"))
    csrf_token = fields.String(dump_only=True, metadata=about(
        "This session's CSRF token, for the X-CSRFToken header"))
