"""A staff user's own account (password, second factor) and the admin's account actions
(unlock, password reset, second factor off, a study's second-factor rule)."""

from flask import session
from flask.views import MethodView

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from pro_server.staff import security
from pro_server.staff.models import StaffUser
from pro_server.staff.schemas import (
    AdminReasonSchema,
    PasswordChangeSchema,
    PasswordResetResultSchema,
    StaffSecuritySchema,
    StudySecuritySchema,
    TotpCodeSchema,
    TotpDisableSchema,
    TotpSetupSchema,
)
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.studies.services import get_study
from pro_server.web import current_request, db_session, unit_of_work

blp = ApiBlueprint("account", __name__, access=STAFF, url_prefix="/api/v1/auth",
                description="Your staff account: password and second factor")
admin_blp = ApiBlueprint("account_admin", __name__, access=STAFF, url_prefix="/api/v1/admin",
                      description="Staff account security (admins)")

# What a user who `must` do something first may still call.
ALLOWED_WHILE_RESTRICTED = frozenset({
    "/api/v1/auth/me", "/api/v1/auth/logout", "/api/v1/auth/csrf", "/api/v1/auth/login",
    "/api/v1/auth/password", "/api/v1/auth/totp", "/api/v1/auth/totp/confirm"})


def enforce_restriction() -> None:
    """Before every API request: a signed-in user who must change the password (or set up
    the required second factor) may do only that."""
    path = current_request().path
    if not path.startswith("/api/") or path in ALLOWED_WHILE_RESTRICTED:
        return
    if "staff" not in session:
        return
    user = current_staff(optional=True)
    if user is None:
        return
    with unit_of_work(staff_actor(user)) as ctx:
        must = security.restriction(ctx, user)
    if must == "change_password":
        raise Forbidden("Change your password first (POST /api/v1/auth/password)")
    if must == "set_up_second_factor":
        raise Forbidden("Set up your second factor first (POST /api/v1/auth/totp)")


@blp.route("/password")
class Password(MethodView):
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, body):
        """Change your password (the current one is asked again); other sessions end."""
        user = current_staff()
        with unit_of_work(staff_actor(user)) as ctx:
            changed = security.change_password(ctx, user, body["current_password"],
                                               body["new_password"])
        if not changed:
            raise Unauthorized("The current password is wrong",
                               {"json": {"current_password": ["Wrong password"]}})
        session["staff"] = {"id": user.id, "v": user.session_version}


@blp.route("/totp")
class Totp(MethodView):
    @blp.response(201, TotpSetupSchema)
    def post(self):
        """Start setting up an authenticator app: a secret and its QR code (SVG). Confirm
        with a first code at /totp/confirm."""
        user = current_staff()
        with unit_of_work(staff_actor(user)) as ctx:
            return security.start_totp(ctx, user)

    @blp.arguments(TotpDisableSchema)
    @blp.response(204)
    def delete(self, body):
        """Turn your second factor off, with your password and a code (not when your
        studies require one)."""
        user = current_staff()
        with unit_of_work(staff_actor(user)) as ctx:
            ok = security.reauthenticate(ctx, user, body["password"], body.get("code"),
                                         "turn off the second factor")
        if not ok:
            raise Unauthorized("The password (or code) is wrong")
        with unit_of_work(staff_actor(user)) as ctx:
            security.disable_totp(ctx, user, body["reason"])


@blp.route("/totp/confirm")
class TotpConfirm(MethodView):
    @blp.arguments(TotpCodeSchema)
    @blp.response(204)
    def post(self, body):
        """The first code from the app: from now on sign-in and signatures ask for one."""
        user = current_staff()
        with unit_of_work(staff_actor(user)) as ctx:
            security.confirm_totp(ctx, user, body["code"])


def _admin_target(user_id: int) -> tuple[StaffUser, StaffUser]:
    admin = current_staff()
    policy.require(admin, policy.Capability.administer)
    user = db_session().get(StaffUser, user_id)
    if user is None:
        raise NotFound("Staff user not found")
    return admin, user


@admin_blp.route("/users/<int:user_id>/security")
class UserSecurity(MethodView):
    @admin_blp.response(200, StaffSecuritySchema)
    def get(self, user_id):
        """Admin: lock state, failures in a row, forced change, second factor."""
        return _admin_target(user_id)[1]


@admin_blp.route("/users/<int:user_id>/unlock")
class Unlock(MethodView):
    @admin_blp.arguments(AdminReasonSchema)
    @admin_blp.response(200, StaffSecuritySchema)
    def post(self, body, user_id):
        """Admin: unlock an account locked by failed attempts (reason required; audited)."""
        admin, user = _admin_target(user_id)
        with unit_of_work(staff_actor(admin)) as ctx:
            security.unlock(ctx, user, body["reason"])
        return user


@admin_blp.route("/users/<int:user_id>/reset-password")
class ResetPassword(MethodView):
    @admin_blp.arguments(AdminReasonSchema)
    @admin_blp.response(200, PasswordResetResultSchema)
    def post(self, body, user_id):
        """Admin: a one-time password, shown once, that must be changed at the next sign-in;
        the user's sessions end and a lock is lifted (audited)."""
        admin, user = _admin_target(user_id)
        if user.id == admin.id:
            raise Forbidden("Change your own password at /api/v1/auth/password")
        with unit_of_work(staff_actor(admin)) as ctx:
            temporary = security.reset_password(ctx, user, body["reason"])
        return {"temporary_password": temporary}


@admin_blp.route("/users/<int:user_id>/second-factor")
class UserSecondFactor(MethodView):
    @admin_blp.arguments(AdminReasonSchema)
    @admin_blp.response(204)
    def delete(self, body, user_id):
        """Admin: remove a user's second factor (a lost device); they set up a new one."""
        admin, user = _admin_target(user_id)
        with unit_of_work(staff_actor(admin)) as ctx:
            security.disable_totp(ctx, user, body["reason"])


@admin_blp.route("/studies/<study_code>/staff-security")
class StudySecurity(MethodView):
    @admin_blp.arguments(StudySecuritySchema)
    @admin_blp.response(200, StudySecuritySchema)
    def put(self, body, study_code):
        """Admin: whether admins and this study's investigators must use a second factor."""
        admin = current_staff()
        policy.require(admin, policy.Capability.administer)
        study = get_study(db_session(), study_code)
        with unit_of_work(staff_actor(admin)) as ctx:
            security.set_second_factor_rule(ctx, study, body["second_factor_required"],
                                            body["reason"])
        return {"second_factor_required": study.staff_second_factor_required,
                "reason": body["reason"]}


def require_signature(user: StaffUser, body: dict | None, meaning: security.Meaning
                      ) -> dict[str, str]:
    """Re-authenticate the signed-in user for one signed act, or 401 (the failure is
    counted and audited first). The client must send the meaning it showed."""
    if not body:
        raise Unauthorized(f'Sign with your password (and code): "{meaning.value}"',
                           {"json": {"signature": ["Required: password, code when set up, "
                                                   "and the meaning shown"]}})
    if body.get("meaning") != meaning.value:
        raise InvalidInput.field("signature", f'Show the signer the meaning "{meaning.value}" '
                                              "and send it as signature.meaning")
    with unit_of_work(staff_actor(user)) as ctx:
        signature = security.sign(ctx, user, body["password"], body.get("code"), meaning)
    if signature is None:
        message = ("This account is locked; ask an admin to unlock it" if user.locked_at
                   else "Signature refused: the password (or code) is wrong")
        raise Unauthorized(message)
    return signature
