from marshmallow import Schema, fields, validate

from pro_server.staff.models import Role
from pro_server.validation import about


class LoginSchema(Schema):
    email = fields.Email(required=True, metadata=about(
        "Staff email", "coordinator.gnv@example.org"))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200),
                             metadata=about("Password (failed sign-ins are rate-limited)"))
    code = fields.String(validate=validate.Length(max=10), allow_none=True, metadata=about(
        "The authenticator app's code, for an account with a second factor", "123456"))


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
    must = fields.String(allow_none=True, dump_only=True, metadata=about(
        "change_password or set_up_second_factor: nothing else is allowed until it is done",
        "change_password"))
    second_factor = fields.Boolean(dump_only=True, metadata=about(
        "Whether the account signs in with an authenticator app's code too", False))


REASON = validate.Length(min=3, max=500)


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TotpSetupSchema(Schema):
    secret = fields.String(metadata={"description": "For typing into the app by hand"})
    otpauth_uri = fields.String()
    qr_svg = fields.String(metadata={"description": "The QR code of otpauth_uri, as SVG"})
    qr_data_uri = fields.String(metadata={"description": "The same SVG as a data: URI"})


class TotpCodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^\s*\d{6}\s*$",
                                                                 error="Six digits"))


class TotpDisableSchema(Schema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(allow_none=True, validate=validate.Length(max=10))
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class AdminReasonSchema(Schema):
    reason = fields.String(required=True, validate=REASON)


class PasswordResetResultSchema(Schema):
    temporary_password = fields.String(metadata={
        "description": "Shown once; the user must change it at the next sign-in"})


class StaffSecuritySchema(Schema):
    id = fields.Integer()
    email = fields.String()
    locked_at = fields.DateTime(allow_none=True)
    failed_logins = fields.Integer()
    must_change_password = fields.Boolean()
    second_factor_enabled_at = fields.DateTime(attribute="totp_enabled_at", allow_none=True)


class StudySecuritySchema(Schema):
    second_factor_required = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=REASON)


class SignatureSchema(Schema):
    """Re-authentication for a signed act (21 CFR 11.200): password, and the code when the
    signer has a second factor; `meaning` must be the meaning the signer was shown."""

    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(allow_none=True, validate=validate.Length(max=10))
    meaning = fields.String(required=True, validate=validate.Length(min=1, max=100))
